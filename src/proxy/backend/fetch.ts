// One request to a backend on one connection, as Varnish's HTTP/1 fetch does it
// (cache_http1_fetch.c): write the request (head, then the body with back-pressure), read the
// response head (response-head.ts), then stream the body into a BackendBody. Nothing here
// throws to the caller: every error becomes a BackendFailure before the head, or a
// BackendBodyError from the body's iterator after it.
//
// Timeouts: first_byte_timeout starts once the request is sent, body included (a client that
// uploads slowly is not the backend's delay); while the body goes out, the same length of time
// bounds each wait between two chunks sent, so an upload that stops does not hold the backend
// connection forever. between_bytes_timeout bounds each wait for body bytes; it does not run
// while the consumer holds the body back.
//
// The connection goes back to the pool only when the exchange ended clean, neither side said
// `Connection: close` (bereq as sent, the response as received, then beresp as VCL left it:
// see body.ts) and the response was not HTTP/1.0 without keep-alive or read to the close.

import { channel } from 'node:diagnostics_channel';
import type { Readable } from 'node:stream';
import { readBody } from '../../http1/body.ts';
import { scanHead } from '../../http1/head.ts';
import { writeAtTurnEnd } from '../../http1/turn-writes.ts';
import { BackendBody, type BodyOwner } from './body.ts';
import type { BackendConnection } from './connection.ts';
import type { BackendCounters } from './counters.ts';
import { BackendBodyError, type BackendFailure, type BackendFailureKind } from './failure.ts';
import { requestHead, saysClose } from './request.ts';
import { parseResponseHead, type ResponseFraming } from './response-head.ts';

export interface BackendResponse {
  readonly ok: true;
  readonly status: number;
  readonly reason: string;
  /** Flat name, value, name, value... in arrival order, repeated names kept. */
  readonly headers: string[];
  /** The body; read it to its end or abort() it, or the connection stays taken. */
  readonly body: BackendBody;
}

export type FetchResult = BackendResponse | BackendFailure;

export interface HeadLimits {
  /** http_resp_hdr_len: the longest header line. */
  readonly lineBytes: number;
  /** http_resp_size: the largest head, status line to blank line. */
  readonly headBytes: number;
}

/**
 * Announces each request head written, with its socket, for the transaction log's BackendOpen
 * line (src/proxy/fetch-connection.ts): `{ headers: string, socket: Socket }`.
 */
export const SEND_HEADERS_CHANNEL = 'shellac:backend:sendHeaders';
const sendHeaders = channel(SEND_HEADERS_CHANNEL);

export interface ExchangePlan {
  readonly backendName: string;
  readonly method: string;
  readonly url: string;
  readonly proto: string;
  /** Prepared headers (request.ts), flat. */
  readonly headers: string[];
  readonly body: Readable | Uint8Array | null;
  readonly firstByteMs: number;
  readonly betweenBytesMs: number;
  readonly signal: AbortSignal | undefined;
  readonly counters: BackendCounters;
  readonly headLimits: HeadLimits;
  /** Called once, when the exchange is over: whether the connection may carry another request. */
  readonly onDone: (conn: BackendConnection, reusable: boolean) => void;
}

export interface ExchangeResult {
  readonly result: FetchResult;
  /** It failed on a reused connection before any response byte: worth one more try on a new one. */
  readonly retryable: boolean;
}

export function runExchange(plan: ExchangePlan, conn: BackendConnection): Promise<ExchangeResult> {
  return new Exchange(plan, conn).run();
}

class Exchange implements BodyOwner {
  readonly #plan: ExchangePlan;
  readonly #conn: BackendConnection;
  /** The whole response is in: the connection holds nothing of it any more. */
  #complete = false;
  #decided = false;
  #readerDone = false;
  /** Whether the connection must close after this exchange, by what either side said. */
  #close = false;
  #over = false;
  #onSignal = (): void => this.#conn.destroy({ kind: 'aborted', message: 'fetch aborted', code: undefined });

  constructor(plan: ExchangePlan, conn: BackendConnection) {
    this.#plan = plan;
    this.#conn = conn;
  }

