// A binary min-heap of objects by end of life (origin + ttl + grace + keep), so expiry looks
// only at the objects that are due. It holds object ids in an Int32Array and reads their times
// from the object table (object-table.ts): no JS object per entry, nothing for the collector to
// follow. Each id's position is in the table (heapAt), which makes removal and re-arming (a
// purge changed its times) O(log n).

import { resized, shrunkLength } from './id-pool.ts';
import type { CacheObject } from './object.ts';
import { NONE, type ObjectTable } from './object-table.ts';

export class ExpiryHeap {
  #ids = new Int32Array(1024);

  /** Bytes of its array (for the memory figures). */
  get bytes(): number {
    return this.#ids.byteLength;
  }
  #n = 0;
  readonly #table: ObjectTable;

  constructor(table: ObjectTable) {
    this.#table = table;
  }

  get size(): number {
    return this.#n;
  }

  /** The object that dies first, or undefined. */
  peek(): CacheObject | undefined {
    return this.#n === 0 ? undefined : (this.#table.handles[this.#ids[0]] ?? undefined);
  }

  /** Adds an object of the table (one outside it has no end of life to keep). */
  push(obj: CacheObject): void {
    const id = obj.id;
    if (id === NONE || this.#table.heapAt[id] !== NONE) return;
    if (this.#n === this.#ids.length) this.#ids = resized(this.#ids, this.#ids.length * 2);
    this.#ids[this.#n] = id;
    this.#up(this.#n++, id);
  }

  remove(obj: CacheObject): void {
    const id = obj.id;
    if (id === NONE) return;
    const heapAt = this.#table.heapAt;
    const i = heapAt[id];
    if (i === NONE) return;
    heapAt[id] = NONE;
    const last = this.#ids[--this.#n];
    // A cache that held many objects and holds few now gives the room back.
    if (this.#n * 4 <= this.#ids.length && this.#ids.length > 1024) this.#ids = resized(this.#ids, shrunkLength(this.#ids.length, this.#n, 1024));
    if (last === id) return;
    this.#down(i, last);
    this.#up(this.#table.heapAt[last], last);
  }

  /** Restores order after the object's times changed. */
  update(obj: CacheObject): void {
    const id = obj.id;
    if (id === NONE || this.#table.heapAt[id] === NONE) return;
    this.#up(this.#table.heapAt[id], id);
    this.#down(this.#table.heapAt[id], id);
  }

  /** Moves `id` from position i toward the root while its parent dies later. */
  #up(i: number, id: number): void {
    const ids = this.#ids;
    const t = this.#table;
    const key = t.endOfLife(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = ids[parent];
      if (t.endOfLife(p) <= key) break;
      ids[i] = p;
      t.heapAt[p] = i;
      i = parent;
    }
    ids[i] = id;
    t.heapAt[id] = i;
  }

  /** Puts `id` at position i and moves it toward the leaves while a child dies sooner. */
  #down(i: number, id: number): void {
    const ids = this.#ids;
    const t = this.#table;
    const n = this.#n;
    const key = t.endOfLife(id);
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && t.endOfLife(ids[right]) < t.endOfLife(ids[left]) ? right : left;
      const c = ids[child];
      if (t.endOfLife(c) >= key) break;
      ids[i] = c;
      t.heapAt[c] = i;
      i = child;
    }
    ids[i] = id;
    t.heapAt[id] = i;
  }
}
