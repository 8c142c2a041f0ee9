// One request to a backend through its undici Pool: undici's dispatch callbacks turned into a
// promise of the response head (or a failure value) and a streamed body. Nothing here throws
// to the caller: every error becomes a BackendFailure before the head, or a BackendBodyError
// from the body's iterator after it.
//
// The first byte and between bytes timeouts run on native timers here rather than undici's:
// undici's tick about once a second, and VCL asks for timeouts like 200ms. The between bytes
// clock stops while the reader holds the connection paused: only the backend's stalls count.
// first_byte_timeout starts, as in Varnish, once the request is sent, body included: a client
// that uploads slowly is not the backend's delay. While the body goes out, the same length of
// time bounds each wait between two chunks sent, so an upload that stops does not hold the
// backend connection forever.

import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { BackendBody } from './body.ts';
import type { BackendCounters } from './counters.ts';
import {
  BackendBodyError,
  type BackendFailure,
  type BackendFailureKind,
  classifyError,
  errorCode,
  errorMessage,
} from './failure.ts';
import { responseHeadBytes } from './request.ts';

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

export interface DispatchPlan {
  /** The backend's Pool, or a Client for one request. */
  readonly dispatcher: Dispatcher;
  readonly backendName: string;
  readonly method: string;
  readonly path: string;
  readonly headers: string[];
  readonly body: Readable | Uint8Array | null;
  readonly firstByteMs: number;
  readonly betweenBytesMs: number;
  readonly signal: AbortSignal | undefined;
  readonly counters: BackendCounters;
  /** http_resp_hdr_len and http_resp_size: the longest header line and head, in bytes. */
  readonly headLimits?: HeadLimits;
  /** Called right before the request is written on a connection. */
  readonly onSent: () => void;
  /** Called once, when the exchange is over (completed, failed or aborted). */
  readonly onSettled: () => void;
}

export interface HeadLimits {
  readonly lineBytes: number;
  readonly headBytes: number;
}

/**
 * What is wrong with a response head by Varnish's limits, or null. undici hands the lines over
 * parsed (the blanks after a colon dropped), so a line counts as `name: value` and the head as
 * the status line, those lines and their line ends: a few bytes under what came on the wire.
 */
function headTooBig(status: number, reason: string, raw: readonly Buffer[], limits: HeadLimits): string | null {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i].length + 2 + raw[i + 1].length > limits.lineBytes) return `Header line too long (http_resp_hdr_len ${limits.lineBytes}): ${raw[i].toString('latin1')}`;
  }
  const bytes = responseHeadBytes(status, reason, raw);
  return bytes > limits.headBytes ? `Response head too big: ${bytes} bytes (http_resp_size ${limits.headBytes})` : null;
}

export function dispatchFetch(plan: DispatchPlan): Promise<FetchResult> {
  return new Promise((resolve) => {
    new FetchHandler(plan, resolve).start();
  });
}

class FetchHandler implements Dispatcher.DispatchHandler {
  readonly #plan: DispatchPlan;
  readonly #resolve: (r: FetchResult) => void;
  #body: BackendBody | null = null;
  #abort: ((err?: Error) => void) | null = null;
  #settled = false;
  #timer: NodeJS.Timeout | null = null;
  #onSignal = (): void => this.#abortWith(new BackendBodyError('aborted', 'fetch aborted', undefined));

  constructor(plan: DispatchPlan, resolve: (r: FetchResult) => void) {
    this.#plan = plan;
    this.#resolve = resolve;
  }

  start(): void {
    const p = this.#plan;
    if (p.signal?.aborted) {
      this.onError(new BackendBodyError('aborted', 'fetch aborted before it started', undefined));
      return;
    }
    p.signal?.addEventListener('abort', this.#onSignal, { once: true });
    try {
      p.dispatcher.dispatch(
        {
          path: p.path,
          method: p.method as Dispatcher.HttpMethod,
          headers: p.headers,
          body: p.body,
          headersTimeout: 0,
          bodyTimeout: 0,
        },
        this,
      );
    } catch (err) {
      this.onError(err as Error);
    }
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.#settled) {
      // Aborted while it waited in the pool's queue: it must not be sent now.
      abort(new BackendBodyError('aborted', 'fetch aborted', undefined));
      return;
    }
    this.#abort = abort;
    this.#plan.onSent();
    this.#arm('first_byte_timeout', this.#plan.firstByteMs);
  }

