// One program of one VCL on the main thread: its definition, the version its sandboxes run,
// its sandbox threads (sandbox-pool.ts: one per concurrency slot, a bounded queue,
// max_request_time as the run's limit: a thread that overruns is ended and replaced), its
// statistics and counters. Loading (first use, start(), live update, a reload after invalidation) prepares
// the new version in a worker first: one that fails to load never replaces a working one.

import { readFile } from 'node:fs/promises';
import { checkComplete, type Definition, fetchBytes, kindOf } from './definitions.ts';
import type { ProgramImage, ProgramRequest, RunResult } from './image.ts';
import type { VmodComputeCounters, VmodComputeHandle } from './interface.ts';
import { othersBusy } from './machine.ts';
import { SandboxPool, WaitedTooLong } from './sandbox-pool.ts';
import type { SandboxThread } from './sandbox-thread.ts';
import { NotTaken, TimedOut } from './sandbox-thread.ts';
import { ProgramStats } from './stats.ts';

/** Every version of every program gets a new number: a worker rebuilds when it differs. */
let versions = 0;

export class Program {
  readonly name: string;
  readonly vclName: string;
  def: Definition;
  readonly stats = new ProgramStats();
  #image: ProgramImage | null = null;
  #loading: Promise<ProgramImage> | null = null;
  #pool: SandboxPool | null = null;
  /** Requests handed to the pool and not answered: running and waiting. */
  #inFlight = 0;
  readonly #handle: VmodComputeHandle;
  readonly #counters: VmodComputeCounters;
  /** Whether the program was ever asked to load: configure() no longer applies. */
  started = false;

  constructor(name: string, def: Definition, handle: VmodComputeHandle) {
    this.name = name;
    this.def = def;
    this.vclName = handle.vclName;
    this.#handle = handle;
    this.#counters = handle.instanceCounters(name);
  }

  get loaded(): boolean {
    return this.#image !== null;
  }

  get kind(): string {
    return kindOf(this.def);
  }

