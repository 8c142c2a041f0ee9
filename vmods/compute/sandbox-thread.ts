// The main thread's handle on one sandbox thread (worker.ts): the worker, its slots (SEATS,
// slot.ts) and a message port for what rarely crosses (the program's image, prepare,
// saveState). The thread runs one request at a time; others may wait in its other slots, so
// that the thread goes on to them as soon as it answers, without waiting for the main thread
// to wake and hand it one: the pool (sandbox-pool.ts) says how many. The thread serves its
// slots in turn, and requests are put in them in the same turn. A request past its time fails and its thread is ended (end(): a thread that holds
// an isolate is asked to end, never terminated); a thread that ends for any reason wakes the
// requests waiting on it, and one it had not begun is told so (NotTaken), to be run elsewhere.

import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { ProgramImage, ProgramRequest, RunResult } from './image.ts';
import { askToQuit, holdsIsolate, markEnded, newSlot, openSlot, receiveFromWorker, type Slot, sendToWorker, PROCESS_WORDS, setSpin, taken, threadSleeps, waitGone } from './slot.ts';
import { othersBusy } from './machine.ts';
import type { ThreadCall } from './worker.ts';
import { CALL, Reader, readResult, Writer, writeRun } from './wire.ts';

const WORKER = new URL('./worker.ts', import.meta.url);
/** How long an idle thread asked to end may take to dispose its sandbox and go. */
const QUIT_GRACE_MS = 2000;

/** A request ran past its time: its thread was ended. */
export class TimedOut extends Error {
  override readonly name = 'TimedOut';
}

/** The thread ended before it began this request: it can run on another. */
export class NotTaken extends Error {
  override readonly name = 'NotTaken';
}

/**
 * A thread's slots: requests it may hold at once, one running and the others waiting their
 * turn. A quick program's requests may fill them all (each one the thread finds awake saves a
 * wake-up); another's take at most SLOW_SEATS, as a request behind a slow run waits long.
 * A slot is taken until the main thread reads its answer, which under load is at its next
 * look (slot.ts, look()): with four, a quick program's thread was full of answers not yet read
 * and the next requests woke another thread (0.27 wake-ups per request in part 2 of
 * bench/compute.ts, with the wake-ups then at the end of the turn), with eight 0.15. Each slot is SLOT_BYTES of shared memory: 2 MB a
 * thread, small beside the sandbox it holds (a V8 isolate, or a WebAssembly instance).
 */
export const SEATS = 8;
export const SLOW_SEATS = 2;

/** Every request is written here, then copied into its thread's slot before any await. */
const scratch = new Writer();

/** The running threads by thread id, for self-requests to say which one waits (selfRequesting). */
const byThreadId = new Map<number, SandboxThread>();

/** Every thread not yet exited, ended or not: the process's exit waits for those with an isolate. */
const alive = new Set<SandboxThread>();

/** How long the process's exit waits for sandbox threads to dispose their isolates, in all. */
const EXIT_WAIT_MS = 2000;
let exitHooked = false;

/**
 * At the process's exit (process.exit(), the end of its event loop), Node stops the threads
 * still there as Worker.terminate() does, which aborts the process when one holds an isolate
 * (end()). So each such thread is asked to end and waited for (blocking: nothing else runs at
 * exit) until it has disposed its isolate, EXIT_WAIT_MS at most in all: a thread in the middle
 * of a JS run gets there when its run stops (its own time limit).
 */
function disposeBeforeExit(): void {
  const deadline = Date.now() + EXIT_WAIT_MS;
  const waiting = [...alive].filter((t) => t.askToEndForExit());
  for (const t of waiting) t.waitGone(deadline - Date.now());
}

/**
 * A thread's program waits on a self-request (on: true) or has its answer (false). No request
 * waits in its other slot meanwhile: the self-request itself could be the one put there, and
 * would wait for the program that waits for it.
 */
export function selfRequesting(threadId: number, on: boolean): void {
  const thread = byThreadId.get(threadId);
  if (thread !== undefined) thread.selfRequests += on ? 1 : -1;
}

