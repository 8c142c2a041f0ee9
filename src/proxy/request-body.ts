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

/** A body read from a stream (node:http's request) once. */
export class StreamRequestBody implements RequestBody {
  readonly present: boolean;
  #taken = false;
  readonly #source: AsyncIterable<Buffer>;

  constructor(source: AsyncIterable<Buffer>, present: boolean) {
    this.#source = source;
    this.present = present;
  }

  get taken(): boolean {
    return this.#taken;
  }

  take(): AsyncIterable<Buffer> {
    if (this.#taken) throw new Error('request body taken twice');
    this.#taken = true;
    return this.#source;
  }
}
