// A backend's idle connections, as Varnish's connection pool keeps them (cache_conn_pool.c):
// the most recently used one is taken first (its socket is the likeliest to be alive, and the
// others age out), each closes after backend_idle_timeout unused, and one the backend closes or
// writes to while it idles is dropped at once.
//
// The pool is a stack: the oldest parked connections sit at its bottom, so one timer, set for
// the bottom one's deadline, closes the ones that expired; taking and parking touch no timer.

import type { BackendConnection } from './connection.ts';

export class ConnectionPool {
  /** Idle connections, the most recently parked last. */
  readonly #stack: BackendConnection[] = [];
  readonly #idleMs: number;
  #timer: NodeJS.Timeout | null = null;

  constructor(idleMs: number) {
    this.#idleMs = Math.max(1, idleMs);
  }

  get size(): number {
    return this.#stack.length;
  }

  /** The most recently parked usable connection, taken out of the pool; null when none. */
  take(): BackendConnection | null {
    for (;;) {
      const last = this.#stack.pop();
      if (last === undefined) return null;
      last.busy();
      if (last.usable) return last;
      last.destroy();
    }
  }

  /** Parks a connection that ended its exchange clean. */
  put(conn: BackendConnection): void {
    conn.parkedAt = performance.now();
    this.#stack.push(conn);
    conn.idle(() => this.#drop(conn));
    if (this.#timer === null) this.#arm();
  }

  /** Closes every idle connection (the backend is going away). */
  closeAll(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    for (const conn of this.#stack.splice(0)) {
      conn.busy();
      conn.destroy();
    }
  }

  /** Sets the timer for the oldest idle connection's deadline. */
  #arm(): void {
    const oldest = this.#stack[0];
    if (oldest === undefined) {
      this.#timer = null;
      return;
    }
    const delay = oldest.parkedAt + this.#idleMs - performance.now();
    this.#timer = setTimeout(() => this.#sweep(), Math.max(1, delay));
    this.#timer.unref();
  }

  #sweep(): void {
    const now = performance.now();
    while (this.#stack.length > 0 && this.#stack[0].parkedAt + this.#idleMs <= now) {
      const conn = this.#stack.shift()!;
      conn.busy();
      conn.destroy();
    }
    this.#arm();
  }

  #drop(conn: BackendConnection): void {
    const i = this.#stack.indexOf(conn);
    if (i < 0) return;
    this.#stack.splice(i, 1);
    conn.destroy();
  }
}
