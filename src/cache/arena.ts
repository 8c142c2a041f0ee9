// The allocator of a bounded storage (the placement half of a stevedore): byte ranges of one
// address space of `capacity` bytes, cut into slabs no allocation crosses. It knows offsets
// only, never the bytes: the same allocator places objects in memory slabs (space.ts) and in a
// file (`-s file`), and all its bookkeeping stays out of the space, so freeing a range never
// reads the file.
//
// Free ranges are kept by size class (a power of two split in four: a range found in a class
// above the request's always fits), and by both ends so that a freed range joins its free
// neighbours at once (no fragmentation builds up from frees alone). A request takes the lowest
// class that has a range known to fit, splits it, and gives back the tail. Allocations are
// rounded up to GRANULE bytes. What is in use is not recorded here: the owner gives back the
// offset and size it was given.
//
// The free ranges are a few Maps and Sets of numbers; their count is at most one more than the
// live allocations and, with joining, usually far less.

/** Every allocation is rounded up to a multiple of this (and starts on one). */
export const GRANULE = 8;

/** Size classes: 0..15 exact (in granules), then four per power of two. */
const EXACT = 16;

function classOf(granules: number): number {
  if (granules < EXACT) return granules;
  const e = 31 - Math.clz32(granules);
  return EXACT + (e - 4) * 4 + ((granules >>> (e - 2)) & 3);
}

/** Ranges a request scans in its own class before it takes one from a class above. */
const SAME_CLASS_SCAN = 8;

export class Arena {
  /** Bytes of address space (a multiple of GRANULE). */
  readonly capacity: number;
  /** No allocation crosses a multiple of this; the largest one possible. */
  readonly slabBytes: number;
  /** Bytes handed out and not given back (rounded sizes). */
  used = 0;
  /** Ranges handed out and not given back. */
  allocations = 0;
  /** Free ranges by start and by end (both in granules): size, and start. */
  readonly #byStart = new Map<number, number>();
  readonly #byEnd = new Map<number, number>();
  /** Starts of the free ranges of each size class. */
  readonly #classes: Set<number>[] = [];
  readonly #slabGranules: number;

  constructor(capacity: number, slabBytes: number) {
    if (!(capacity > 0) || !(slabBytes > 0)) throw new RangeError('an arena needs a positive capacity and slab size');
    this.slabBytes = Math.floor(Math.min(slabBytes, capacity) / GRANULE) * GRANULE;
    this.capacity = Math.floor(capacity / GRANULE) * GRANULE;
    this.#slabGranules = this.slabBytes / GRANULE;
    const total = this.capacity / GRANULE;
    for (let c = 0; c <= classOf(Math.max(total, this.#slabGranules)); c++) this.#classes.push(new Set());
    for (let start = 0; start < total; start += this.#slabGranules) this.#addFree(start, Math.min(this.#slabGranules, total - start));
  }

  /** Bytes that are free (in however many pieces). */
  get free(): number {
    return this.capacity - this.used;
  }

  /** Free ranges: 1 per slab when empty, more as the space fragments. */
  get freeRanges(): number {
    return this.#byStart.size;
  }

  /** Free ranges smaller than `bytes` (a multiple of a power of two above 128 B). */
  freeRangesBelow(bytes: number): number {
    let n = 0;
    const top = Math.min(classOf(Math.ceil(bytes / GRANULE)), this.#classes.length);
    for (let c = 0; c < top; c++) n += this.#classes[c].size;
    return n;
  }

  /** What `bytes` takes once rounded. */
  static rounded(bytes: number): number {
    return Math.ceil(bytes / GRANULE) * GRANULE;
  }

  /** A byte offset for `bytes` (1 to slabBytes), or -1 when no free range is large enough. */
  alloc(bytes: number): number {
    if (!(bytes > 0) || bytes > this.slabBytes) return -1;
    const want = Math.ceil(bytes / GRANULE);
    const start = this.#find(want);
    if (start < 0) return -1;
    const size = this.#byStart.get(start)!;
    this.#removeFree(start, size);
    if (size > want) this.#addFree(start + want, size - want);
    this.used += want * GRANULE;
    this.allocations++;
    return start * GRANULE;
  }

  /** Gives back what alloc(bytes) returned at `offset`; joins it with free neighbours. */
  release(offset: number, bytes: number): void {
    let start = offset / GRANULE;
    let size = Math.ceil(bytes / GRANULE);
    if (!Number.isInteger(start) || size <= 0 || start + size > this.capacity / GRANULE || this.#byStart.has(start)) {
      throw new RangeError(`arena: bad release of ${bytes} bytes at ${offset}`);
    }
    this.used -= size * GRANULE;
    this.allocations--;
    const slab = this.#slabGranules;
    // Join the free range ending here, unless a slab starts here.
    const before = start % slab === 0 ? undefined : this.#byEnd.get(start);
    if (before !== undefined) {
      const beforeSize = start - before;
      this.#removeFree(before, beforeSize);
      start = before;
      size += beforeSize;
    }
    const end = start + size;
    const afterSize = end % slab === 0 ? undefined : this.#byStart.get(end);
    if (afterSize !== undefined) {
      this.#removeFree(end, afterSize);
      size += afterSize;
    }
    this.#addFree(start, size);
  }

  /** The start (granules) of a free range of at least `want` granules, or -1. */
  #find(want: number): number {
    const first = classOf(want);
    // Exact classes hold one size only: any range there fits.
    if (first >= EXACT) {
      let scanned = 0;
      for (const start of this.#classes[first]) {
        if (this.#byStart.get(start)! >= want) return start;
        if (++scanned >= SAME_CLASS_SCAN) break;
      }
    }
    const from = first >= EXACT ? first + 1 : first;
    for (let c = from; c < this.#classes.length; c++) {
      const set = this.#classes[c];
      if (set.size > 0) return lowest(set);
    }
    return -1;
  }

  #addFree(start: number, size: number): void {
    this.#byStart.set(start, size);
    this.#byEnd.set(start + size, start);
    this.#classes[classOf(size)].add(start);
  }

  #removeFree(start: number, size: number): void {
    this.#byStart.delete(start);
    this.#byEnd.delete(start + size);
    this.#classes[classOf(size)].delete(start);
  }
}

/**
 * The first range of a set, in the order they were freed. (Sets iterate in insertion order;
 * the oldest free range is as good as any, and taking it costs no search.)
 */
function lowest(set: Set<number>): number {
  for (const start of set) return start;
  return -1;
}
