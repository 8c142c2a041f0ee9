// A backend response body as an async iterable of Buffers, fed by undici's data callbacks. It
// holds at most about HIGH_WATER bytes: past that it pauses the connection until the reader has
// caught up, so a slow reader slows the backend instead of filling memory. A stall of the
// backend (not of the reader) longer than between_bytes_timeout ends it with an error.

import { BackendBodyError } from './failure.ts';

const HIGH_WATER = 64 * 1024;

export class BackendBody implements AsyncIterable<Buffer> {
  #chunks: Buffer[] = [];
  #queued = 0;
  #done = false;
  #error: BackendBodyError | null = null;
  #wake: (() => void) | null = null;
  #paused = false;
  #iterated = false;
  #resume: () => void;
  #abort: (reason: Error) => void;

  /** Bytes received so far. */
  bytes = 0;

  constructor(resume: () => void, abort: (reason: Error) => void) {
    this.#resume = resume;
    this.#abort = abort;
  }

  /** Whether the whole body arrived. */
  get complete(): boolean {
    return this.#done;
  }

  /** The producer's side: returns false to ask the connection to pause. */
  push(chunk: Buffer): boolean {
    this.#chunks.push(chunk);
    this.#queued += chunk.length;
    this.bytes += chunk.length;
    this.#notify();
    if (this.#queued >= HIGH_WATER) this.#paused = true;
    return !this.#paused;
  }

  end(): void {
    this.#done = true;
    this.#notify();
  }

  fail(err: BackendBodyError): void {
    if (this.#done || this.#error) return;
    this.#error = err;
    this.#notify();
  }

  /** Stops the fetch: the connection is closed, the reader sees the end. */
  abort(): void {
    if (this.#done || this.#error) return;
    const err = new BackendBodyError('aborted', 'backend response body aborted by its reader', undefined);
    this.#error = err;
    this.#chunks = [];
    this.#queued = 0;
    this.#abort(err);
    this.#notify();
  }

  /** Reads the rest into one Buffer (for small bodies and tests). */
  async readAll(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this) parts.push(chunk);
    return Buffer.concat(parts);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    if (this.#iterated) throw new Error('a backend body can be read only once');
    this.#iterated = true;
    try {
      for (;;) {
        const chunk = this.#chunks.shift();
        if (chunk !== undefined) {
          this.#queued -= chunk.length;
          if (this.#paused && this.#queued < HIGH_WATER / 2) {
            this.#paused = false;
            this.#resume();
          }
          yield chunk;
          continue;
        }
        if (this.#error) throw this.#error;
        if (this.#done) return;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
        });
      }
    } finally {
      // A reader that stops early (break, throw) lets go of the connection.
      if (!this.#done && !this.#error) this.abort();
    }
  }

  #notify(): void {
    const wake = this.#wake;
    if (wake) {
      this.#wake = null;
      wake();
    }
  }
}
