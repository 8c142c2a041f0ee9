// A storage (Varnish's stevedore): a byte bound, the SMA counters varnishstat shows for it, and
// the LRU list of the committed objects it holds. Every byte an object costs is asked for here:
// one allocation for its head (the fixed per-object charge plus the stored header block), one
// per body chunk. A request that does not fit evicts the least recently used objects of this
// storage, at most `nuke_limit` for one allocation (as varnishd's), then fails.
//
// The LRU is a doubly linked list by object id through the object table's lruPrev/lruNext
// arrays (object-table.ts): adding, touching and removing cost no allocation and no search, the
// collector has no links to follow, and eviction takes the oldest in O(1). lru-cache went with the single bound: it evicts as many entries as it likes, which
// cannot express nuke_limit nor several storages with one object index.
//
// Transient is a stevedore like the others, unbounded unless `-s Transient=malloc,SIZE` bounds
// it (as in varnishd); pass objects, hit-for-pass/-miss markers and short-lived objects live in it.
//
// Two halves: the accounting above (what `-s` promises, as varnishd counts it: the charge of
// each allocation) and the placement (where the bytes go). A bounded storage places every header
// block and body piece in its arena (arena.ts) over its space (space.ts: memory slabs, or a
// file for `-s file`), so what it holds is its size in a few large allocations, whatever the
// number of objects. A range that cannot be placed (the space is fragmented though the charge
// fits) evicts like a charge that does not fit. An unbounded storage keeps the Buffers as they
// came (no space to size), counted all the same.
//
// The objects' own bookkeeping (a CacheObject handle, its row of the object table, its head and
// index entries: OBJECT_INDEX_BYTES each, measured with the heap's growth around them) is not in
// the space, and a storage pays for
// it from its size too, beyond the first INDEX_ALLOWANCE objects: placing a range also asks
// that the space used plus the index of its objects stay within the size. g_bytes still counts
// as varnishd's does (a 128-byte charge per object); what this adds is the room a storage of
// many small objects leaves unused, so that the process, not only the counter, keeps `-s`.

import { Arena } from './arena.ts';
import type { CacheObject, ObjectStorage } from './object.ts';
import { NONE, type ObjectTable } from './object-table.ts';
import { FileSpace, MemorySpace, SLAB_BYTES, type Space } from './space.ts';

/**
 * What one stored object costs the process besides its bytes: its CacheObject (a handle of 136 B
 * when cold, object.ts), its row and links in the object table and its key and head in the
 * object index (typed arrays, object-table.ts and object-index.ts: about 230 B once the arrays
 * have grown around it), measured at 149 B of heap and 269 B of arrays while they grow
 * (test/cache/object-memory.test.ts keeps the figure true), and room for the heap to collect.
 */
export const OBJECT_INDEX_BYTES = 512;

/** Free ranges below this are fragments (SMF g_smf_frag). */
const SMALL_RANGE = 16 * 1024;

/** Objects a storage holds before their index counts against its size (a fixed overhead). */
export const INDEX_ALLOWANCE = 1000;

export interface StorageSpec {
  readonly name: string;
  /** The byte bound; Infinity for an unbounded storage (Transient by default). */
  readonly bytes: number;
  /** `-s malloc` (the default) or `-s file,PATH,SIZE`. */
  readonly kind?: 'malloc' | 'file';
  /** The file of a file storage. */
  readonly path?: string;
}

/** Why an allocation was refused: it could never fit, or nuke_limit evictions were not enough. */
export type AllocFailure = 'too_big' | 'nuke_limited' | 'no_victim';

export class Stevedore implements ObjectStorage {
  readonly name: string;
  readonly maxBytes: number;
  readonly kind: 'malloc' | 'file';
  /** Where bytes are placed; null for an unbounded storage (they stay in their Buffers). */
  readonly arena: Arena | null;
  readonly space: Space | null;
  c_req = 0;
  c_fail = 0;
  c_bytes = 0;
  c_freed = 0;
  g_alloc = 0;
  g_bytes = 0;
  /** Committed objects on the LRU list. */
  lruLength = 0;
  /** Ids of the newest and the oldest object on the list (NONE when empty). */
  #newest = NONE;
  #oldest = NONE;

  /** The object table of the cache the storage belongs to (the LRU list is over its ids). */
  readonly #table: ObjectTable;

  constructor(spec: StorageSpec, table: ObjectTable) {
    this.#table = table;
    this.name = spec.name;
    this.maxBytes = spec.bytes;
    this.kind = spec.kind ?? 'malloc';
    if (this.kind === 'file' && (spec.path === undefined || !Number.isFinite(spec.bytes))) throw new Error(`storage ${spec.name}: a file storage needs a path and a size`);
    if (Number.isFinite(spec.bytes) && spec.bytes > 0) {
      this.arena = new Arena(spec.bytes, SLAB_BYTES);
      this.space = this.kind === 'file' ? new FileSpace(spec.path!, this.arena.capacity) : new MemorySpace(this.arena.capacity, this.arena.slabBytes);
    } else {
      this.arena = null;
      this.space = null;
    }
  }

  /** Gives back a range of the space (an object's piece, by its offset and length). */
  readonly release = (at: number, bytes: number): void => {
    this.arena!.release(at, bytes);
  };

