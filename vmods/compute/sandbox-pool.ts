// The sandbox threads of one program: at most `size` (its concurrency), started on demand and
// kept while used (each holds a built sandbox), each running one request at a time. A request
// takes an idle thread at once; when every thread is busy, it waits in a free slot of one
// (SLOW_SEATS a thread; a quick program's fill a busy thread's slots first, up to SEATS), which
// then goes on to it without waiting for the main thread; past that it waits its turn in order,
// at most its time limit (plus a thread's start, when one is starting for it), and then fails.
// How many may wait is the program's bound (program.ts counts them and fails the overflow at
// once). A thread idle for `idleMs` ends (asked to, as any thread that may hold an isolate:
// sandbox-thread.ts, end()), so that a program used once does not keep its threads and their
// sandboxes; the next request starts one again.

import { SandboxThread, SEATS, SLOW_SEATS } from './sandbox-thread.ts';

/** What starting a thread may add to a wait: loading worker.ts and its modules, under load. */
const THREAD_START_MS = 10_000;

/** A request waited longer than its limit for a thread. */
export class WaitedTooLong extends Error {
  override readonly name = 'WaitedTooLong';
}

export interface PoolOptions {
  /** How long each thread looks for its next request before it sleeps (slot.ts, workerTurn). */
  readonly spinUs: number;
  /** A thread idle this long ends (ms); 0: threads are kept. */
  readonly idleMs: number;
  /** Told of each thread ended with Worker.terminate() (counted in the program's stats). */
  readonly onTerminate?: () => void;
  /** Told of each thread ended for being idle. */
  readonly onIdleEnd?: (thread: SandboxThread) => void;
}

interface Waiter {
  /** Runs the request on the thread given, in the same turn (#release). */
  start(t: SandboxThread): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
}

export class SandboxPool {
  readonly #size: number;
  readonly #threads = new Set<SandboxThread>();
  /** Threads with nothing to do, and busy ones with a slot free. */
  readonly #idle: SandboxThread[] = [];
  readonly #open: SandboxThread[] = [];
  readonly #waiting: Waiter[] = [];
  #starting = 0;
  #closed = false;

  readonly #options: PoolOptions;
  /** Ends the threads idle for idleMs; set while some thread is idle. */
  #idleTimer: NodeJS.Timeout | null = null;

  constructor(size: number, options: PoolOptions) {
    this.#size = Math.max(1, size);
    this.#options = options;
  }

  /** Threads started and not ended. */
  get threads(): number {
    return this.#threads.size;
  }

