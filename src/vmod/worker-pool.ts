// One job class of the VMOD worker pool, on piscina (a maintained worker-thread pool: queueing,
// a queue bound, abort of queued and running tasks, idle thread reaping and a graceful close
// are its job, not ours). A class runs at most `concurrency` functions at once, each in its own
// worker thread, with `queue` more waiting; past that, run() rejects at once. A run marked
// skipOnShutdown is aborted when the server stops; the others get the stop timeout to finish.
// A run past its timeoutMs is aborted (piscina ends its thread and starts another), and a run
// that outgrows maxMemoryMb fails on its own: what sandboxed programs need (issue 16).

import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { WorkerPool, WorkerPoolOptions, WorkerRunOptions } from './api-platform.ts';

/**
 * What aborts one run: piscina takes an EventEmitter-like `once('abort')` in place of an
 * AbortSignal. A DOM AbortController and its EventTarget listener cost the main thread 20 to 30
 * µs per run, more than a small run itself (measured with compute's programs, before they moved to
 * shared-memory slots of their own: vmods/compute/slot.ts).
 */
class RunAbort {
  aborted = false;
  reason: unknown = undefined;
  #listener: (() => void) | null = null;

  once(_event: 'abort', listener: () => void): void {
    this.#listener = listener;
  }

  removeListener(): void {
    this.#listener = null;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const listener = this.#listener;
    this.#listener = null;
    listener?.();
  }
}

export class PoolClass implements WorkerPool {
  readonly name: string;
  readonly #piscina: Piscina;
  readonly #skippable = new Set<RunAbort>();
  /** Every run not settled yet: what close() waits for. */
  readonly #pending = new Set<Promise<unknown>>();
  #closing = false;

  constructor(name: string, opts: WorkerPoolOptions) {
    const concurrency = Math.max(1, Math.floor(opts.concurrency));
    this.name = name;
    this.#piscina = new Piscina({
      minThreads: 0,
      maxThreads: concurrency,
      maxQueue: Math.max(0, Math.floor(opts.queue)),
      concurrentTasksPerWorker: 1,
      idleTimeout: 30_000,
      ...(opts.maxMemoryMb !== undefined ? { resourceLimits: { maxOldGenerationSizeMb: opts.maxMemoryMb } } : {}),
      ...(opts.idleEventLoop === true ? { atomics: 'async' as const } : {}),
    });
  }

  /** Runs handed to run() and not settled: those in a thread and those waiting. */
  #activeRuns = 0;

  get running(): number {
    return Math.max(0, this.#activeRuns - this.#piscina.queueSize);
  }

  get queued(): number {
    return this.#piscina.queueSize;
  }

  async run<T = unknown>(module: string | URL, fn: string, arg?: unknown, opts: WorkerRunOptions = {}): Promise<T> {
    if (this.#closing) throw new Error(`worker pool ${this.name} is stopping`);
    const filename = module instanceof URL || module.startsWith('file:') ? fileURLToPath(module) : module;
    const abort = opts.skipOnShutdown || opts.timeoutMs !== undefined ? new RunAbort() : undefined;
    if (abort && opts.skipOnShutdown) this.#skippable.add(abort);
    let timedOut = false;
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            abort?.abort();
          }, opts.timeoutMs);
    this.#activeRuns++;
    const running = this.#piscina.run(arg, { filename, name: fn, signal: (abort ?? null) as never, transferList: opts.transfer as never });
    this.#pending.add(running);
    try {
      return (await running) as T;
    } catch (e) {
      const err = e as Error;
      if (/queue is at limit/i.test(err.message)) throw new Error(`worker pool ${this.name}: queue full (${this.#piscina.options.maxQueue} waiting)`);
      if (err.name === 'AbortError') {
        throw new Error(`worker pool ${this.name}: ${timedOut ? `timed out after ${opts.timeoutMs} ms` : 'dropped at shutdown'}`);
      }
      throw err;
    } finally {
      clearTimeout(timer);
      this.#pending.delete(running);
      this.#activeRuns--;
      if (abort) this.#skippable.delete(abort);
    }
  }

  /** Drops skip-on-shutdown runs, lets the rest finish for up to `timeoutMs`, then ends the threads. */
  async close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    for (const a of this.#skippable) a.abort();
    // Our own wait, not piscina's close(): that one counts only runs a thread has taken, and
    // would drop runs still waiting for a thread that is starting.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.allSettled([...this.#pending]), late]);
    clearTimeout(timer);
    await this.#piscina.destroy();
  }
}
