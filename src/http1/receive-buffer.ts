// The bytes a connection received and has not used yet. A lone chunk from the socket is kept
// as it is; when more come before it is used up they go into a buffer of our own that doubles
// when full, so that a head sent in many small pieces costs linear copying, not quadratic.
// Bytes below `end` are never written again: views handed to a body reader stay valid.

const EMPTY = Buffer.alloc(0);

export class ReceiveBuffer {
  /** [start, end) of `bytes` are unread. Past `end`, an owned buffer has room to grow. */
  bytes: Buffer = EMPTY;
  start = 0;
  end = 0;
  /** Bytes after `start` already searched for a head's end (a head is not searched twice). */
  scanned = 0;
  #owned = false;

  get size(): number {
    return this.end - this.start;
  }

  /** The unread bytes, as a view. */
  peek(): Buffer {
    return this.start === 0 && this.end === this.bytes.length ? this.bytes : this.bytes.subarray(this.start, this.end);
  }

  take(n: number): void {
    this.start += n;
    this.scanned = 0;
    if (this.start >= this.end) this.clear();
  }

  clear(): void {
    this.bytes = EMPTY;
    this.start = 0;
    this.end = 0;
    this.#owned = false;
    this.scanned = 0;
  }

  append(chunk: Buffer): void {
    if (this.start >= this.end) {
      this.bytes = chunk;
      this.start = 0;
      this.end = chunk.length;
      this.#owned = false;
      return;
    }
    if (this.#owned && this.bytes.length - this.end >= chunk.length) {
      chunk.copy(this.bytes, this.end);
      this.end += chunk.length;
      return;
    }
    const rest = this.end - this.start;
    const grown = Buffer.allocUnsafe(Math.max(4096, 2 * (rest + chunk.length)));
    this.bytes.copy(grown, 0, this.start, this.end);
    chunk.copy(grown, rest);
    this.scanned = Math.min(this.scanned, rest);
    this.bytes = grown;
    this.start = 0;
    this.end = rest + chunk.length;
    this.#owned = true;
  }
}