  async run(): Promise<ExchangeResult> {
    const p = this.#plan;
    const conn = this.#conn;
    if (p.signal?.aborted) return this.#failed('aborted', 'fetch aborted before it started', undefined, false);
    p.signal?.addEventListener('abort', this.#onSignal, { once: true });
    conn.requests++;
    const receivedBefore = conn.received;
    this.#close = saysClose(p.headers);
    await this.#send();
    // Read even when the connection failed while sending: the backend may have answered first.
    const response = await this.#readHead();
    if (response === null) {
      // Nothing came back: a kept-alive connection the backend had closed is worth a new try.
      const f = conn.fault ?? { kind: 'reset' as const, message: 'connection lost', code: undefined };
      const retryable = conn.requests > 1 && conn.received === receivedBefore && f.kind === 'reset';
      return this.#failed(f.kind, f.message, f.code, retryable);
    }
    if (typeof response === 'string') return this.#failed('garbage', response, undefined, false);
    return { result: response, retryable: false };
  }

  // BodyOwner: what the body's consumer and the fetch say.
  abort(err: BackendBodyError): void {
    this.#conn.destroy({ kind: 'aborted', message: err.message, code: undefined });
    this.#end(false);
  }

  readerDone(): void {
    this.#readerDone = true;
    this.#finish();
  }

  decide(close: boolean): void {
    this.#decided = true;
    if (close) this.#close = true;
    this.#finish();
  }

  /** Writes the request: the head, then the body, waiting for the socket to drain. */
  async #send(): Promise<void> {
    const p = this.#plan;
    const conn = this.#conn;
    const socket = conn.socket;
    const body = p.body;
    const stream = body !== null && !(body instanceof Uint8Array);
    const chunked = stream && !p.headers.some((h, i) => i % 2 === 0 && h.toLowerCase() === 'content-length');
    const framing = body instanceof Uint8Array ? lengthLine(p.method, body.length) : chunked ? 'Transfer-Encoding: chunked\r\n' : body === null ? lengthLine(p.method, 0) : '';
    const head = requestHead(p.method, p.url, p.proto, p.headers, framing);
    if (sendHeaders.hasSubscribers) sendHeaders.publish({ headers: head, socket });
    if (!stream) {
      const bytes = Buffer.from(head, 'latin1');
      // With the other writes of this turn (turn-writes.ts): the backend is woken once for them.
      writeAtTurnEnd(conn, body === null || body.length === 0 ? bytes : Buffer.concat([bytes, body]));
      p.counters.bereq_bodybytes += body?.length ?? 0;
      return;
    }
    socket.write(head, 'latin1');
    // An upload that stalls longer than first_byte_timeout between two chunks ends the fetch.
    const stall = p.firstByteMs > 0 ? setTimeout(() => {
      conn.destroy({ kind: 'first_byte_timeout', message: `first byte timeout (${p.firstByteMs / 1000}s) while sending the body`, code: undefined });
      body.destroy();
    }, p.firstByteMs) : null;
    try {
      for await (const chunk of body as AsyncIterable<Buffer | string>) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        if (bytes.length === 0) continue;
        stall?.refresh();
        if (conn.fault !== null) break;
        p.counters.bereq_bodybytes += bytes.length;
        const ok = chunked ? socket.write(`${bytes.length.toString(16)}\r\n`) && socket.write(bytes) && socket.write('\r\n') : socket.write(bytes);
        if (!ok) await drained(conn);
      }
      if (chunked && conn.fault === null) socket.write('0\r\n\r\n');
    } catch (err) {
      // The request body broke off (its client went away): the backend cannot be answered.
      if (conn.fault === null) conn.destroy({ kind: 'aborted', message: `request body failed: ${(err as Error).message}`, code: undefined });
    } finally {
      if (stall !== null) clearTimeout(stall);
    }
  }

  /** Reads the response head (past any 1xx); null when the connection failed, a string when the head is refused. */
  async #readHead(): Promise<BackendResponse | string | null> {
    const p = this.#plan;
    const conn = this.#conn;
    conn.waitKind = 'first_byte_timeout';
    conn.waitMs = p.firstByteMs;
    for (;;) {
      const buf = conn.buf;
      const scan = scanHead(buf.bytes, buf.start, buf.end, p.headLimits.headBytes);
      if (scan.kind === 'overflow') return `Response head too big (http_resp_size ${p.headLimits.headBytes})`;
      if (scan.kind !== 'complete') {
        if (!(await conn.more())) return null;
        continue;
      }
      p.counters.beresp_hdrbytes += scan.end - scan.start;
      const parsed = parseResponseHead(buf.bytes, scan.start, scan.end, p.headLimits.lineBytes, p.method === 'HEAD');
      conn.take(scan.end - buf.start);
      if (!parsed.ok) return parsed.reason;
      const h = parsed.head;
      if (h.status < 200) continue; // 1xx informational: the real response follows
      if (h.close) this.#close = true;
      const body = new BackendBody(this);
      const framing = h.framing;
      if (framing.kind === 'none') {
        this.#complete = true;
        body.end();
      } else if (framing.kind === 'length' && framing.length > 0 && buf.size >= framing.length) {
        // The whole body came with the head (a small response): it is taken now, with no
        // reader loop, and the fetch finds it complete (see BackendBody.takeComplete).
        const n = framing.length;
        const piece = buf.peek().subarray(0, n);
        conn.take(n);
        p.counters.beresp_bodybytes += n;
        body.push(piece);
        this.#bodyEnded(body);
      } else {
        void this.#pump(body, framing);
      }
      return { ok: true, status: h.status, reason: h.reason, headers: h.headers, body };
    }
  }

  /** Moves the body from the connection into the BackendBody, as fast as its consumer takes it. */
  async #pump(body: BackendBody, framing: Exclude<ResponseFraming, { kind: 'none' }>): Promise<void> {
    const p = this.#plan;
    const conn = this.#conn;
    conn.waitKind = 'between_bytes_timeout';
    conn.waitMs = p.betweenBytesMs;
    try {
      const pieces = framing.kind === 'eof' ? readToClose(conn) : readBody(conn, framing);
      for await (const piece of pieces) {
        if (body.stopped) return;
        p.counters.beresp_bodybytes += piece.length;
        if (!body.push(piece)) await body.room();
      }
    } catch (err) {
      const f = conn.fault;
      const kind = f?.kind ?? 'garbage';
      const message = `backend ${p.backendName}: ${describe(kind, f?.message ?? (err as Error).message)}`;
      body.fail(new BackendBodyError(kind, message, f?.code));
      this.#end(false);
      return;
    }
    if (body.stopped) return;
    this.#bodyEnded(body);
  }

  #bodyEnded(body: BackendBody): void {
    this.#complete = true;
    // Back to the pool before the consumer sees the end, as Varnish recycles it before the
    // object is finished: a request that follows at once finds it free.
    this.#finish();
    body.end();
  }

  #finish(): void {
    if (this.#complete && (this.#decided || this.#readerDone)) this.#end(!this.#close);
  }

  #end(reusable: boolean): void {
    if (this.#over) return;
    this.#over = true;
    this.#plan.signal?.removeEventListener('abort', this.#onSignal);
    const ok = reusable && this.#conn.usable;
    if (!ok) this.#conn.destroy();
    this.#plan.onDone(this.#conn, ok);
  }

  #failed(kind: BackendFailureKind, message: string, code: string | undefined, retryable: boolean): ExchangeResult {
    this.#end(false);
    return { result: { ok: false, kind, message: `backend ${this.#plan.backendName}: ${describe(kind, message)}`, code }, retryable };
  }
}

