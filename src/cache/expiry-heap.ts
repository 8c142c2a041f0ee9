// A binary min-heap of objects by end of life (origin + ttl + grace + keep), so expiry looks
// only at the objects that are due. Each object records its own position (heapIndex), which
// makes removal and re-arming (a purge changed its times) O(log n).

import type { CacheObject } from './object.ts';

export class ExpiryHeap {
  readonly #items: CacheObject[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** The object that dies first, or undefined. */
  peek(): CacheObject | undefined {
    return this.#items[0];
  }

  push(obj: CacheObject): void {
    obj.heapIndex = this.#items.length;
    this.#items.push(obj);
    this.#up(obj.heapIndex);
  }

  remove(obj: CacheObject): void {
    const i = obj.heapIndex;
    if (i < 0) return;
    const items = this.#items;
    const last = items.pop()!;
    obj.heapIndex = -1;
    if (last === obj) return;
    items[i] = last;
    last.heapIndex = i;
    this.#down(i);
    this.#up(last.heapIndex);
  }

  /** Restores order after the object's times changed. */
  update(obj: CacheObject): void {
    if (obj.heapIndex < 0) return;
    this.#up(obj.heapIndex);
    this.#down(obj.heapIndex);
  }

  #up(i: number): void {
    const items = this.#items;
    const obj = items[i];
    const key = obj.endOfLife;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent].endOfLife <= key) break;
      items[i] = items[parent];
      items[i].heapIndex = i;
      i = parent;
    }
    items[i] = obj;
    obj.heapIndex = i;
  }

  #down(i: number): void {
    const items = this.#items;
    const n = items.length;
    const obj = items[i];
    const key = obj.endOfLife;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && items[right].endOfLife < items[left].endOfLife ? right : left;
      if (items[child].endOfLife >= key) break;
      items[i] = items[child];
      items[i].heapIndex = i;
      i = child;
    }
    items[i] = obj;
    obj.heapIndex = i;
  }
}
