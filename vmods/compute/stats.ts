// Statistics of one program, as compute.stats() and the compute.stats command print them. The
// execution times are a ring of the latest SAMPLES requests: p50 and p99 of recent traffic,
// at a fixed memory cost.

import type { RunTiming } from './image.ts';

const SAMPLES = 1024;

export class ProgramStats {
  requests = 0;
  failures = 0;
  timeouts = 0;
  resets = 0;
  /** Requests that found every sandbox busy and waited in the queue. */
  queueWaits = 0;
  queueFull = 0;
  liveUpdates = 0;
  /**
   * Sandbox threads ended with Worker.terminate(): only ones that never made an isolate (a
   * WebAssembly loop past its time); a JS program's stay at 0 (sandbox-thread.ts, end()).
   */
  threadsTerminated = 0;
  /** Sandbox threads ended after thread_idle_timeout without a request. */
  threadsEndedIdle = 0;
  /** The latest memory each worker thread reported, bytes. */
  readonly #memory = new Map<number, number>();
  readonly #times = new Float64Array(SAMPLES);
  #count = 0;
  #resetMs = 0;

  /** A moving average of the time in the program, ms. */
  execAverageMs = 1;

  record(t: RunTiming): void {
    this.execAverageMs += (t.execMs - this.execAverageMs) / 16;
    this.#times[this.#count % SAMPLES] = t.execMs;
    this.#count++;
    this.resets += t.resets;
    this.#resetMs += t.resetMs;
    this.#memory.set(t.thread, t.memoryBytes);
  }

  /** A worker thread replaced (timeout): its memory no longer counts. */
  forgetThreads(): void {
    this.#memory.clear();
  }

  /** A worker thread ended for being idle: counted, and its memory no longer counts. */
  endedIdle(thread: number): void {
    this.threadsEndedIdle++;
    this.#memory.delete(thread);
  }

  percentile(p: number): number {
    const n = Math.min(this.#count, SAMPLES);
    if (n === 0) return 0;
    const sorted = Array.from(this.#times.subarray(0, n)).sort((a, b) => a - b);
    return sorted[Math.min(n - 1, Math.floor((p / 100) * n))];
  }

  toJSON(extra: Record<string, unknown>): Record<string, unknown> {
    let memory = 0;
    for (const m of this.#memory.values()) memory += m;
    return {
      ...extra,
      requests: this.requests,
      failures: this.failures,
      timeouts: this.timeouts,
      resets: this.resets,
      reset_time_total_ms: round(this.#resetMs),
      queue_waits: this.queueWaits,
      queue_full: this.queueFull,
      exec_time_p50_ms: round(this.percentile(50)),
      exec_time_p99_ms: round(this.percentile(99)),
      memory_bytes: memory,
      instances: this.#memory.size,
      live_updates: this.liveUpdates,
      threads_terminated: this.threadsTerminated,
      threads_ended_idle: this.threadsEndedIdle,
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
