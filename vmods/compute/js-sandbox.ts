// A JavaScript program's sandbox, in a worker thread: a V8 isolate (isolated-vm) with its own
// heap limit (max_memory). The program's source and its initialisation run once into a V8
// startup snapshot; every context made from that isolate starts from it. An ephemeral program
// gets a fresh context per request (made ahead, after the previous request, so the request
// does not wait for it); a persistent one keeps one context. docs/compute.md says why
// isolated-vm rather than QuickJS compiled to WebAssembly.

import { createRequire } from 'node:module';
import type Ivm from 'isolated-vm';
import { type HostCall, STOP_MARGIN_MS } from './host.ts';
import type { ProgramImage, ProgramRequest } from './image.ts';

/** V8 refuses isolates under 8 MB. */
const MIN_HEAP_MB = 8;

// The program sees `shellac.log`, `shellac.selfRequest` and `shellac.env`; the host functions
// behind them are set in each context (they do nothing during the snapshot's initialisation,
// which runs without a host). handle() may return a body as a string or a Uint8Array.
const PRELUDE = `
if (typeof TextDecoder === 'undefined') {
  // A bare V8 context has no encoding API: UTF-8 by escape/unescape (Annex B), enough for bodies.
  globalThis.TextDecoder = function () {};
  TextDecoder.prototype.decode = function (bytes) {
    if (!bytes) return '';
    var s = '';
    for (var i = 0; i < bytes.length; i += 8192) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
    try { return decodeURIComponent(escape(s)); } catch (e) { return s; }
  };
  globalThis.TextEncoder = function () {};
  TextEncoder.prototype.encode = function (text) {
    var s = unescape(encodeURIComponent(String(text)));
    var out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  };
}
globalThis.shellac = {
  log: function (m) {
    if (typeof __shellac_host_log === 'function') __shellac_host_log(String(m));
  },
  beginResponse: function (status, contentType, headers) {
    if (typeof __shellac_host_begin !== 'function') throw new Error('no response during initialisation');
    var flat = [];
    for (var k in headers || {}) flat.push(String(k), String(headers[k]));
    __shellac_host_begin(Number(status), String(contentType), flat);
  },
  sendChunk: function (chunk) {
    __shellac_host_chunk(typeof chunk === 'string' ? new TextEncoder().encode(chunk) : chunk);
  },
  selfRequest: function (url) {
    if (typeof __shellac_host_self !== 'function') throw new Error('self-requests are not available during initialisation');
    var r = __shellac_host_self(String(url));
    return { status: r[0], body: r[1], text: function () { return new TextDecoder().decode(r[1]); } };
  },
};
`;

const CALL = `
const r = handle($0);
if (__shellac_begun()) return null;
if (r === null || typeof r !== 'object') throw new Error('handle() must return an object');
let body = r.body === undefined || r.body === null ? '' : r.body;
if (typeof body === 'string') body = new TextEncoder().encode(body);
else if (!(body instanceof Uint8Array)) throw new Error('the response body must be a string or a Uint8Array');
const headers = [];
for (const [k, v] of Object.entries(r.headers ?? {})) headers.push(String(k), String(v));
return { status: r.status ?? 200, contentType: String(r.contentType ?? 'text/plain'), headers, body };
`;

/**
 * isolated-vm, loaded by the first JS sandbox of a thread: a thread that only ever runs
 * WebAssembly never loads the addon, and may be terminated (sandbox-thread.ts, end()).
 */
let ivm: typeof Ivm;

function loadIsolatedVm(): void {
  ivm ??= createRequire(import.meta.url)('isolated-vm') as typeof Ivm;
}

/**
 * Runs a program's code and initialisation once in a throwaway isolate, under max_request_time
 * and max_memory: createSnapshot has neither, and an initialisation that never ends would hold
 * its thread for ever (a thread with an isolate is never ended from outside). One that does
 * not finish in time fails the sandbox, as a request past its time fails.
 */
function trialRun(scripts: readonly { code: string; filename: string }[], timeoutMs: number, memoryMb: number): void {
  const isolate = new ivm.Isolate({ memoryLimit: memoryMb });
  try {
    const context = isolate.createContextSync();
    const started = performance.now();
    for (const { code, filename } of scripts) {
      const left = Math.max(1, Math.floor(timeoutMs - (performance.now() - started)));
      isolate.compileScriptSync(code, { filename }).runSync(context, { timeout: left });
    }
  } catch (e) {
    if (e instanceof Error && /timed out/i.test(e.message)) throw new Error(`the initialisation did not end within max_request_time (${timeoutMs} ms)`);
    throw e;
  } finally {
    if (!isolate.isDisposed) isolate.dispose();
  }
}

/** Thrown when isolated-vm stopped a run at its timeout. */
export class JsTimeoutError extends Error {}

export class JsSandbox {
  readonly #image: ProgramImage;
  readonly #snapshot: Ivm.ExternalCopy<ArrayBuffer>;
  #isolate!: Ivm.Isolate;
  #context: Ivm.Context | null = null;
  #call: HostCall | null = null;
  dirty = false;

