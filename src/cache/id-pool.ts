// Ids for the arrays that index by id (the object table's rows and links, the object index's
// heads), handed out lowest first, so that the ids in use gather at the bottom and the arrays
// can give their top back when fewer are in use. Before, a free id was the last one freed: a
// cache that once held 300,000 small objects and then 25,000 large ones kept the arrays of
// 300,000 (about 80 MB beside a full storage, docs/storage.md).
//
// The free ids are a bitmap (one bit per id below `made`, set while free) with a hint, the
// lowest word that may have a free bit: taking an id reads that word, and a word that runs out
// moves the hint up, so each full word is passed over once between two gives below it. Ids are
// counted by block (2^shift ids, a page of the arrays): when a give empties a block and at least
// two blocks above the highest one in use are empty, the top is cut to one spare block above it.

export class IdPool {
  /** Every id in use is below it; taking a new id raises it, a cut lowers it. */
  made = 0;
  #free = new Uint32Array(128);
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
      const free = this.#free;
      let w = this.#hint;
      while (free[w] === 0) w++;
      const v = free[w];
      free[w] = v & (v - 1);
      this.#hint = w;
      this.#freeCount--;
      id = (w << 5) | (31 - Math.clz32(v & -v));
    } else {
      id = this.made++;
      if (id >> 5 >= this.#free.length) this.#free = grown(this.#free, this.#free.length * 2);
      if (id >> this.#shift >= this.#blockLive.length) this.#blockLive = grown(this.#blockLive, this.#blockLive.length * 2);
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
    this.#freeCount++;
    if (w < this.#hint) this.#hint = w;
    if (--this.#blockLive[id >> this.#shift] !== 0) return -1;
    const size = 1 << this.#shift;
    let highest = ((this.made + size - 1) >> this.#shift) - 1;
    while (highest >= 0 && this.#blockLive[highest] === 0) highest--;
    const cut = (highest + 2) * size;
    if (cut >= this.made) return -1;
    // Every id from the cut up is free (its block is empty): they go.
    this.#free.fill(0, cut >> 5, (this.made + 31) >> 5);
    this.#freeCount -= this.made - cut;
    this.made = cut;
    if (this.#hint > cut >> 5) this.#hint = cut >> 5;
    if (this.#free.length >= 4 * Math.max(128, cut >> 5)) this.#free = this.#free.slice(0, 2 * Math.max(128, cut >> 5));
    return cut;
  }
}

function grown<T extends Uint32Array | Int32Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}
