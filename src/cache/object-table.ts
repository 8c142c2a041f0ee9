// The object table: the numbers every cached object has, in typed arrays indexed by an object
// id, rather than as fields of a JS object each. A million objects are then a few large arrays
// the collector never looks into (typed arrays hold no references), where fields were a
// million objects' worth of slots and boxed doubles (origin, ttl, lruTouched: a HeapNumber
// each) to mark and copy.
//
// Two parts:
// - rows of Float64 (ROW fields below), in pages of PAGE_ROWS rows that never move: an object's
//   handle keeps its page and offset, so reading obj.ttl is one typed-array load. A page is
//   made when the rows before it are all taken; the empty pages above the highest one in use
//   are dropped but one (free()).
// - links by id (the LRU list's prev/next, the expiry heap position, the head and next variant
//   of the object index, the neighbours among a ban's objects) in Int32Arrays that grow
//   by doubling: only the table's own users (stevedore.ts, expiry-heap.ts, object-index.ts,
//   ban-list.ts) read them, by id.
// `handles[id]` is the object at an id (eviction and expiry start from an id).
// Ids are handed out lowest first (id-pool.ts): when fewer objects are in use than once were,
// the pages and links above the highest in use are given back.
//
// Each cache has its own table (its storages' LRU lists and its expiry heap are over its ids),
// and the table goes with the cache. An object takes a row when it enters the cache (commit)
// and gives it back when it leaves;
// its handle then copies the row into a small array of its own, so that whoever still holds it
// (a request delivering it, a revalidation) reads the same values. An object that never
// enters the cache (a pass's) has its own array from the start.

import { IdPool, resized, shrunkLength } from './id-pool.ts';
import type { CacheObject } from './object.ts';

/** The Float64 fields of a row, by offset. */
export const ROW = {
  /** t_origin: fetch time minus Age (seconds). */
  origin: 0,
  ttl: 1,
  grace: 2,
  keep: 3,
  /** When a hit last moved it up the LRU list. */
  lruTouched: 4,
  /** When a lookup or commit last handed it out (whole seconds). */
  lentAt: 5,
  /** Last-Modified as a time, or the fetch time. */
  lastModified: 6,
  /** The xid of the fetch that made it. */
  xid: 7,
  /** Lookups that found it (obj.hits). */
  hits: 8,
  bodyBytes: 9,
  /** Bytes and allocations charged to its storage. */
  storedBytes: 10,
  storedAllocs: 11,
  /** Where its header block is in its storage's space (-1: not there). */
  headAt: 12,
  headerBytes: 13,
  /** Body pieces, and where the first is (a one-piece body needs no array: most small ones). */
  pieces: 14,
  piece0At: 15,
  piece0Length: 16,
  /** Lookups and commits that handed it out and whose taker has not said it is done. */
  lends: 17,
  /** What a hit needs of its stored head without decoding it (header-block.ts HeadFacts). */
  head: 18,
} as const;

export const ROW_FIELDS = 19;

/** Rows per page: 4096 × 19 doubles = 608 KB. */
const PAGE_ROWS = 4096;
const PAGE_SHIFT = 12;

/** No object (an end of the LRU list, a position outside the heap). */
export const NONE = -1;

export class ObjectTable {
  /** The object at each id (null: a free id). */
  readonly handles: (CacheObject | null)[] = [];
  readonly #pages: Float64Array[] = [];
  /** LRU neighbours by id: prev is the newer one, next the older. */
  lruPrev = new Int32Array(PAGE_ROWS);
  lruNext = new Int32Array(PAGE_ROWS);
  /** Position in the expiry heap (NONE: not in it). */
  heapAt = new Int32Array(PAGE_ROWS);
  /** 1 while the object is on its storage's LRU list. */
  onLru = new Uint8Array(PAGE_ROWS);
  /** Its head in the object index (object-index.ts), and the next older object of that head. */
  headOf = new Int32Array(PAGE_ROWS);
  variantNext = new Int32Array(PAGE_ROWS);
  /** Neighbours among the objects of the same ban (ban-list.ts). */
  banPrev = new Int32Array(PAGE_ROWS);
  banNext = new Int32Array(PAGE_ROWS);
  readonly #ids = new IdPool(PAGE_SHIFT);
  /** Ids in use. */
  get live(): number {
    return this.#ids.live;
  }

  /** Takes an id for `obj`; its row is at `page(id)[offset(id)]`. */
  alloc(obj: CacheObject): number {
    const id = this.#ids.take();
    if (id === this.handles.length) {
      this.handles.push(obj);
      if (id >> PAGE_SHIFT >= this.#pages.length) this.#pages.push(new Float64Array(PAGE_ROWS * ROW_FIELDS));
      if (id >= this.lruPrev.length) this.#resize(this.lruPrev.length * 2);
    } else this.handles[id] = obj;
    this.lruPrev[id] = NONE;
    this.lruNext[id] = NONE;
    this.heapAt[id] = NONE;
    this.onLru[id] = 0;
    this.headOf[id] = NONE;
    this.variantNext[id] = NONE;
    this.banPrev[id] = NONE;
    this.banNext[id] = NONE;
    return id;
  }

  /** The id is free again (its object left the cache and copied its row). */
  free(id: number): void {
    this.handles[id] = null;
    const cut = this.#ids.give(id);
    if (cut < 0) return;
    // The ids from `cut` up are gone: their pages, handles and links go too.
    this.#pages.length = cut >> PAGE_SHIFT;
    this.handles.length = cut;
    const n = shrunkLength(this.lruPrev.length, cut, PAGE_ROWS);
    if (n < this.lruPrev.length) this.#resize(n);
  }

  page(id: number): Float64Array {
    return this.#pages[id >> PAGE_SHIFT];
  }

  offset(id: number): number {
    return (id & (PAGE_ROWS - 1)) * ROW_FIELDS;
  }

  /** When the object at `id` leaves the cache: origin + ttl + grace + keep. */
  endOfLife(id: number): number {
    const p = this.#pages[id >> PAGE_SHIFT];
    const at = (id & (PAGE_ROWS - 1)) * ROW_FIELDS;
    return p[at + ROW.origin] + p[at + ROW.ttl] + p[at + ROW.grace] + p[at + ROW.keep];
  }

  /** What the table holds outside the JS heap's objects (for the memory figures). */
  get bytes(): number {
    return this.#pages.length * PAGE_ROWS * ROW_FIELDS * 8 + this.lruPrev.length * 29 + this.handles.length * 4;
  }

  /** The links by id, at `n` ids (ids from `n` up are all free when it shrinks). */
  #resize(n: number): void {
    this.lruPrev = resized(this.lruPrev, n);
    this.lruNext = resized(this.lruNext, n);
    this.heapAt = resized(this.heapAt, n);
    this.onLru = resized(this.onLru, n);
    this.headOf = resized(this.headOf, n);
    this.variantNext = resized(this.variantNext, n);
    this.banPrev = resized(this.banPrev, n);
    this.banNext = resized(this.banNext, n);
  }
}