export class SandboxThread {
  readonly #worker: Worker;
  readonly #slots: Slot[];
  /** The slot the next request goes in: the thread serves them in turn. */
  #next = 0;
  /**
   * Slots whose request is handed over and whose answer is not read yet. Answers can be read
   * out of order (one looked for on the event loop's turns, the one ahead woken by
   * waitAsync), so a request released first does not make its slot the next free one: a
   * request may go in a slot only once its answer is read (canTake).
   */
  readonly #unread: boolean[] = Array.from({ length: SEATS }, () => false);
  readonly #port: MessagePort;
  /** Resolves once the thread waits on its slot; rejects if it never gets there. */
  readonly ready: Promise<void>;
  /** The program version the thread holds once it has run what it was given (-1: unknown). */
  #version = -1;
  /** Requests given to the thread and not answered (the pool's to count). */
  inFlight = 0;
  /** Requests waiting on the slots: the worker is ref'd while there are any. */
  #waiting = 0;
  /** Self-requests its program waits on (selfRequesting). */
  selfRequests = 0;
  /** When it last had no request (performance.now() ms; the pool's to set). */
  idleSince = 0;
  #ended = false;
  #exited = false;
  /** Called once when the thread ends (ended by us or on its own). */
  onEnd: (() => void) | null = null;
  /** Called when it is ended with Worker.terminate() (only a thread without an isolate is). */
  onTerminate: (() => void) | null = null;

  /** How long the thread looks for its next request before it sleeps (slot.ts, workerTurn). */
  readonly #spinUs: number;
  /** What its slots say now: #spinUs, or 0 while other processes keep the CPUs busy. */
  #spinSaid = -1;