  /** The running version, loading it first if needed (concurrent callers share the load). */
  ready(): Promise<ProgramImage> {
    if (this.#image !== null) return Promise.resolve(this.#image);
    this.started = true;
    this.#loading ??= this.#load(null, null).finally(() => {
      this.#loading = null;
    });
    return this.#loading;
  }

  /** Loads `code` (or the definition's file) as the next version; the current one stays on failure. */
  async #load(given: Uint8Array | null, state: Uint8Array | null): Promise<ProgramImage> {
    checkComplete(this.name, this.def);
    const bytes = given ?? (this.def.filename !== '' ? new Uint8Array(await readFile(this.def.filename)) : await fetchBytes(this.def.uri));
    // Shared, so that handing the image to a worker per request copies no code.
    const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
    shared.set(bytes);
    const draft: ProgramImage = {
      id: `${this.vclName}/${this.name}`,
      version: ++versions,
      kind: kindOf(this.def),
      code: shared,
      maxMemoryMb: this.def.max_memory,
      maxRequestMs: this.#timeoutMs(),
      ephemeral: this.def.ephemeral,
      arguments: this.def.arguments,
      environment: Object.fromEntries(this.def.environment.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])),
      state,
      memoryPages: 0,
    };
    // Loading may compile and transform a big module: it gets its own, longer bound.
    const prepared = await this.#call<{ code: Uint8Array; memoryPages: number }>('prepare', draft, LOAD_TIMEOUT_MS);
    const code = new Uint8Array(new SharedArrayBuffer(prepared.code.length));
    code.set(prepared.code);
    const image = { ...draft, code, memoryPages: prepared.memoryPages };
    if (this.#image === null) this.#handle.counters.programs++;
    this.#image = image;
    return image;
  }

  /** Runs one request; never throws. */
  async run(request: ProgramRequest): Promise<RunResult> {
    const c = this.#handle.counters;
    c.requests++;
    this.#counters.requests++;
    this.stats.requests++;
    // Loaded: no await on the way to the thread (each costs the main thread a turn of microtasks).
    let image = this.#image;
    try {
      image ??= await this.ready();
    } catch (e) {
      return this.#failed({ ok: false, kind: 'load', error: `${this.name} did not load: ${(e as Error).message}`, timing: NO_TIMING });
    }
    // The bound is kept here, counting requests handed over and not answered, so that it does
    // not depend on when the pool's threads become ready.
    if (this.#inFlight >= this.def.concurrency + this.def.max_queue) {
      c.queue_full++;
      this.#counters.queue_full++;
      this.stats.queueFull++;
      return this.#failed({ ok: false, kind: 'trap', error: `${this.name}: queue full (${this.def.max_queue} waiting)`, timing: NO_TIMING });
    }
    if (this.#inFlight >= this.def.concurrency) this.stats.queueWaits++;
    let result: RunResult;
    this.#inFlight++;
    try {
      const pollUs = answerPollUs(this.def.answer_poll_us, this.stats.execAverageMs, this.#inFlight === 1);
      result = await this.#onThread((t, limitMs) => t.run(image, request, limitMs, pollUs), this.#timeoutMs());
    } catch (e) {
      if (e instanceof TimedOut || e instanceof WaitedTooLong) {
        c.timeouts++;
        this.#counters.timeouts++;
        this.stats.timeouts++;
        if (e instanceof TimedOut) this.stats.forgetThreads();
      }
      return this.#failed({ ok: false, kind: 'trap', error: `${this.name}: ${(e as Error).message}`, timing: NO_TIMING });
    } finally {
      this.#inFlight--;
    }
    this.stats.record(result.timing);
    if (!result.ok && result.kind === 'timeout') {
      // Stopped inside its isolate: its thread lives on, with a new sandbox for the next request.
      c.timeouts++;
      this.#counters.timeouts++;
      this.stats.timeouts++;
    }
    return result.ok ? result : this.#failed(result);
  }

  #failed(r: RunResult & { ok: false }): RunResult {
    this.#handle.counters.failures++;
    this.#counters.failures++;
    this.stats.failures++;
    return r;
  }

  /** Swaps in new code (live update), carrying state over; throws, keeping the old, when it does not load. */
  async replace(code: Uint8Array | null): Promise<void> {
    const state = await this.#savedState();
    await this.#load(code, state);
    this.stats.liveUpdates++;
    this.#counters.live_updates++;
    this.#handle.counters.live_updates++;
  }

  /** The running version's state, from its state_save callback, or null. */
  async #savedState(): Promise<Uint8Array | null> {
    if (this.#image === null) return null;
    try {
      return await this.#call<Uint8Array | null>('saveState', this.#image, this.#timeoutMs());
    } catch (e) {
      this.#handle.log(`compute: ${this.name}: state not saved: ${(e as Error).message}`);
      return null;
    }
  }

  /**
   * Unloads the program: the next request loads it again. One with state callbacks is
   * reloaded now instead, its state carried over.
   */
  async invalidate(): Promise<void> {
    if (this.#image === null) return;
    const state = await this.#savedState();
    if (state !== null) {
      await this.#load(null, state);
      return;
    }
    this.#image = null;
    this.#handle.counters.programs--;
  }

  /**
   * Runs `fn` on a thread of the pool (waiting for one), and gives the thread back. A request
   * that waited behind another on a thread that then ended never began: it goes to another.
   */
  async #onThread<T>(fn: (t: SandboxThread, limitMs: number) => Promise<T>, limitMs: number): Promise<T> {
    this.#pool ??= new SandboxPool(this.def.concurrency, {
      spinUs: this.def.thread_spin_us,
      idleMs: this.def.thread_idle_timeout * 1000,
      onTerminate: () => this.stats.threadsTerminated++,
      onIdleEnd: (t) => this.stats.endedIdle(t.id),
    });
    const pool = this.#pool;
    for (let tries = 1; ; tries++) {
      try {
        return await pool.use(limitMs, this.stats.execAverageMs < QUICK_MS, (t) => fn(t, limitMs));
      } catch (e) {
        if (!(e instanceof NotTaken) || tries >= NOT_TAKEN_TRIES) throw e;
      }
    }
  }

  #call<T>(fn: 'prepare' | 'saveState', image: ProgramImage, limitMs: number): Promise<T> {
    return this.#onThread((t) => t.call<T>(fn, image, limitMs), limitMs);
  }

  #timeoutMs(): number {
    return Math.round(this.def.max_request_time * 1000);
  }

  /** Sandbox threads running now (they end when idle: thread_idle_timeout). */
  get threads(): number {
    return this.#pool?.threads ?? 0;
  }

  /** For compute.list and stats(). */
  describe(): { name: string; type: string; loaded: boolean; concurrency: number; ephemeral: boolean } {
    return { name: this.name, type: this.kind, loaded: this.loaded, concurrency: this.def.concurrency, ephemeral: this.def.ephemeral };
  }

  /** The VCL is discarded: its threads end. */
  discard(): void {
    if (this.#image !== null) this.#handle.counters.programs--;
    this.#image = null;
    this.#pool?.close();
    this.#pool = null;
  }
}

/**
 * How long the main thread looks for an answer before it waits to be woken (slot.ts,
 * look): `pollUs` for a request `alone` in flight, to a program that usually answers
 * within it, on a machine whose CPUs other processes leave idle; else 0. With others in
 * flight, their answers and sockets keep the event loop turning; with the CPUs taken, looks
 * would take CPU from the sandbox threads and the other processes.
 */
export function answerPollUs(pollUs: number, execAverageMs: number, alone: boolean): number {
  return alone && execAverageMs * 1000 < pollUs && !othersBusy() ? pollUs : 0;
}

/**
 * A program whose runs average less than this (ms) waits behind a busy thread's run rather
 * than wake an idle thread: a wake-up costs more (sandbox-pool.ts, use()).
 */
const QUICK_MS = 0.05;

/** How often a request that never began (its thread ended first) is handed to another. */
const NOT_TAKEN_TRIES = 3;

/** How long loading a version may take in its worker. */
const LOAD_TIMEOUT_MS = 60_000;

const NO_TIMING = { execMs: 0, resetMs: 0, memoryBytes: 0, resets: 0, thread: -1, tookAt: 0, answeredAt: 0, logs: [] };