  /**
   * Places `src` in the space, evicting with `nuke` the oldest objects but obj while no free
   * range is large enough, at most `nukeLimit` of them. The offset, or -1 (counted in c_fail).
   */
  place(obj: CacheObject, src: Uint8Array, nukeLimit: number, nuke: (victim: CacheObject) => void): number {
    const arena = this.arena!;
    const need = Arena.rounded(src.length);
    for (let nuked = 0; ; nuked++) {
      const at = arena.used + need + this.indexBytes <= arena.capacity ? arena.alloc(src.length) : -1;
      if (at >= 0) {
        this.space!.write(at, src);
        return at;
      }
      const victim = this.#victim(obj);
      if (victim === null || nuked >= nukeLimit) {
        this.c_fail++;
        return -1;
      }
      nuke(victim);
    }
  }

  // SMF.<name>.*: a file storage's ranges, as varnishd counts its smf structs.
  get g_smf(): number {
    return this.arena === null ? 0 : this.arena.allocations + this.arena.freeRanges;
  }

  get g_smf_frag(): number {
    return this.arena?.freeRangesBelow(SMALL_RANGE) ?? 0;
  }

  get g_smf_large(): number {
    return this.arena === null ? 0 : this.arena.freeRanges - this.g_smf_frag;
  }

  /** What the index of this storage's objects takes from its size (with one more object). */
  get indexBytes(): number {
    return Math.max(0, this.lruLength + 1 - INDEX_ALLOWANCE) * OBJECT_INDEX_BYTES;
  }

  /** The file of a file storage is closed (the server stops). */
  close(): void {
    this.space?.close();
  }

  /** Bytes left; 0 for an unbounded storage, as varnishstat shows Transient's. */
  get g_space(): number {
    return Number.isFinite(this.maxBytes) ? this.maxBytes - this.g_bytes : 0;
  }

  // ObjectStorage: what storage.<name>.* reads in VCL.
  get freeSpace(): number {
    return this.g_space;
  }

  get usedSpace(): number {
    return this.g_bytes;
  }

  get happy(): boolean {
    return true;
  }

  /**
   * Charges `bytes` in `allocs` allocations to `obj`, evicting with `nuke` the oldest objects but
   * obj while it does not fit, at most `nukeLimit` of them (per allocation, as varnishd's
   * objallocwithnuke). Null when done.
   */
  alloc(obj: CacheObject, bytes: number, allocs: number, nukeLimit: number, nuke: (victim: CacheObject) => void): AllocFailure | null {
    this.c_req += allocs;
    let failure: AllocFailure | null = null;
    let nuked = 0;
    if (bytes > this.maxBytes) failure = 'too_big';
    // Every attempt that does not fit counts in c_fail, also one a nuke then makes room for, as
    // varnishd's allocator counts its failed tries (esi/r01941).
    if (failure !== null) this.c_fail++;
    while (failure === null && this.g_bytes + bytes > this.maxBytes) {
      this.c_fail++;
      const victim = this.#victim(obj);
      if (victim === null) failure = 'no_victim';
      else if (nuked >= nukeLimit) failure = 'nuke_limited';
      else {
        nuked++;
        nuke(victim);
      }
    }
    if (failure !== null) return failure;
    this.g_bytes += bytes;
    this.c_bytes += bytes;
    this.g_alloc += allocs;
    obj.storedBytes += bytes;
    obj.storedAllocs += allocs;
    return null;
  }

  /** Gives back part of what obj holds (a pass's body chunks its reader is done with). */
  freePart(obj: CacheObject, bytes: number, allocs: number): void {
    this.g_bytes -= bytes;
    this.c_freed += bytes;
    this.g_alloc -= allocs;
    obj.storedBytes -= bytes;
    obj.storedAllocs -= allocs;
  }

  /** Gives back all obj holds. */
  free(obj: CacheObject): void {
    this.freePart(obj, obj.storedBytes, obj.storedAllocs);
  }

  // ------------------------------------------------------------------------------------------
  // The LRU list: newest at one end, the next victim at the other.

  lruAdd(obj: CacheObject): void {
    const t = this.#table;
    const id = obj.id;
    if (id === NONE || t.onLru[id] === 1) return;
    t.lruPrev[id] = NONE;
    t.lruNext[id] = this.#newest;
    if (this.#newest !== NONE) t.lruPrev[this.#newest] = id;
    else this.#oldest = id;
    this.#newest = id;
    t.onLru[id] = 1;
    this.lruLength++;
  }

  lruRemove(obj: CacheObject): void {
    const t = this.#table;
    const id = obj.id;
    if (id === NONE || t.onLru[id] === 0) return;
    const prev = t.lruPrev[id];
    const next = t.lruNext[id];
    if (prev !== NONE) t.lruNext[prev] = next;
    else this.#newest = next;
    if (next !== NONE) t.lruPrev[next] = prev;
    else this.#oldest = prev;
    t.lruPrev[id] = NONE;
    t.lruNext[id] = NONE;
    t.onLru[id] = 0;
    this.lruLength--;
  }

  /** A hit: obj becomes the newest. */
  lruTouch(obj: CacheObject): void {
    if (obj.id === NONE || this.#newest === obj.id) return;
    this.lruRemove(obj);
    this.lruAdd(obj);
  }

  /** The next victim: the oldest object but obj (the one asking for room). */
  #victim(obj: CacheObject): CacheObject | null {
    let id = this.#oldest;
    if (id !== NONE && id === obj.id) id = this.#table.lruPrev[id];
    return id === NONE ? null : this.#table.handles[id];
  }

  /** The objects from the next victim to the newest (tests, introspection). */
  *lruOrder(): Generator<CacheObject> {
    const t = this.#table;
    for (let id = this.#oldest; id !== NONE; id = t.lruPrev[id]) yield t.handles[id]!;
  }
}