  /**
   * Runs `run` on a thread with a free slot, now or when one frees, and gives the thread back
   * when it settles. `run` is called in the same turn as the thread is taken, so its request is
   * handed over before any other can take the slot: a thread serves its slots in turn, and a
   * slot must be read before it takes another request (SandboxThread.canTake).
   */
  use<T>(limitMs: number, quick: boolean, run: (t: SandboxThread) => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('the program was unloaded'));
    const now = this.#takeNow(quick);
    if (now !== null) return this.#running(now, run);
    const waitMs = limitMs + (this.#starting > 0 ? THREAD_START_MS : 0);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        start: (t) => resolve(this.#running(t, run)),
        reject,
        timer: setTimeout(() => {
          this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
          reject(new WaitedTooLong(`waited ${waitMs} ms for a sandbox`));
        }, waitMs),
      };
      this.#waiting.push(waiter);
    });
  }

  /**
   * A thread with a free slot, taken, or null (a thread is started when there is room for
   * one). For a `quick` program (its runs shorter than waking a thread takes), a busy thread's
   * free slot comes before an idle thread: the busy one goes on to it without being woken, where
   * an idle one sleeps and costs a futex wake-up on each side (docs/compute.md, Figures).
   */
  #takeNow(quick: boolean): SandboxThread | null {
    // A busy thread may take it: not one whose program waits on a self-request (the
    // self-request itself could be put behind it), and another's only in its first SLOW_SEATS.
    const seats = quick ? SEATS : SLOW_SEATS;
    const openOne = () => this.#open.findLast((t) => t.selfRequests === 0 && t.canTake(seats));
    if (quick) {
      const open = openOne();
      if (open !== undefined) return this.#take(open);
    }
    const idle = this.#idle.pop();
    if (idle !== undefined) return this.#take(idle);
    if (this.#threads.size < this.#size) this.#start();
    const open = openOne();
    return open === undefined ? null : this.#take(open);
  }

  #running<T>(thread: SandboxThread, run: (t: SandboxThread) => Promise<T>): Promise<T> {
    let running: Promise<T>;
    try {
      running = run(thread);
    } catch (e) {
      running = Promise.reject(e);
    }
    return running.finally(() => this.#release(thread));
  }

  /**
   * Back after a request: to the first waiter, else filed as idle or open. Not to a waiter
   * while its next slot is unread (canTake): the release of that slot's request gives it.
   */
  #release(thread: SandboxThread): void {
    thread.inFlight--;
    if (thread.ended || this.#closed) return;
    const waiter = thread.canTake(SEATS) ? this.#waiting.shift() : undefined;
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      waiter.start(this.#take(thread));
      return;
    }
    this.#file(thread);
  }

  #take(thread: SandboxThread): SandboxThread {
    thread.inFlight++;
    this.#file(thread);
    return thread;
  }

  /**
   * In the list its requests say (idle, open, or neither when its slots are full), last. A
   * thread that is last of the list it belongs in already stays (twice a request, under load
   * the same busy thread of a quick program: no search of the lists).
   */
  #file(thread: SandboxThread): void {
    const into = thread.ended ? null : thread.inFlight === 0 ? this.#idle : thread.inFlight < SEATS ? this.#open : null;
    if (into === null || into.at(-1) !== thread) {
      drop(this.#idle, thread);
      drop(this.#open, thread);
      into?.push(thread);
    }
    if (into === this.#idle) {
      thread.idleSince = performance.now();
      this.#watchIdle(this.#options.idleMs);
    }
  }

  /** Looks at the idle threads in `ms` (one timer for the pool, not one per request). */
  #watchIdle(ms: number): void {
    if (this.#idleTimer !== null || this.#options.idleMs <= 0 || this.#closed) return;
    this.#idleTimer = setTimeout(() => this.#endIdle(), ms);
    this.#idleTimer.unref();
  }

  /** Ends the threads idle for idleMs, and looks again when the next one will have been. */
  #endIdle(): void {
    this.#idleTimer = null;
    const now = performance.now();
    const idleMs = this.#options.idleMs;
    for (const t of this.#idle.filter((t) => now - t.idleSince >= idleMs)) {
      drop(this.#idle, t);
      this.#options.onIdleEnd?.(t);
      t.end();
    }
    if (this.#idle.length > 0) this.#watchIdle(Math.max(1, Math.min(...this.#idle.map((t) => t.idleSince + idleMs - now))));
  }

  #start(): void {
    const thread = new SandboxThread(this.#options.spinUs);
    thread.onTerminate = this.#options.onTerminate ?? null;
    this.#threads.add(thread);
    this.#starting++;
    let started = false;
    thread.onEnd = () => {
      this.#threads.delete(thread);
      this.#file(thread);
      // Its replacement, when requests are waiting for one (not for a thread that never started:
      // the next would not either).
      if (started && !this.#closed && this.#waiting.length > 0 && this.#threads.size < this.#size) this.#start();
    };
    thread.ready.then(
      () => {
        started = true;
        this.#starting--;
        // As if a request had just left it: to the first waiter, else idle.
        thread.inFlight++;
        this.#release(thread);
      },
      (e: Error) => {
        this.#starting--;
        // No thread can start (worker.ts does not load): the waiters learn why now.
        if (this.#threads.size > 0) return;
        for (const w of this.#waiting.splice(0)) {
          clearTimeout(w.timer);
          w.reject(new Error(`no sandbox thread: ${e.message}`));
        }
      },
    );
  }

  /** Ends every thread; requests waiting fail, requests running fail when their thread ends. */
  close(): void {
    this.#closed = true;
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    for (const w of this.#waiting.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new Error('the program was unloaded'));
    }
    for (const t of [...this.#threads]) t.end();
    this.#idle.length = 0;
    this.#open.length = 0;
  }
}

function drop(list: SandboxThread[], thread: SandboxThread): void {
  const at = list.indexOf(thread);
  if (at >= 0) list.splice(at, 1);
}