  constructor(spinUs: number) {
    const shared = Array.from({ length: SEATS }, () => newSlot());
    this.#slots = shared.map(openSlot);
    this.#spinUs = spinUs;
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    // Only read with receiveMessageOnPort: it must not keep the process up.
    port1.unref();
    this.#worker = new Worker(WORKER, { workerData: { computeSlots: shared, processWords: PROCESS_WORDS, port: port2 }, transferList: [port2] });
    byThreadId.set(this.#worker.threadId, this);
    if (!exitHooked) {
      exitHooked = true;
      process.on('exit', disposeBeforeExit);
    }
    alive.add(this);
    // An idle thread keeps nothing up; a busy one is ref'd (run()), as Atomics.waitAsync alone
    // does not keep Node's event loop alive.
    this.#worker.unref();
    this.ready = new Promise((resolve, reject) => {
      this.#worker.once('message', () => resolve());
      this.#worker.on('error', (e) => {
        reject(e);
        this.#end();
      });
      this.#worker.on('exit', (code) => {
        this.#exited = true;
        alive.delete(this);
        reject(new Error(`the sandbox thread exited (${code})`));
        this.#end();
      });
    });
  }

  /** The worker's thread id (what its results report as their thread). */
  get id(): number {
    return this.#worker.threadId;
  }

  /**
   * Whether the thread can take one more request: fewer than `seats` in flight, and the slot
   * it will go in read. The pool hands a request over in the same turn as it takes the thread
   * (SandboxPool.use), so the next request goes in #next.
   */
  canTake(seats: number): boolean {
    return !this.#ended && this.inFlight < seats && !this.#unread[this.#next];
  }

  get ended(): boolean {
    return this.#ended;
  }

  /**
   * One request; throws TimedOut past `limitMs` of running, NotTaken when the thread ended
   * before it began it, or an Error when it ended while running it. `pollUs`: how long the
   * main thread looks for the answer on each turn of its event loop before it waits to be
   * woken (slot.ts, look).
   */
  async run(image: ProgramImage, request: ProgramRequest, limitMs: number, pollUs = 0): Promise<RunResult> {
    const withImage = this.#version !== image.version;
    if (withImage) this.#port.postMessage(image);
    writeRun(scratch, image.version, withImage, request);
    this.#version = image.version;
    const result = await this.#exchange(limitMs, pollUs, readResult);
    // The thread did not hold the version (it should not happen): the next request sends it.
    if (!result.ok && result.kind === 'image') this.#version = -1;
    return result;
  }

  /** A call whose argument and answer are structured clones on the port. */
  async call<T>(fn: ThreadCall, image: ProgramImage, limitMs: number): Promise<T> {
    this.#port.postMessage({ fn, arg: image });
    scratch.start().u32(CALL);
    // prepare leaves the thread holding that version, and what is given after it runs after it.
    if (fn === 'prepare') this.#version = image.version;
    const answer = await this.#exchange(limitMs, 0, () => receiveMessageOnPort(this.#port)?.message as { ok: true; value: T } | { ok: false; error: string } | undefined);
    if (answer?.ok === true) return answer.value;
    // A version that did not load leaves the thread on the one it had: unknown here.
    if (fn === 'prepare') this.#version = -1;
    throw new Error(answer === undefined ? `the sandbox thread did not answer ${fn}` : answer.error);
  }

  /**
   * Hands the scratch message over in the next slot, waits for the answer, never blocking, and
   * reads it with `read` before the slot can take another request.
   */
  async #exchange<T>(limitMs: number, pollUs: number, read: (r: Reader) => T): Promise<T> {
    // The spin, as the poll, pays only on CPUs that would otherwise idle (machine.ts).
    const spinUs = othersBusy() ? 0 : this.#spinUs;
    if (spinUs !== this.#spinSaid) {
      for (const s of this.#slots) setSpin(s, spinUs);
      this.#spinSaid = spinUs;
    }
    const at = this.#next;
    const slot = this.#slots[at];
    this.#next = (at + 1) % SEATS;
    this.#unread[at] = true;
    if (this.#waiting++ === 0) this.#worker.ref();
    try {
      // A thread that sleeps (its spin skipped: the CPUs are wanted elsewhere) is woken: then
      // the main thread does not poll, which would keep its CPU from the woken thread.
      if (pollUs > 0 && threadSleeps(slot)) pollUs = 0;
      let sent = sendToWorker(slot, scratch.buf, scratch.at, limitMs);
      if (typeof sent !== 'string') sent = await sent;
      const got = sent === 'ok' ? await receiveFromWorker(slot, limitMs, pollUs) : sent;
      if (got === 'late') {
        this.end();
        throw new TimedOut(`timed out after ${limitMs} ms`);
      }
      if (got === 'ended') throw taken(slot) ? new Error('the sandbox thread ended') : new NotTaken('the sandbox thread ended first');
      return read(new Reader(got as Buffer));
    } finally {
      this.#unread[at] = false;
      if (--this.#waiting === 0) this.#worker.unref();
    }
  }

  /**
   * Ends the thread (its sandbox goes with it): at once for the pool, which no longer hands it
   * requests and starts another in its place. A thread that has ever made an isolated-vm isolate
   * is only asked to end (askToQuit): Worker.terminate() on it can abort the whole process
   * (isolated-vm's assertion `IsolateEnvironment::GetCurrent(): environment != nullptr`). It
   * disposes its isolate and exits by itself, at once when idle, else when the run it is in
   * returns (its own limits stop a JS run: isolated-vm's timeout, host calls bounded by the
   * request's time, host.ts); its late answer is not read. A WebAssembly-only thread stuck in a
   * program is terminated, the only way to stop a wasm loop; idle, it is asked first.
   */
  end(): void {
    const idle = this.#waiting === 0;
    this.#end();
    for (const slot of this.#slots) askToQuit(slot);
    if (this.#holdsIsolate()) return;
    if (!idle) {
      this.#terminate();
      return;
    }
    setTimeout(() => this.#terminate(), QUIT_GRACE_MS).unref();
  }

  /** Worker.terminate(), for a thread that never made an isolate and is still there. */
  #terminate(): void {
    if (this.#holdsIsolate() || this.#exited) return;
    this.onTerminate?.();
    void this.#worker.terminate();
  }

  /** At the process's exit: asks a thread with an isolate to end; whether it was asked. */
  askToEndForExit(): boolean {
    if (this.#exited || !this.#holdsIsolate()) return false;
    for (const slot of this.#slots) askToQuit(slot);
    return true;
  }

  /** Blocks until the thread has disposed its isolate, at most `ms`. */
  waitGone(ms: number): void {
    waitGone(this.#slots[0], ms);
  }

  #holdsIsolate(): boolean {
    return this.#slots.some(holdsIsolate);
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    byThreadId.delete(this.#worker.threadId);
    for (const slot of this.#slots) markEnded(slot);
    this.onEnd?.();
  }
}
