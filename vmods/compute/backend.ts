// Program backends: what compute.program() and compute.live_update() return. The fetch calls a
// backend that has its own fetch(request) as it calls an HTTP backend's (src/vmod/api.ts,
// `FetchingBackend`): the answer is a status, flat headers and a body to iterate or
// abort, and a failure is a value that leads to vcl_backend_error. One such backend is made per
// call, holding that fetch's chain and arguments.

import { STATUS_CODES } from 'node:http';
import type { BackendFetchResponse, BackendFetchFailure, FetchingBackend, BackendFetchRequest, VmodContext } from '../../src/vmod/api.ts';
import type { ProgramRequest, RunResult } from './image.ts';
import type { Program } from './program.ts';
import { openStream, type StreamHead } from './streams.ts';

/** One step of a chain: a program and what it is called with. */
export interface ChainLink {
  readonly program: Program;
  readonly arg: string;
  readonly config: string;
  /** A status at or above this ends the chain with that response. */
  readonly errorThreshold: number;
}

const NO_BODY = new Uint8Array(0);

/** A request body bigger than this is refused before any program runs. */
const BODY_MAX = 64 * 1024 * 1024;

/**
 * Runs the chain then the last link: each response body is the next request's body. Stops at
 * the first failure, or at a status at or above a link's threshold. Each run is logged on the
 * task (the transaction record names the program and its timing).
 */
export async function runChain(
  ctx: VmodContext,
  links: readonly ChainLink[],
  base: Omit<ProgramRequest, 'argument' | 'config' | 'stream'>,
  stream = 0,
): Promise<RunResult> {
  let body = base.body;
  let result: RunResult | null = null;
  for (const [i, link] of links.entries()) {
    const started = performance.now();
    // Only the last program may stream: the others' bodies feed the next one whole.
    const request = { ...base, body, argument: link.arg, config: link.config, stream: i === links.length - 1 ? stream : 0 };
    result = await link.program.run(request);
    const wall = (performance.now() - started).toFixed(3);
    for (const line of result.timing.logs) ctx.log(`compute: ${link.program.name}: ${line}`);
    if (!result.ok) {
      ctx.log(`compute: ${link.program.name} failed (${result.kind}) in ${wall} ms: ${result.error}`);
      return result;
    }
    ctx.log(`compute: ${link.program.name} ${result.status} exec ${result.timing.execMs.toFixed(3)} ms, wall ${wall} ms`);
    if (result.status >= link.errorThreshold) return result;
    body = result.body;
  }
  if (result === null) throw new Error('empty chain');
  return result;
}

export function flatHeaders(headers: BackendFetchRequest['headers']): string[] {
  const flat: string[] = [];
  for (const [name, value] of headers) flat.push(name, value);
  return flat;
}

/** The request body whole, or null when it is over `max` bytes. */
export async function readBody(body: BackendFetchRequest['body'], max: number): Promise<Uint8Array | null> {
  if (body === null || body === undefined) return new Uint8Array(0);
  if (body instanceof Uint8Array) return body.length > max ? null : body;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > max) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * A body already whole, read in one chunk: a plain iterator, as an async generator costs the
 * fetch more per response (its own promise queue and resumption).
 */
class WholeBody implements AsyncIterableIterator<Buffer> {
  #chunk: Buffer | null;

  constructor(body: Uint8Array) {
    this.#chunk = body.length === 0 ? null : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Buffer, undefined>> {
    const chunk = this.#chunk;
    this.#chunk = null;
    return Promise.resolve(chunk === null ? { done: true, value: undefined } : { done: false, value: chunk });
  }

  return(): Promise<IteratorResult<Buffer, undefined>> {
    this.#chunk = null;
    return Promise.resolve({ done: true, value: undefined });
  }

  abort(): void {
    this.#chunk = null;
  }

  /** All of it at once (the fetch stores it whole): it was whole from the start. */
  takeComplete(max: number): Buffer[] | null {
    const chunk = this.#chunk;
    if (chunk === null || chunk.length > max) return null;
    this.#chunk = null;
    return [chunk];
  }
}

/** A response made here, with its body already whole. */
export function response(status: number, contentType: string, headers: readonly string[], body: Uint8Array): BackendFetchResponse {
  return {
    ok: true,
    status,
    reason: STATUS_CODES[status] ?? 'Unknown',
    headers: ['Content-Type', contentType, 'Content-Length', String(body.length), ...headers],
    body: new WholeBody(body),
  };
}

function failure(message: string): BackendFetchFailure {
  return { ok: false, kind: 'other', message, code: undefined };
}

