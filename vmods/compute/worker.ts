// A sandbox thread: one per concurrency slot of a program (sandbox-thread.ts starts it). It
// holds one sandbox of the program version it was last given, and loops over its slots in
// turn: block in the slot until a request comes (slot.ts), run it, write the result in place,
// then reset an ephemeral sandbox while the main thread delivers the answer. A thread the main
// thread ends (a request past max_request_time) takes its sandbox with it: its replacement
// builds a fresh one.

import { isMainThread, type MessagePort, parentPort, receiveMessageOnPort, threadId, workerData } from 'node:worker_threads';
import { closeHostChannels, HostCall } from './host.ts';
import type { FailureKind, ProgramImage, ProgramRequest, RunResult, RunTiming } from './image.ts';
import { JsMemoryError, JsSandbox, JsTimeoutError } from './js-sandbox.ts';
import { markGone, markIsolate, openSlot, QuitAsked, quitAsked, receiveFromMain, type Slot, sendToMain, shareProcessWords } from './slot.ts';
import { MemoryLimitError, prepareWasm, WasmSandbox } from './wasm-sandbox.ts';
import { CALL, Reader, readRun, RUN, Writer, writeResult } from './wire.ts';

type Sandbox = WasmSandbox | JsSandbox;

/** The program version this thread serves, and its sandbox once built (null: build it first). */
let current: { image: ProgramImage; sandbox: Sandbox | null } | null = null;
/** Resets since the last result, and their time: reported with the next result. */
let resets = 0;
let resetMs = 0;
/** When this thread took the request it runs (epoch ms). */
let tookAt = 0;

function install(image: ProgramImage): void {
  if (current?.image.version === image.version) return;
  dropSandbox();
  current = { image, sandbox: null };
}

/** This thread's slots (serve()), told before it makes its first isolate. */
let ownSlots: Slot[] = [];

function build(image: ProgramImage): Sandbox {
  if (image.kind === 'wasm') return new WasmSandbox(image, new HostCall(image));
  // From here on the main thread must not terminate this thread (sandbox-thread.ts, end()).
  for (const slot of ownSlots) markIsolate(slot);
  return new JsSandbox(image);
}

/**
 * Lets the sandbox go (the next request builds a new one), its isolate disposed now: an isolate
 * left to the garbage collector could outlive the thread's environment.
 */
function dropSandbox(): void {
  try {
    current?.sandbox?.dispose();
  } catch {
    // A sandbox that fails to dispose is dropped all the same.
  }
  if (current !== null) current.sandbox = null;
}

function sandboxOf(image: ProgramImage): Sandbox {
  if (current === null || current.image !== image) throw new Error('no image installed');
  current.sandbox ??= build(image);
  return current.sandbox;
}

function resetIfDirty(sandbox: Sandbox): void {
  if (!sandbox.dirty) return;
  const t = performance.now();
  sandbox.reset();
  resets++;
  resetMs += performance.now() - t;
}

const utf8 = new TextEncoder();

/** head: method, url, argument, config, header names and values, each ended by NUL. */
function encodeHead(req: ProgramRequest): Uint8Array {
  return utf8.encode([req.method, req.url, req.argument, req.config, ...req.headers, ''].join('\0'));
}

function timing(execMs: number, call: HostCall | null, sandbox: Sandbox | null): RunTiming {
  // answeredAt is stamped as the result is written (wire.ts).
  const t = { execMs, resetMs, memoryBytes: sandbox?.memoryBytes ?? 0, resets, thread: threadId, tookAt, answeredAt: 0, logs: call?.logs ?? [] };
  resets = 0;
  resetMs = 0;
  return t;
}

function failureKind(e: unknown, sandbox: Sandbox | null, call: HostCall): FailureKind {
  if (e instanceof MemoryLimitError || e instanceof JsMemoryError) return 'memory';
  // A host call that gave up at the deadline (host.ts) is a timeout whatever the program did next.
  if (e instanceof JsTimeoutError || call.expired) return 'timeout';
  // A trap in a wasm program whose memory is at its bound is the allocator failing to grow it.
  if (sandbox instanceof WasmSandbox && e instanceof WebAssembly.RuntimeError && sandbox.nearMemoryLimit()) return 'memory';
  return 'trap';
}

/** One request to the installed program. Never throws: a failure is a result the main thread counts. */
export function run(image: ProgramImage, request: ProgramRequest): RunResult {
  const call = new HostCall(image, request.stream);
  let sandbox: Sandbox | null = null;
  try {
    sandbox = sandboxOf(image);
    // Reset after the previous answer as a rule (serve()); here only if that one failed to.
    if (image.ephemeral) resetIfDirty(sandbox);
  } catch (e) {
    return { ok: false, kind: 'load', error: (e as Error).message, timing: timing(0, call, null) };
  }
  const started = performance.now();
  try {
    if (sandbox instanceof WasmSandbox) sandbox.run(request, encodeHead(request), call);
    else sandbox.run(request, call);
    const response = call.response();
    return { ok: true, ...response, timing: timing(performance.now() - started, call, sandbox) };
  } catch (e) {
    const kind = failureKind(e, sandbox, call);
    // A sandbox that failed is not trusted to reset: the next request builds a new one.
    if (kind !== 'memory' || !image.ephemeral) dropSandbox();
    return { ok: false, kind, error: (e as Error).message, timing: timing(performance.now() - started, call, sandbox) };
  }
}

