// A body read as it arrives, addressed by absolute byte offsets: ESI delivery asks for a range
// of a page that may not have been fetched yet, and waits for it. What the walk is done with is
// dropped, so a long page is not held whole.

import type { Body } from './stage.ts';

export class BodyWindow {
  /** Bytes that arrived so far. */
  received = 0;
  ended = false;
  readonly #it: AsyncIterator<Buffer>;
  readonly #chunks: Buffer[] = [];
  /** Absolute offset of #chunks[0]. */
  #base = 0;

  constructor(input: Body) {
    this.#it = input[Symbol.asyncIterator]();
  }

  /** Reads one more chunk; false when the body has ended. */
  async more(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.#it.next();
    if (r.done === true) {
      this.ended = true;
      return false;
    }
    if (r.value.length > 0) {
      this.#chunks.push(r.value);
      this.received += r.value.length;
    }
    return true;
  }

  /** Waits until bytes up to `end` arrived; false when the body ended short of it. */
  async until(end: number): Promise<boolean> {
    while (this.received < end) if (!(await this.more())) return false;
    return true;
  }

  /** The bytes [start, end) that arrived, as the stored chunks' views (no copy). */
  *views(start: number, end: number): Generator<Buffer> {
    let at = this.#base;
    for (const c of this.#chunks) {
      const next = at + c.length;
      if (next > start && at < end) yield c.subarray(Math.max(0, start - at), Math.min(c.length, end - at));
      if (next >= end) return;
      at = next;
    }
  }

  /** The bytes [start, end) as one buffer. */
  slice(start: number, end: number): Buffer {
    const parts = [...this.views(start, end)];
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /** Forgets the chunks wholly before `offset`. */
  drop(offset: number): void {
    while (this.#chunks.length > 0 && this.#base + this.#chunks[0].length <= offset) this.#base += this.#chunks.shift()!.length;
  }

  /** Stops reading: the source is told (a stored body's reader lets go). */
  async close(): Promise<void> {
    if (!this.ended) await this.#it.return?.();
  }
}