/**
 * Content-Length for a body of known size. With none, a method that carries a body still says
 * 0, as undici did before this client.
 */
function lengthLine(method: string, length: number): string {
  return length > 0 || method === 'POST' || method === 'PUT' || method === 'PATCH' ? `Content-Length: ${length}\r\n` : '';
}

/** Resolves when the socket can take more, or the connection failed. */
function drained(conn: BackendConnection): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      conn.socket.off('drain', done);
      conn.socket.off('close', done);
      resolve();
    };
    conn.socket.on('drain', done);
    conn.socket.on('close', done);
  });
}

/** A body without length: everything until the backend closes. */
async function* readToClose(conn: BackendConnection): AsyncGenerator<Buffer> {
  for (;;) {
    const buf = conn.peek();
    if (buf.length > 0) {
      conn.take(buf.length);
      yield buf;
      continue;
    }
    if (!(await conn.more())) {
      if (conn.ended) return;
      throw new Error(conn.fault?.message ?? 'connection lost');
    }
  }
}

function describe(kind: BackendFailureKind, message: string): string {
  switch (kind) {
    case 'first_byte_timeout':
      return 'first byte timeout';
    case 'between_bytes_timeout':
      return 'between bytes timeout';
    case 'reset':
      return `connection closed early (${message})`;
    case 'garbage':
      return `invalid response (${message})`;
    default:
      return message;
  }
}