/**
 * Loads a program version once, in a worker, before any request uses it: a WebAssembly module
 * gets its globals exported for snapshots, and the initialisation runs, so a program that does
 * not load is refused here (a live update then keeps the old one, and this thread its sandbox).
 * The thread keeps the new one.
 */
async function prepare(image: ProgramImage): Promise<{ code: Uint8Array; memoryPages: number }> {
  let prepared = { code: image.code, memoryPages: 0 };
  if (image.kind === 'wasm') prepared = await prepareWasm(image.code);
  const ready = { ...image, ...prepared };
  const sandbox = build(ready);
  dropSandbox();
  current = { image: ready, sandbox };
  return prepared;
}

/** The program's state for its next version (live update), or null without a callback. */
function saveState(image: ProgramImage): Uint8Array | null {
  install(image);
  const call = new HostCall(image);
  const sandbox = sandboxOf(current!.image);
  if (image.ephemeral) resetIfDirty(sandbox);
  sandbox.saveState(call);
  return call.state;
}

const CALLS = { prepare, saveState } as const;
export type ThreadCall = keyof typeof CALLS;

/** What the main thread posted on the port before handing the request over. */
function fromPort<T>(port: MessagePort, what: string): T {
  const m = receiveMessageOnPort(port);
  if (m === undefined) throw new Error(`the ${what} did not come with the request`);
  return m.message as T;
}

/** One request off the slot; the answer goes back in place. Never throws. */
async function serveOne(r: Reader, w: Writer, port: MessagePort): Promise<void> {
  const op = r.u32();
  if (op === RUN) {
    const { version, withImage, request } = readRun(r);
    if (withImage) install(fromPort<ProgramImage>(port, 'program image'));
    const result =
      current?.image.version === version
        ? run(current.image, request)
        : ({ ok: false, kind: 'image', error: 'no sandbox of this version here', timing: timing(0, null, null) } as const);
    writeResult(w, result);
    return;
  }
  if (op !== CALL) throw new Error(`unknown operation ${op}`);
  const { fn, arg } = fromPort<{ fn: ThreadCall; arg: ProgramImage }>(port, 'call');
  try {
    port.postMessage({ ok: true, value: await CALLS[fn](arg) });
  } catch (e) {
    port.postMessage({ ok: false, error: (e as Error).message });
  }
  w.start();
}

/**
 * Serves the slots in turn, as the main thread fills them (sandbox-thread.ts), until it is
 * asked to end: then the isolate is disposed, the main thread told (markGone: it may be waiting
 * for that to exit the process), and the thread ends by running out of work. Not by
 * process.exit(): that stops the thread as Worker.terminate() does, and with an isolated-vm
 * isolate in it aborts the whole process (isolated-vm's assertion `IsolateEnvironment::
 * GetCurrent(): environment != nullptr`, seen every time a VCL with JS programs was discarded
 * just before the process ended).
 */
async function serve(slots: Slot[], port: MessagePort): Promise<void> {
  ownSlots = slots;
  try {
    await serveSlots(slots, port);
  } catch (e) {
    if (!(e instanceof QuitAsked)) throw e;
  }
  dropSandbox();
  closeHostChannels();
  for (const slot of slots) markGone(slot);
  port.close();
}

async function serveSlots(slots: Slot[], port: MessagePort): Promise<void> {
  const w = new Writer();
  parentPort?.postMessage('ready');
  for (let next = 0; ; next = (next + 1) % slots.length) {
    const slot = slots[next];
    const message = receiveFromMain(slot);
    try {
      tookAt = performance.timeOrigin + performance.now();
      await serveOne(new Reader(message), w, port);
    } catch (e) {
      writeResult(w, { ok: false, kind: 'trap', error: `sandbox thread: ${(e as Error).message}`, timing: timing(0, null, null) });
    }
    sendToMain(slot, w.buf, w.at);
    // Given up on by the main thread while it ran (past its time): no reset, end now.
    if (quitAsked(slot)) throw new QuitAsked('asked to quit while running');
    // The answer is on its way: reset now, off the request's path.
    const sandbox = current?.sandbox;
    if (sandbox && current?.image.ephemeral) {
      try {
        resetIfDirty(sandbox);
      } catch {
        dropSandbox();
      }
    }
  }
}

if (!isMainThread && Array.isArray(workerData?.computeSlots)) {
  const { computeSlots, processWords, port } = workerData as { computeSlots: SharedArrayBuffer[]; processWords: SharedArrayBuffer; port: MessagePort };
  shareProcessWords(processWords);
  void serve(computeSlots.map(openSlot), port);
}