  /** The request is written, body and all: the wait for the first byte starts now. */
  onRequestSent(): void {
    if (!this.#body) this.#arm('first_byte_timeout', this.#plan.firstByteMs);
  }

  onHeaders(status: number, raw: Buffer[], resume: () => void, reason: string): boolean {
    if (status < 200) return true; // 1xx informational: the real response follows
    if (status === 204 && bodyOn204(raw)) {
      // Varnish refuses a 204 that announces a body (a zero Content-Length is let pass). The
      // fetch fails now; undici finds the body bytes where no response should be and drops the
      // connection.
      this.#resolve({ ok: false, kind: 'garbage', message: `backend ${this.#plan.backendName}: 204 response with a body`, code: undefined });
      return true;
    }
    const p = this.#plan;
    const tooBig = p.headLimits === undefined ? null : headTooBig(status, reason, raw, p.headLimits);
    if (tooBig !== null) {
      // As Varnish: the fetch fails (503 from vcl_backend_error) and the connection is not reused.
      this.#resolve({ ok: false, kind: 'garbage', message: `backend ${p.backendName}: ${tooBig}`, code: undefined });
      this.#abort?.(new BackendBodyError('aborted', tooBig, undefined));
      return false;
    }
    p.counters.beresp_hdrbytes += responseHeadBytes(status, reason, raw);
    const headers: string[] = new Array(raw.length);
    for (let i = 0; i < raw.length; i++) headers[i] = raw[i].toString('latin1');
    const body = new BackendBody(
      () => {
        this.#arm('between_bytes_timeout', p.betweenBytesMs);
        resume();
      },
      (err) => this.#abortWith(err),
    );
    this.#body = body;
    this.#arm('between_bytes_timeout', p.betweenBytesMs);
    this.#resolve({ ok: true, status, reason, headers, body });
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.#plan.counters.beresp_bodybytes += chunk.length;
    this.#timer?.refresh();
    if (!this.#body || this.#body.push(chunk)) return true;
    this.#disarm(); // paused for the reader: not the backend's stall
    return false;
  }

  onComplete(): void {
    this.#body?.end();
    this.#settle();
  }

  onError(err: Error): void {
    const kind = err instanceof BackendBodyError ? err.kind : classifyError(err);
    const code = errorCode(err);
    const message = `backend ${this.#plan.backendName}: ${describe(kind, err)}`;
    if (this.#body) this.#body.fail(new BackendBodyError(kind, message, code));
    else this.#resolve({ ok: false, kind, message, code });
    this.#settle();
  }

  /** undici reports each chunk of request body it writes (a Buffer, despite its typings). */
  onBodySent(chunk: unknown): void {
    const n = typeof chunk === 'number' ? chunk : typeof chunk === 'string' ? Buffer.byteLength(chunk) : ((chunk as Uint8Array)?.byteLength ?? 0);
    this.#plan.counters.bereq_bodybytes += n;
    // The upload moves: its stall bound starts again (see the header).
    this.#timer?.refresh();
  }

  #abortWith(err: Error): void {
    if (this.#settled) return;
    if (this.#abort) this.#abort(err);
    else this.onError(err);
  }

  #arm(kind: 'first_byte_timeout' | 'between_bytes_timeout', ms: number): void {
    this.#disarm();
    if (ms <= 0 || this.#settled) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      const what = kind === 'first_byte_timeout' ? 'first byte' : 'between bytes';
      this.#abortWith(new BackendBodyError(kind, `${what} timeout (${ms / 1000}s)`, undefined));
    }, ms);
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #settle(): void {
    this.#disarm();
    if (this.#settled) return;
    this.#settled = true;
    this.#plan.signal?.removeEventListener('abort', this.#onSignal);
    this.#plan.onSettled();
  }
}

function describe(kind: BackendFailureKind, err: Error): string {
  switch (kind) {
    case 'refused':
      return 'connection refused';
    case 'connect_timeout':
      return 'connect timeout';
    case 'first_byte_timeout':
      return 'first byte timeout';
    case 'between_bytes_timeout':
      return 'between bytes timeout';
    case 'reset':
      return `connection closed early (${errorMessage(err)})`;
    case 'garbage':
      return `invalid response (${errorMessage(err)})`;
    default:
      return errorMessage(err);
  }
}

/** Whether a 204's headers announce a body: a Content-Length other than 0, or Transfer-Encoding. */
function bodyOn204(raw: Buffer[]): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1').toLowerCase();
    if (name === 'transfer-encoding') return true;
    if (name === 'content-length' && raw[i + 1].toString('latin1').trim() !== '0') return true;
  }
  return false;
}
