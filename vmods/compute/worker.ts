// The worker-thread side of compute: piscina runs these functions in the threads of a
// program's pool (one thread per concurrency slot). Each thread keeps one sandbox per program
// and version; an ephemeral one is reset after the answer is sent, or at the start of the next
// request if that comes first. A thread piscina ends (a request past max_request_time) takes
// its sandboxes with it: the next request builds a fresh one.

import { threadId } from 'node:worker_threads';
import { HostCall } from './host.ts';
import type { FailureKind, ProgramImage, ProgramRequest, RunResult, RunTiming } from './image.ts';
import { JsMemoryError, JsSandbox } from './js-sandbox.ts';
import { MemoryLimitError, prepareWasm, WasmSandbox } from './wasm-sandbox.ts';

type Sandbox = WasmSandbox | JsSandbox;

const sandboxes = new Map<string, { version: number; sandbox: Sandbox; image: ProgramImage }>();
let resetsSinceReport = 0;

function sandboxFor(image: ProgramImage): Sandbox {
  const have = sandboxes.get(image.id);
  if (have !== undefined && have.version === image.version) return have.sandbox;
  const sandbox = image.kind === 'wasm' ? new WasmSandbox(image, new HostCall(image)) : new JsSandbox(image);
  sandboxes.set(image.id, { version: image.version, sandbox, image });
  return sandbox;
}

/**
 * What a request names its program by: the whole image, or (the usual case, so that a request
 * does not carry the image across threads) only its id and version, which a thread that has no
 * sandbox of that version answers with `image` for the main thread to send the image.
 */
export type ImageRef = ProgramImage | { readonly id: string; readonly version: number };

function imageOf(ref: ImageRef): ProgramImage | null {
  if ('code' in ref) return ref;
  const have = sandboxes.get(ref.id);
  return have !== undefined && have.version === ref.version ? have.image : null;
}

function resetIfDirty(sandbox: Sandbox): number {
  if (!sandbox.dirty) return 0;
  const t = performance.now();
  sandbox.reset();
  resetsSinceReport++;
  return performance.now() - t;
}

/** head: method, url, argument, config, header names and values, each ended by NUL. */
function encodeHead(req: ProgramRequest): Uint8Array {
  return new TextEncoder().encode([req.method, req.url, req.argument, req.config, ...req.headers, ''].join('\0'));
}

function timing(execMs: number, resetMs: number, call: HostCall | null, sandbox: Sandbox | null): RunTiming {
  const resets = resetsSinceReport;
  resetsSinceReport = 0;
  return { execMs, resetMs, memoryBytes: sandbox?.memoryBytes ?? 0, resets, thread: threadId, logs: call?.logs ?? [] };
}

function failureKind(e: unknown, sandbox: Sandbox | null): FailureKind {
  if (e instanceof MemoryLimitError || e instanceof JsMemoryError) return 'memory';
  // A trap in a wasm program whose memory is at its bound is the allocator failing to grow it.
  if (sandbox instanceof WasmSandbox && e instanceof WebAssembly.RuntimeError && sandbox.nearMemoryLimit()) return 'memory';
  return 'trap';
}

/** One request to a program. Never throws: a failure is a result the main thread counts. */
export function run(task: { image: ImageRef; request: ProgramRequest }): RunResult {
  const { request } = task;
  const image = imageOf(task.image);
  if (image === null) return { ok: false, kind: 'image', error: 'no sandbox of this version here', timing: timing(0, 0, null, null) };
  const call = new HostCall(image, request.stream);
  let sandbox: Sandbox | null = null;
  let resetMs = 0;
  try {
    sandbox = sandboxFor(image);
    if (image.ephemeral) resetMs = resetIfDirty(sandbox);
  } catch (e) {
    return { ok: false, kind: 'load', error: (e as Error).message, timing: timing(0, 0, call, null) };
  }
  const started = performance.now();
  try {
    if (sandbox instanceof WasmSandbox) sandbox.run(request, encodeHead(request), call);
    else sandbox.run(request, call);
    const response = call.response();
    return { ok: true, ...response, timing: timing(performance.now() - started, resetMs, call, sandbox) };
  } catch (e) {
    const kind = failureKind(e, sandbox);
    // A sandbox that failed is not trusted to reset: the next request builds a new one.
    if (kind !== 'memory' || !image.ephemeral) sandboxes.delete(image.id);
    return { ok: false, kind, error: (e as Error).message, timing: timing(performance.now() - started, resetMs, call, sandbox) };
  } finally {
    const s = sandbox;
    // Reset now that the answer is on its way, unless the next request is already here.
    if (image.ephemeral && s !== null) setImmediate(() => sandboxes.get(image.id)?.sandbox === s && resetIfDirty(s));
  }
}

/**
 * Loads a program version once, in a worker, before any request uses it: a WebAssembly module
 * gets its globals exported for snapshots, and the initialisation runs, so a program that does
 * not load is refused here (a live update then keeps the old one).
 */
export async function prepare(image: ProgramImage): Promise<{ code: Uint8Array; memoryPages: number }> {
  let prepared = { code: image.code, memoryPages: 0 };
  if (image.kind === 'wasm') prepared = await prepareWasm(image.code);
  const ready = { ...image, ...prepared };
  sandboxFor(ready);
  return prepared;
}

/** The program's state for its next version (live update), or null without a callback. */
export function saveState(image: ProgramImage): Uint8Array | null {
  const call = new HostCall(image);
  const sandbox = sandboxFor(image);
  if (image.ephemeral) resetIfDirty(sandbox);
  sandbox.saveState(call);
  return call.state;
}