/** Shared by both kinds: a backend that is always healthy and resolves to itself. */
abstract class OwnFetchBackend implements FetchingBackend {
  readonly type = 'backend';
  abstract readonly name: string;
  healthy(): boolean {
    return true;
  }
  resolve(): this {
    return this;
  }
  /** What the fetch calls; a throw (a request body that breaks off) is a failed fetch. */
  async fetch(req: BackendFetchRequest): Promise<BackendFetchResponse | BackendFetchFailure> {
    try {
      return await this.answer(req);
    } catch (e) {
      return failure(`${this.name}: ${(e as Error).message}`);
    }
  }
  protected abstract answer(req: BackendFetchRequest): Promise<BackendFetchResponse | BackendFetchFailure>;
}

export class ProgramBackend extends OwnFetchBackend {
  readonly name: string;
  readonly #ctx: VmodContext;
  readonly #links: readonly ChainLink[];

  constructor(ctx: VmodContext, links: readonly ChainLink[]) {
    super();
    this.#ctx = ctx;
    this.#links = links;
    this.name = `compute.${links[links.length - 1].program.name}`;
  }

  protected async answer(req: BackendFetchRequest): Promise<BackendFetchResponse | BackendFetchFailure> {
    // No body (a GET): no await on the way to the program.
    const body = req.body === null || req.body === undefined ? NO_BODY : await readBody(req.body, BODY_MAX);
    if (body === null) return failure(`${this.name}: request body over ${BODY_MAX} bytes`);
    const sink = openStream();
    const running = runChain(this.#ctx, this.#links, { method: req.method, url: req.url, headers: flatHeaders(req.headers), body }, sink.id);
    // A streamed head comes before the run ends; the result of a buffered run comes alone.
    // One promise for whichever comes first (Promise.race would cost two more per request).
    const first = await new Promise<RunResult | StreamHead>((resolve, reject) => {
      sink.onHead = resolve;
      running.then(resolve, reject);
    });
    sink.onHead = null;
    if (sink.head === null) {
      const r = first as RunResult;
      // A result before any head: buffered, or a failure before the program began a response.
      if (!r.ok || r.streamed < 0) {
        sink.close();
        if (!r.ok) return failure(`${this.name}: ${r.error}`);
        return response(r.status, r.contentType, r.headers, r.body);
      }
    }
    // Streaming: the body follows the chunks until the result says how many there were.
    running.then(
      (r) => (r.ok ? sink.finish(r.streamed) : sink.fail(`${this.name}: ${r.error}`)),
      (e: Error) => sink.fail(`${this.name}: ${e.message}`),
    );
    // The result may overtake the head (they come on different channels): it comes next.
    const head = sink.head ?? (await new Promise<StreamHead>((resolve) => (sink.onHead = resolve)));
    return {
      ok: true,
      status: head.status,
      reason: STATUS_CODES[head.status] ?? 'Unknown',
      headers: ['Content-Type', head.contentType, ...head.headers],
      body: sink,
    };
  }
}

/** compute.live_update(): the POSTed body becomes the program's new version. */
export class LiveUpdateBackend extends OwnFetchBackend {
  readonly name: string;
  readonly #program: Program;
  readonly #key: string;
  readonly #maxSize: number;
  readonly #onRefused: () => void;

  constructor(program: Program, key: string, maxSize: number, onRefused: () => void) {
    super();
    this.name = `compute.live_update.${program.name}`;
    this.#program = program;
    this.#key = key;
    this.#maxSize = maxSize;
    this.#onRefused = onRefused;
  }

  protected async answer(req: BackendFetchRequest): Promise<BackendFetchResponse | BackendFetchFailure> {
    const text = (status: number, message: string) => {
      if (status !== 200) this.#onRefused();
      return response(status, 'text/plain', [], new TextEncoder().encode(`${message}\n`));
    };
    const expected = this.#program.def.key;
    if (expected === '' || this.#key !== expected) return text(403, `Live update of ${this.#program.name} refused: wrong key`);
    const body = await readBody(req.body, this.#maxSize);
    if (body === null) return text(413, `Live update of ${this.#program.name} refused: more than ${this.#maxSize} bytes`);
    if (body.length === 0) return text(400, `Live update of ${this.#program.name} refused: no program in the body`);
    try {
      await this.#program.replace(body);
    } catch (e) {
      return text(400, `Live update of ${this.#program.name} failed, the old program goes on: ${(e as Error).message}`);
    }
    return text(200, `Update successful: ${this.#program.name}`);
  }
}
