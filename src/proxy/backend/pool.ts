// A backend's idle connections, as Varnish's connection pool keeps them (cache_conn_pool.c):
// the most recently used one is taken first (its socket is the likeliest to be alive, and the
// others age out), each closes after backend_idle_timeout unused, and one the backend closes or
// writes to while it idles is dropped at once.

import type { BackendConnection } from './connection.ts';

export class ConnectionPool {
  /** Idle connections, the most recently parked last. */
  readonly #stack: BackendConnection[] = [];
  /** Their idle timers. */
  readonly #idle = new Map<BackendConnection, NodeJS.Timeout>();
  readonly #idleMs: number;

  constructor(idleMs: number) {
    this.#idleMs = Math.max(1, idleMs);
  }

  get size(): number {
    return this.#idle.size;
  }

  /** The most recently parked usable connection, taken out of the pool; null when none. */
  take(): BackendConnection | null {
    for (;;) {
      const last = this.#stack.pop();
      if (last === undefined) return null;
      clearTimeout(this.#idle.get(last));
      this.#idle.delete(last);
      last.busy();
      if (last.usable) return last;
      last.destroy();
    }
  }

  /** Parks a connection that ended its exchange clean. */
  put(conn: BackendConnection): void {
    const timer = setTimeout(() => this.#drop(conn), this.#idleMs);
    timer.unref();
    this.#idle.set(conn, timer);
    this.#stack.push(conn);
    conn.idle(() => this.#drop(conn));
  }

  /** Closes every idle connection (the backend is going away). */
  closeAll(): void {
    for (const conn of [...this.#idle.keys()]) this.#drop(conn);
  }

  #drop(conn: BackendConnection): void {
    if (!this.#forget(conn)) return;
    conn.destroy();
  }

  #forget(conn: BackendConnection): boolean {
    const timer = this.#idle.get(conn);
    if (timer === undefined) return false;
    clearTimeout(timer);
    this.#idle.delete(conn);
    this.#stack.splice(this.#stack.indexOf(conn), 1);
    return true;
  }
}
