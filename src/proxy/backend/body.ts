// A backend response body as an async iterable of Buffers, fed by the response reader. It holds
// at most about HIGH_WATER bytes: past that the reader waits (room()) until the consumer has
// caught up, and the socket, no longer read, slows the backend instead of filling memory.
//
// The connection's fate is decided by the fetch, as Varnish decides it after
// vcl_backend_response: decideConnection(close) says whether the fetch wants it closed (beresp's
// Connection as VCL left it). The connection goes back to the pool once the whole body is in
// and either that decision came or the consumer read to the end (a caller with no VCL).

import { BackendBodyError } from './failure.ts';

const HIGH_WATER = 64 * 1024;

/** The exchange behind a body: told what its consumer does. */
export interface BodyOwner {
  /** The consumer gave up before the end: the connection is closed. */
  abort(err: BackendBodyError): void;
  /** The consumer is done: it read to the end, or gave up on a body that had all come. */
  readerDone(): void;
  /** The fetch's decision on the connection (see the header). */
  decide(close: boolean): void;
}

export class BackendBody implements AsyncIterable<Buffer> {
  #chunks: Buffer[] = [];
  #queued = 0;
  #done = false;
  #error: BackendBodyError | null = null;
  #wake: (() => void) | null = null;
  #room: (() => void) | null = null;
  #iterated = false;
  readonly #owner: BodyOwner;

  /** Bytes received so far. */
  bytes = 0;

  constructor(owner: BodyOwner) {
    this.#owner = owner;
  }

  /** Whether the whole body arrived. */
  get complete(): boolean {
    return this.#done;
  }

  /** Whether the consumer stopped it (or it failed): nothing more is wanted. */
  get stopped(): boolean {
    return this.#error !== null;
  }

  /** The producer's side: returns false when the producer should wait for room(). */
  push(chunk: Buffer): boolean {
    this.#chunks.push(chunk);
    this.#queued += chunk.length;
    this.bytes += chunk.length;
    this.#notify();
    return this.#queued < HIGH_WATER;
  }

  /** Resolves when the consumer has caught up (or stopped). */
  room(): Promise<void> {
    if (this.#queued < HIGH_WATER / 2 || this.#error !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.#room = resolve;
    });
  }

  end(): void {
    this.#done = true;
    this.#notify();
  }

  fail(err: BackendBodyError): void {
    if (this.#done || this.#error) return;
    this.#error = err;
    this.#notify();
    this.#freeRoom();
  }

  /**
   * The fetch's verdict on the connection once vcl_backend_response has run: `close` when
   * bereq or beresp said `Connection: close`.
   */
  decideConnection(close: boolean): void {
    this.#owner.decide(close);
  }

  /** Stops the fetch: the connection is closed (unless the body had all come), the reader sees the end. */
  abort(): void {
    if (this.#error) return;
    if (this.#done) {
      this.#owner.readerDone();
      return;
    }
    const err = new BackendBodyError('aborted', 'backend response body aborted by its reader', undefined);
    this.#error = err;
    this.#chunks = [];
    this.#queued = 0;
    this.#owner.abort(err);
    this.#notify();
    this.#freeRoom();
  }

  /**
   * The whole body at once, when it has all come, nobody has read any of it, and it is not empty
   * and at most `max` bytes (a small response that came with its head): the chunks, and the
   * body counts as read to its end. Null otherwise, and nothing is taken: read it as it comes.
   */
  takeComplete(max: number): Buffer[] | null {
    if (!this.#done || this.#error !== null || this.#iterated || this.bytes === 0 || this.bytes > max) return null;
    this.#iterated = true;
    const chunks = this.#chunks;
    this.#chunks = [];
    this.#queued = 0;
    this.#owner.readerDone();
    return chunks;
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
          if (this.#queued < HIGH_WATER / 2) this.#freeRoom();
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
      // A reader that stops early (break, throw) lets go of the connection (which goes back
      // to the pool if the body had all come: the owner hears readerDone once either way).
      if (!this.#error) this.abort();
    }
  }

  #freeRoom(): void {
    const room = this.#room;
    if (room) {
      this.#room = null;
      room();
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
