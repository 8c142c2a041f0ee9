// A client request's body as the rest of the proxy sees it: whether there is one, and one
// reading of it. A pass streams it to the backend; std.cache_req_body reads it into the task
// (from where retries and later fetches send it again). Once taken it cannot be read again, as
// in Varnish ("Retry not possible, req.body not cached").

export interface RequestBody {
  /** Whether the request's framing announces a body (a length above 0, or chunked). */
  readonly present: boolean;
  /** Whether it has been taken already. */
  readonly taken: boolean;
  /** Takes the body: its bytes as they arrive from the client. Once only. */
  take(): AsyncIterable<Buffer>;
}

/** What the HTTP/1 layer's request offers for its body (src/http1/request.ts). */
interface BodySource {
  readonly hasBody: boolean;
  readonly bodyState: 'unread' | 'reading' | 'done' | 'failed';
  body(): AsyncIterable<Buffer>;
}

/** The request body of a request read by the HTTP/1 layer. */
export function requestBodyOf(req: BodySource): RequestBody {
  return new Http1Body(req);
}

class Http1Body implements RequestBody {
  readonly #req: BodySource;

  constructor(req: BodySource) {
    this.#req = req;
  }

  get present(): boolean {
    return this.#req.hasBody;
  }

  get taken(): boolean {
    return this.#req.hasBody && this.#req.bodyState !== 'unread';
  }

  take(): AsyncIterable<Buffer> {
    return this.#req.body();
  }
}

/** No body at all (an ESI include's request). */
export const NO_BODY: RequestBody = {
  present: false,
  taken: false,
  take: () => noBytes(),
};

async function* noBytes(): AsyncGenerator<Buffer> {}