  constructor(image: ProgramImage) {
    this.#image = image;
    const source = new TextDecoder().decode(image.code);
    const init = [
      `if (typeof handle !== 'function') throw new Error('the program defines no handle() function');`,
      `globalThis.shellac.env = ${JSON.stringify(image.environment)};`,
      `if (typeof init === 'function') init(${JSON.stringify(image.arguments)}, ${JSON.stringify(image.environment)});`,
      image.state !== null ? `if (typeof restoreState === 'function') restoreState(${JSON.stringify(new TextDecoder().decode(image.state))});` : '',
    ].join('\n');
    loadIsolatedVm();
    const scripts = [
      { code: PRELUDE, filename: 'shellac:prelude' },
      { code: source, filename: `program:${image.id}` },
      { code: init, filename: 'shellac:init' },
    ];
    trialRun(scripts, image.maxRequestMs, Math.max(MIN_HEAP_MB, image.maxMemoryMb));
    this.#snapshot = ivm.Isolate.createSnapshot(scripts);
    this.#newIsolate();
  }

  get memoryBytes(): number {
    if (this.#isolate.isDisposed) return 0;
    const h = this.#isolate.getHeapStatisticsSync();
    return h.used_heap_size + h.externally_allocated_size;
  }

  run(req: ProgramRequest, call: HostCall): void {
    this.dirty = true;
    const context = this.#ready();
    const limitMs = Math.max(1, this.#image.maxRequestMs - STOP_MARGIN_MS);
    const started = performance.now();
    this.#call = call;
    try {
      const r = context.evalClosureSync(
        CALL,
        [{ method: req.method, url: req.url, argument: req.argument, config: req.config, headers: pairs(req.headers), body: req.body }],
        // Stopped inside the isolate a little before max_request_time: its thread answers and
        // lives on. Ending the thread from outside while it holds an isolate can abort the
        // process (isolated-vm's own assertion); host calls that wait give up at the same time.
        { arguments: { copy: true }, result: { copy: true }, timeout: limitMs },
      ) as { status: number; contentType: string; headers: string[]; body: Uint8Array } | null;
      // null: the program streamed its response with shellac.beginResponse and sendChunk.
      if (r !== null) {
        for (let i = 0; i + 1 < r.headers.length; i += 2) call.addHeader(r.headers[i], r.headers[i + 1]);
        call.respond(r.status, r.contentType, r.body);
      }
    } catch (e) {
      // isolated-vm's timeout: its message, once the limit has passed (a program's own error
      // that says "timed out" earlier is the program's failure, not a timeout).
      if (call.expired || (e instanceof Error && /timed out/i.test(e.message) && performance.now() - started >= limitMs && !this.#isolate.isDisposed)) throw new JsTimeoutError(`stopped after ${this.#image.maxRequestMs} ms (max_request_time)`);
      if (this.#isolate.isDisposed) {
        this.#newIsolate();
        throw new JsMemoryError(`the isolate ran out of its ${this.#image.maxMemoryMb} MB heap`);
      }
      throw e;
    } finally {
      this.#call = null;
    }
  }

  saveState(call: HostCall): void {
    const s = this.#ready().evalSync(`typeof saveState === 'function' ? String(saveState()) : null`);
    if (typeof s === 'string') call.state = new TextEncoder().encode(s);
  }

  /** Frees the isolate: before its thread ends (sandbox-thread.ts asks an idle one to). */
  dispose(): void {
    this.#context?.release();
    this.#context = null;
    if (!this.#isolate.isDisposed) this.#isolate.dispose();
    this.#snapshot.release();
  }

  /** A fresh context from the snapshot, made now rather than when the next request comes. */
  reset(): void {
    this.#context?.release();
    this.#context = null;
    this.#ready();
    this.dirty = false;
  }

  #newIsolate(): void {
    this.#isolate = new ivm.Isolate({ snapshot: this.#snapshot, memoryLimit: Math.max(MIN_HEAP_MB, this.#image.maxMemoryMb) });
    this.#context = null;
  }

  #ready(): Ivm.Context {
    if (this.#context !== null) return this.#context;
    const context = this.#isolate.createContextSync();
    const g = context.global;
    g.setSync('__shellac_host_log', new ivm.Callback((m: string) => this.#host().log(m)));
    g.setSync(
      '__shellac_host_begin',
      new ivm.Callback((status: number, contentType: string, headers: string[]) => {
        const host = this.#host();
        for (let i = 0; i + 1 < headers.length; i += 2) host.addHeader(headers[i], headers[i + 1]);
        host.begin(status, contentType);
      }),
    );
    // Only bytes cross: anything else the program hands over is refused, never allocated.
    g.setSync(
      '__shellac_host_chunk',
      new ivm.Callback((chunk: unknown) => this.#host().chunk(ArrayBuffer.isView(chunk) ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength) : (null as never))),
    );
    g.setSync('__shellac_begun', new ivm.Callback(() => this.#host().begun));
    g.setSync(
      '__shellac_host_self',
      new ivm.Callback((url: string) => {
        const host = this.#host();
        const status = host.selfRequest(url);
        return new ivm.ExternalCopy([status, host.selfBody]).copyInto();
      }),
    );
    this.#context = context;
    return context;
  }

  #host(): HostCall {
    if (this.#call === null) throw new Error('host called outside a request');
    return this.#call;
  }
}

function pairs(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i].toLowerCase()] ??= flat[i + 1];
  return out;
}

export class JsMemoryError extends Error {
  override readonly name = 'JsMemoryError';
}
