// ESI includes as sub-requests: each runs through the client state machine as a request of
// its own (req.esi_level one deeper, req_top and PRIV_TOP shared with the top request), on the
// parent's connection, and what it delivers is collected by an IncludeSink in place of a
// socket. The parent's ESI filter reads that body where the include stood.

import type { ServerResponse } from 'node:http';
import type { EsiInclude } from '../filters/esi-parse.ts';
import { resolveInclude } from '../filters/esi-parse.ts';
import type { Body } from '../filters/stage.ts';
import { VclHttp } from '../runtime/http.ts';
import { ClientRequest } from './client.ts';

/**
 * Stands in for the client's response: keeps the status and the body chunks of an include,
 * handed on to the reader as they come. Only what deliver.ts calls on a response is here.
 */
class IncludeSink {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  destroyed = false;
  shouldKeepAlive = true;
  writableEnded = false;
  readonly #queue: Buffer[] = [];
  #wake: (() => void) | null = null;

  writeHead(status: number, reason?: string): this {
    this.statusCode = status;
    this.statusMessage = reason ?? '';
    this.headersSent = true;
    return this;
  }

  write(chunk: Buffer | string): boolean {
    if (chunk.length > 0) this.#queue.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    this.#poke();
    return true;
  }

  end(chunk?: Buffer | string): this {
    if (chunk !== undefined) this.write(chunk);
    this.writableEnded = true;
    this.#poke();
    return this;
  }

  destroy(): this {
    this.destroyed = true;
    this.#poke();
    return this;
  }

  flushHeaders(): void {}

  on(): this {
    return this;
  }

  off(): this {
    return this;
  }

  #poke(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** The body as it is written; ends when the include's response ends (or breaks off). */
  async *body(): AsyncGenerator<Buffer> {
    for (;;) {
      while (this.#queue.length > 0) yield this.#queue.shift()!;
      if (this.writableEnded || this.destroyed) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }
}

/** The request an include starts as: the parent's as it started, aimed at the include's src. */
function includeRequest(parent: ClientRequest, inc: EsiInclude): VclHttp {
  const from = parent.original;
  const req = VclHttp.request('GET', resolveInclude(inc.src, parent.task.req?.url ?? from.url), 'HTTP/1.1');
  for (let i = 0; i < from.count; i++) req.append(from.nameAt(i), from.valueAt(i));
  if (inc.host !== null) req.set('Host', inc.host);
  // No conditionals (a 304 cannot be included), no ranges; the parts are assembled as plain
  // bytes, so the include asks for no gzip.
  for (const h of ['If-Modified-Since', 'If-None-Match', 'Range', 'Accept-Encoding']) req.unset(h);
  return req;
}

/** Runs the includes of a page for one parent request (max_esi_depth, onerror). */
export function includeRunner(parent: ClientRequest): (inc: EsiInclude) => Body {
  return (inc) => runInclude(parent, inc);
}

async function* runInclude(parent: ClientRequest, inc: EsiInclude): AsyncGenerator<Buffer> {
  const srv = parent.srv;
  const p = srv.params.values;
  if (parent.task.esiLevel >= p.max_esi_depth) {
    parent.tx?.log(`ESI depth limit reached (param max_esi_depth = ${p.max_esi_depth})`);
    return;
  }
  const sink = new IncludeSink();
  const child = new ClientRequest(srv, srv.vcls.hold(parent.entry), parent.in, sink as unknown as ServerResponse, null, { parent, req: includeRequest(parent, inc) });
  child.task.sessXid = parent.task.sessXid;
  const running = child.run();
  // deliver.ts counts s_resp_bodybytes for every body it writes; an include's bytes are its
  // parent's, counted when the parent writes them, so they come off here.
  for await (const chunk of sink.body()) {
    srv.counters.s_resp_bodybytes -= chunk.length;
    yield chunk;
  }
  await running;
  const status = sink.statusCode;
  if (p.feature.has('esi_include_onerror') && !inc.continueOnError && status !== 200 && status !== 204) {
    // Without onerror="continue", a failed include ends the page (the client sees it cut).
    throw new Error(`ESI include ${inc.src} failed with status ${status}`);
  }
}
