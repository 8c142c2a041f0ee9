// The main thread's handle on one sandbox thread (worker.ts): the worker, its slot (slot.ts)
// and a message port for what rarely crosses (the program's image, prepare, saveState). One
// request at a time: the pool (sandbox-pool.ts) hands a thread to one request and takes it
// back. A request past its time ends the thread (a WebAssembly loop cannot be interrupted any
// other way); a thread that ends for any reason wakes the request waiting on it.

import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import type { ProgramImage, ProgramRequest, RunResult } from './image.ts';
import { markEnded, newSlot, openSlot, receiveFromWorker, type Slot, sendToWorker } from './slot.ts';
import type { ThreadCall } from './worker.ts';
import { CALL, Reader, readResult, Writer, writeRun } from './wire.ts';

const WORKER = new URL('./worker.ts', import.meta.url);

/** A request ran past its time: its thread was ended. */
export class TimedOut extends Error {
  override readonly name = 'TimedOut';
}

/** Every request is written here, then copied into its thread's slot before any await. */
const scratch = new Writer();

export class SandboxThread {
  readonly #worker: Worker;
  readonly #slot: Slot;
  readonly #port: MessagePort;
  /** Resolves once the thread waits on its slot; rejects if it never gets there. */
  readonly ready: Promise<void>;
  /** The program version whose image the thread holds (-1: none). */
  #version = -1;
  #ended = false;
  /** Called once when the thread ends (ended by us or on its own). */
  onEnd: (() => void) | null = null;

  constructor() {
    const shared = newSlot();
    this.#slot = openSlot(shared);
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    // Only read with receiveMessageOnPort: it must not keep the process up.
    port1.unref();
    this.#worker = new Worker(WORKER, { workerData: { computeSlot: shared, port: port2 }, transferList: [port2] });
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
        reject(new Error(`the sandbox thread exited (${code})`));
        this.#end();
      });
    });
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** One request; throws TimedOut past `limitMs`, or an Error when the thread ended. */
  async run(image: ProgramImage, request: ProgramRequest, limitMs: number): Promise<RunResult> {
    const withImage = this.#version !== image.version;
    if (withImage) this.#port.postMessage(image);
    writeRun(scratch, image.version, withImage, request);
    this.#version = image.version;
    const result = readResult(await this.#exchange(limitMs));
    // The thread had lost its copy (it should not): once more, with the image.
    if (!result.ok && result.kind === 'image' && !withImage) {
      this.#version = -1;
      return this.run(image, request, limitMs);
    }
    return result;
  }

  /** A call whose argument and answer are structured clones on the port. */
  async call<T>(fn: ThreadCall, image: ProgramImage, limitMs: number): Promise<T> {
    this.#port.postMessage({ fn, arg: image });
    scratch.start().u32(CALL);
    await this.#exchange(limitMs);
    const answer = receiveMessageOnPort(this.#port)?.message as { ok: true; value: T } | { ok: false; error: string } | undefined;
    if (answer === undefined) throw new Error(`the sandbox thread did not answer ${fn}`);
    if (!answer.ok) throw new Error(answer.error);
    // prepare leaves the thread holding that version.
    if (fn === 'prepare') this.#version = image.version;
    return answer.value;
  }

  /** Hands the scratch message over and waits for the answer, never blocking. */
  async #exchange(limitMs: number): Promise<Reader> {
    this.#worker.ref();
    try {
      const deadline = performance.now() + limitMs;
      let sent = sendToWorker(this.#slot, scratch.buf, scratch.at, deadline);
      if (typeof sent !== 'string') sent = await sent;
      const got = sent === 'ok' ? await receiveFromWorker(this.#slot, deadline) : sent;
      if (got === 'late') {
        this.end();
        throw new TimedOut(`timed out after ${limitMs} ms`);
      }
      if (got === 'ended') throw new Error('the sandbox thread ended');
      return new Reader(got as Buffer);
    } finally {
      this.#worker.unref();
    }
  }

  /** Ends the thread (its sandbox goes with it). */
  end(): void {
    this.#end();
    void this.#worker.terminate();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    markEnded(this.#slot);
    this.onEnd?.();
  }
}
