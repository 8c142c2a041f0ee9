// Ids for the arrays that index by id (the object table's rows and links, the object index's
// heads), handed out lowest first, so that the ids in use gather at the bottom and the arrays
// can give their top back when fewer are in use. Before, a free id was the last one freed: a
// cache that once held 300,000 small objects and then 25,000 large ones kept the arrays of
// 300,000 (about 80 MB beside a full storage, docs/storage.md).
//
// The free ids are a bitmap (one bit per id below `made`, set while free) under a summary (one
// bit per word of it, set while the word has a free bit), with a hint, the lowest word that may
// have a free bit: taking an id reads the summary from there, 1,024 ids a word. (Scanning the
// bitmap alone cost 1.3 µs per take when evictions free ids all over 330,000; 0.1 with it.) Ids are
// counted by block (2^shift ids, a page of the arrays): when a give empties a block and at least
// two blocks above the highest one in use are empty, the top is cut to one spare block above it.

export class IdPool {
  /** Every id in use is below it; taking a new id raises it, a cut lowers it. */
  made = 0;
  #free = new Uint32Array(128);
  #summary = new Uint32Array(4);
  #freeCount = 0;
  #hint = 0;
  #blockLive = new Int32Array(16);
  readonly #shift: number;

  /** `shift`: log2 of the block, at least 5 (a block is whole words of the bitmap). */
  constructor(shift: number) {
    if (shift < 5) throw new RangeError('an id block is at least 32 ids');
    this.#shift = shift;
  }

  /** Ids in use. */
  get live(): number {
    return this.made - this.#freeCount;
  }

  /** The lowest free id (`made` when none is free: then `made` goes up by one). */
  take(): number {
    let id: number;
    if (this.#freeCount > 0) {
      const summary = this.#summary;
      let s = this.#hint >> 5;
      while (summary[s] === 0) s++;
      const sv = summary[s];
      const w = (s << 5) | (31 - Math.clz32(sv & -sv));
      const v = this.#free[w];
      const left = v & (v - 1);
      this.#free[w] = left;
      if (left === 0) summary[s] = sv & (sv - 1);
      this.#hint = w;
      this.#freeCount--;
      id = (w << 5) | (31 - Math.clz32(v & -v));
    } else {
      id = this.made++;
      if (id >> 5 >= this.#free.length) {
        this.#free = resized(this.#free, this.#free.length * 2);
        this.#summary = resized(this.#summary, (this.#free.length + 31) >> 5);
      }
      if (id >> this.#shift >= this.#blockLive.length) this.#blockLive = resized(this.#blockLive, this.#blockLive.length * 2);
    }
    this.#blockLive[id >> this.#shift]++;
    return id;
  }

  /**
   * `id` is free again. Returns the new `made` when the top was cut (every id from it up is gone:
   * the arrays may shrink to it), else -1.
   */
  give(id: number): number {
    const w = id >> 5;
    this.#free[w] |= 1 << (id & 31);
    this.#summary[w >> 5] |= 1 << (w & 31);
    this.#freeCount++;
    if (w < this.#hint) this.#hint = w;
    if (--this.#blockLive[id >> this.#shift] !== 0) return -1;
    const size = 1 << this.#shift;
    let highest = ((this.made + size - 1) >> this.#shift) - 1;
    while (highest >= 0 && this.#blockLive[highest] === 0) highest--;
    const cut = (highest + 2) * size;
    if (cut >= this.made) return -1;
    // Every id from the cut up is free (its block is empty): they go.
    const cw = cut >> 5;
    this.#free.fill(0, cw, (this.made + 31) >> 5);
    this.#summary[cw >> 5] &= (1 << (cw & 31)) - 1;
    this.#summary.fill(0, (cw >> 5) + 1);
    this.#freeCount -= this.made - cut;
    this.made = cut;
    if (this.#hint > cw) this.#hint = cw;
    // The bitmap shrinks too (its length stays a power of two).
    const words = shrunkLength(this.#free.length, cw, 128);
    if (words < this.#free.length) {
      this.#free = resized(this.#free, words);
      this.#summary = resized(this.#summary, (words + 31) >> 5);
    }
    return cut;
  }
}

type IdArray = Int32Array | Uint32Array | Uint8Array;

/** A copy of `a` at length `n`: longer with zeros, or cut (what is cut is free ids' entries). */
export function resized<T extends IdArray>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a.length <= n ? a : (a.subarray(0, n) as T));
  return b;
}

/**
 * The length an array indexed by id shrinks to when `used` entries are left: halved while a
 * quarter would do, not below `floor` (so it keeps twice what is used, and a cache growing again
 * does not copy it at once).
 */
export function shrunkLength(length: number, used: number, floor: number): number {
  let n = length;
  while (n > floor && n >= 4 * used) n >>= 1;
  return n;
}
