// ESI includes as sub-requests: each runs through the client state machine as a request of
// its own (req.esi_level one deeper, req_top and PRIV_TOP shared with the top request), on the
// parent's connection, and what it delivers is collected by an IncludeSink in place of a
// socket. The parent's ESI filter reads that body where the include stood.

import type { IncludeBody, IncludeRunner } from '../filters/esi-deliver.ts';
import type { EsiInclude } from '../filters/esi-parse.ts';
import { resolveInclude } from '../filters/esi-parse.ts';
import { type Piece, storedPiece } from '../filters/gzip-pieces.ts';
import { VclHttp } from '../runtime/http.ts';
import { ClientRequest } from './client.ts';
import type { ClientResponse } from './client-response.ts';
import type { Shellac } from './server.ts';

/**
 * Stands in for the client's response: keeps the status and the body of an include, handed on
 * to the reader as it comes. Only what deliver.ts calls on a response is here. In a gzip page
 * (`pieces`), the include's delivery hands gzip pieces to piece(); bytes written plainly (a
 * synthetic answer, a body without filters) become stored blocks.
 */
export class IncludeSink implements ClientResponse {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  destroyed = false;
  finished = false;
  close = false;
  readonly pieces: boolean;
  readonly #srv: Shellac;
  readonly #queue: (Buffer | Piece)[] = [];
  #wake: (() => void) | null = null;

  constructor(srv: Shellac, pieces: boolean) {
    this.#srv = srv;
    this.pieces = pieces;
  }

  writeHead(status: number, reason: string): void {
    this.statusCode = status;
    this.statusMessage = reason;
    this.headersSent = true;
  }

  /** An include's head goes nowhere: its parent's head is the client's. */
  flushHead(): void {}

  write(chunk: Uint8Array | string): boolean {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (bytes.length > 0) {
      // deliver.ts counted these as sent to the client; they are the parent's, counted when
      // the parent writes them.
      this.#srv.counters.s_resp_bodybytes -= bytes.length;
      this.#queue.push(this.pieces ? storedPiece(bytes) : bytes);
    }
    this.#poke();
    return true;
  }

  /** A gzip piece of the include (only in a gzip page). */
  piece(p: Piece): void {
    this.#queue.push(p);
    this.#poke();
  }

  end(chunk?: Uint8Array | string): void {
    if (this.finished) return;
    if (chunk !== undefined) this.write(chunk);
    this.finished = true;
    this.#poke();
  }

  endAll(chunks: readonly Uint8Array[]): void {
    for (const c of chunks) this.write(c);
    this.end();
  }

  destroy(): void {
    this.destroyed = true;
    this.finished = true;
    this.#poke();
  }

  /** The parent reads the queue at its own pace: never full. */
  drained(): Promise<void> {
    return Promise.resolve();
  }

  #poke(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** Everything queued so far, taken off the queue (an include that finished at once). */
  takeAll(): (Buffer | Piece)[] {
    return this.#queue.splice(0);
  }

  /** What the include delivers, as it comes; ends when its response ends (or breaks off). */
  async *body(): AsyncGenerator<Buffer | Piece> {
    for (;;) {
      while (this.#queue.length > 0) yield this.#queue.shift()!;
      if (this.finished || this.destroyed) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }
}

/**
 * The request an include starts as (Varnish's ved_include): the parent's as it started, aimed
 * at the include's src, a GET without conditions or ranges, asking for gzip only when its
 * bytes go into a gzip page.
 */
function includeRequest(parent: ClientRequest, inc: EsiInclude, gzip: boolean): VclHttp {
  const req = includeBase(parent).clone();
  req.url = resolveInclude(inc.src, parent.task.req?.url ?? req.url);
  if (inc.host !== null) req.set('Host', inc.host);
  if (gzip) req.set('Accept-Encoding', 'gzip');
  else req.unset('Accept-Encoding');
  return req;
}

/** Per parent: the request its includes start from, made once for all of a page's includes. */
const INCLUDE_BASES = new WeakMap<ClientRequest, VclHttp>();

function includeBase(parent: ClientRequest): VclHttp {
  let base = INCLUDE_BASES.get(parent);
  if (base === undefined) {
    const from = parent.original;
    base = VclHttp.request('GET', from.url, 'HTTP/1.1');
    for (let i = 0; i < from.count; i++) base.append(from.nameAt(i), from.valueAt(i));
    for (const h of ['If-Modified-Since', 'If-None-Match', 'Range']) base.unset(h);
    INCLUDE_BASES.set(parent, base);
  }
  return base;
}

/** Runs the includes of a page for one parent request (max_esi_depth, onerror). */
export function includeRunner(parent: ClientRequest): IncludeRunner {
  return (inc, pieces) => runInclude(parent, inc, pieces);
}

/**
 * Runs one include. An include answered in the same turn (a hit, as a rule) gives its parts as
 * an array: the page's walk takes them without the promise turns of a generator over the sink
 * (bench/proxy's ESI page: ten cached fragments, each several such turns).
 */
function runInclude(parent: ClientRequest, inc: EsiInclude, pieces: boolean): IncludeBody {
  const srv = parent.srv;
  const p = srv.params.values;
  if (parent.task.esiLevel >= p.max_esi_depth) {
    parent.tx?.log(`ESI depth limit reached (param max_esi_depth = ${p.max_esi_depth})`);
    return [];
  }
  const sink = new IncludeSink(srv, pieces);
  const req = includeRequest(parent, inc, pieces);
  const child = new ClientRequest(srv, srv.vcls.hold(parent.entry), parent.in, { parent, req, sink });
  child.task.sessXid = parent.task.sessXid;
  const running = child.run();
  if (running === undefined && sink.finished) {
    const parts = sink.takeAll();
    const failure = includeFailure(parent, inc, sink.statusCode);
    return failure === null ? parts : thenFail(parts, failure);
  }
  return (async function* () {
    yield* sink.body();
    await running;
    const failure = includeFailure(parent, inc, sink.statusCode);
    if (failure !== null) throw failure;
  })();
}

/** Without onerror="continue", a failed include ends the page (the client sees it cut). */
function includeFailure(parent: ClientRequest, inc: EsiInclude, status: number): Error | null {
  if (!parent.srv.params.values.feature.has('esi_include_onerror') || inc.continueOnError || status === 200 || status === 204) return null;
  return new Error(`ESI include ${inc.src} failed with status ${status}`);
}

/** The parts, then the failure: where the page ends, as for an include that ran later. */
async function* thenFail(parts: readonly (Buffer | Piece)[], failure: Error): AsyncGenerator<Buffer | Piece> {
  yield* parts;
  throw failure;
}
