// The cache: object heads by hash key, objects bounded in bytes by their storages, expiry,
// purges, bans, and the lookup that decides hit / grace / miss / hit-for-miss / hit-for-pass /
// busy exactly as Varnish 7.1's HSH_Lookup does:
// - hash_always_miss: a miss with a new fetch, nothing else looked at;
// - objects are scanned newest first. Skipped: ttl <= 0 (killed by purge or set so by VCL),
//   past ttl + grace + keep (expired now, counted in n_expired), banned (removed), other Vary
//   (unless hash_ignore_vary);
// - the first object fresh for this request (req.ttl caps its ttl) is the answer: a hit, or
//   hit-for-pass, or hit-for-miss (with a new fetch: no coalescing on uncacheable content; the
//   hit-for-miss object is that fetch's stale object, replaced when it completes);
// - otherwise the newest expired object is remembered; an expired hit-for-miss/-pass object
//   gives hit-for-miss;
// - with no fetch in progress for this variant: a new fetch, and the expired object is either
//   delivered in grace (the caller refreshes it in the background with that fetch) or handed
//   over as `stale` for a conditional fetch (keep);
// - with a fetch in progress: deliver in grace without a new fetch, else wait (busy). A fetch
//   whose Vary is known and differs is not waited for: known from its response, or predicted
//   when it started from an object of another variant (same names, the fetching request's
//   values), as Varnish's predictive Vary; hash_ignore_busy waits for none.
// A hit costs: one probe of the object index (object-index.ts: heads, variants and keys in typed
// arrays), a scan of the variants (ban generation check, Vary match), an
// LRU touch at most once per lru_interval, and no allocation.
// Storage (stevedore.ts): each committed object is charged to one storage, chosen by the fetch
// (beresp.storage) or round robin over the storages but Transient, as varnishd's STV_next;
// a storage that is full evicts its own least recently used objects. Private objects (a pass's)
// are charged to Transient and given back as their one reader goes past them.
import type { EsiInstruction } from '../filters/esi-parse.ts';
import { BanList } from './ban-list.ts';
import { BanLurker } from './ban-lurker.ts';
import { type CacheCounters, newCacheCounters } from './counters.ts';
import { ExpiryHeap } from './expiry-heap.ts';
import { type ObjectListener, ObjectEvents } from './object-events.ts';
import { CacheObject, type ObjectInit, OBJECT_OVERHEAD, type ObjectOwner, type ObjectStorage } from './object.ts';
import { BusySlot, ObjectHead } from './objhead.ts';
import { ObjectIndex } from './object-index.ts';
import { NONE, ObjectTable } from './object-table.ts';
import { type CacheParams, defaultCacheParams } from './params.ts';
import { type AllocFailure, Stevedore, type StorageSpec } from './stevedore.ts';
import type { RequestView } from './types.ts';
import { predictVary, type VarySpec, varyMatches } from './vary.ts';

export const DEFAULT_CACHE_BYTES = 256 * 1024 * 1024;

export interface CacheOptions {
  /** The byte bound (`-s malloc,SIZE`); default 256 MB. */
  readonly maxBytes?: number;
  /** Live parameters, read at each use; default Varnish's defaults. */
  readonly params?: CacheParams;
  /** Where to count; default a fresh object (see counters.ts). */
  readonly counters?: CacheCounters;
  /** Seconds since the epoch, for the background timers only; every call takes `now` itself. */
  readonly clock?: () => number;
  /** The storage's name (storage.<name> in VCL); default "s0". */
  readonly storageName?: string;
  /**
   * Every storage (`-s name=malloc,SIZE`, repeated), in order; overrides maxBytes and
   * storageName. One named Transient bounds Transient, which is otherwise unbounded.
   */
  readonly storages?: readonly StorageSpec[];
  /** Seconds between expiry runs once started; default 1. */
  readonly expiryInterval?: number;
}

export interface LookupOptions {
  /** req.hash_always_miss */
  readonly hashAlwaysMiss?: boolean;
  /** req.hash_ignore_busy */
  readonly hashIgnoreBusy?: boolean;
  /** req.hash_ignore_vary: any variant will do (the newest fresh one). */
  readonly hashIgnoreVary?: boolean;
  /** req.ttl: caps the ttl of objects for this request; negative or absent = unset. */
  readonly reqTtl?: number;
  /** req.grace: caps the grace likewise. */
  readonly reqGrace?: number;
}

export type LookupResult =
  /** Deliver obj. */
  | { readonly kind: 'hit'; readonly obj: CacheObject }
  /**
   * Deliver the stale obj. `fetch`, when not null, is a new fetch the caller must run in the
   * background (obj is its stale object) or release; null when a fetch is already running.
   */
  | { readonly kind: 'grace'; readonly obj: CacheObject; readonly fetch: BusySlot | null }
  /** Fetch (then commit or release); `stale` is an expired object to revalidate, if any. */
  | { readonly kind: 'miss'; readonly fetch: BusySlot; readonly stale: CacheObject | null }
  /**
   * Uncacheable content: fetch without coalescing (vcl_miss runs as for a miss). When obj is
   * still fresh it is also fetch.stale, replaced once the fetch completes.
   */
  | { readonly kind: 'hit_for_miss'; readonly obj: CacheObject; readonly fetch: BusySlot }
  /** Uncacheable content: pass (vcl_pass). */
  | { readonly kind: 'hit_for_pass'; readonly obj: CacheObject }
  /** Another fetch is running: await `wait`, then look up again. */
  | { readonly kind: 'busy'; readonly wait: Promise<void> };

/** purge.soft(): new ttl, grace, keep (seconds from now for ttl); negative or absent = untouched. */
export interface SoftPurge {
  readonly ttl?: number;
  readonly grace?: number;
  readonly keep?: number;
}

export interface StorageStats {
  /** Bytes held (SMA.<name>.g_bytes). */
  readonly g_bytes: number;
  /** Bytes left (g_space). */
  readonly g_space: number;
  /** Objects held (g_alloc). */
  readonly g_alloc: number;
  /** Objects that did not fit at all (c_fail). */
  readonly c_fail: number;
}

const NO_OPTIONS: LookupOptions = {};

export class Cache implements ObjectOwner {
  readonly counters: CacheCounters;
  readonly params: CacheParams;
  readonly bans: BanList;
  readonly lurker: BanLurker;
  /** The first storage's bound. */
  readonly maxBytes: number;
  /** The first storage (the default one). */
  readonly storage: Stevedore;
  /** Every storage, Transient last. */
  readonly stevedores: readonly Stevedore[];
  readonly transient: Stevedore;
  /** The storages objects go to round robin (all but Transient), and the next one's index. */
  readonly #rotation: readonly Stevedore[];
  #next = 0;
  /** The numbers and links of the objects it holds (object-table.ts), by object id. */
  readonly table = new ObjectTable();
  /** Heads by key and their objects, by id. */
  readonly #index = new ObjectIndex(this.table);
  /** The heads with fetches in progress or requests waiting (index.live[h] says which). */
  readonly #live = new Map<number, ObjectHead>();
  readonly #heap = new ExpiryHeap(this.table);
  readonly #events = new ObjectEvents<CacheObject>();
  readonly #clock: () => number;
  readonly #expiryInterval: number;
  #expiryTimer: NodeJS.Timeout | null = null;

  constructor(options: CacheOptions = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_CACHE_BYTES;
    this.params = options.params ?? defaultCacheParams();
    this.counters = options.counters ?? newCacheCounters();
    this.#clock = options.clock ?? (() => Date.now() / 1000);
    this.#expiryInterval = options.expiryInterval ?? 1;
    const specs = options.storages ?? [{ name: options.storageName ?? 's0', bytes: this.maxBytes }];
    const transientSpec = specs.find((spec) => spec.name === 'Transient') ?? { name: 'Transient', bytes: Number.POSITIVE_INFINITY };
    const rotation = specs.filter((spec) => spec.name !== 'Transient').map((spec) => new Stevedore(spec, this.table));
    if (rotation.length === 0) rotation.push(new Stevedore({ name: 's0', bytes: DEFAULT_CACHE_BYTES }, this.table));
    this.#rotation = rotation;
    this.transient = new Stevedore(transientSpec, this.table);
    this.stevedores = [...rotation, this.transient];
    this.storage = rotation[0];
    this.maxBytes = this.storage.maxBytes;
    this.bans = new BanList(this.counters, this.params, this.#clock(), this.table);
    this.lurker = new BanLurker(this.bans, this.counters, this.params, (obj) => this.#remove(obj), this.#clock, this.table);
    this.bans.onObjBan = () => this.lurker.kick();
  }

  /** The storage called `name`, if there is one. */
  storageNamed(name: string): Stevedore | undefined {
    return this.stevedores.find((st) => st.name === name);
  }

  /** Where the next object goes unless VCL says otherwise (beresp.storage's first value). */
  nextStorage(): Stevedore {
    const st = this.#rotation[this.#next];
    this.#next = (this.#next + 1) % this.#rotation.length;
    return st;
  }

  /** Starts the background work: expiry (once a second by default) and the ban lurker. */
  start(): void {
    if (this.#expiryTimer === null) {
      this.#expiryTimer = setInterval(() => this.expire(this.#clock()), this.#expiryInterval * 1000);
      this.#expiryTimer.unref();
    }
    this.lurker.start();
  }

  stop(): void {
    if (this.#expiryTimer !== null) clearInterval(this.#expiryTimer);
    this.#expiryTimer = null;
    this.lurker.stop();
  }

  /** The server is gone: file storages close their files (memory goes with the cache). */
  close(): void {
    this.stop();
    for (const st of this.stevedores) if (st.kind === 'file') st.close();
  }

  // ------------------------------------------------------------------------------------------
  // Lookup

  lookup(key: string, req: RequestView, now: number, options: LookupOptions = NO_OPTIONS): LookupResult {
    const index = this.#index;
    const h = index.find(key);
    if (options.hashAlwaysMiss) return { kind: 'miss', fetch: this.#newFetch(key, null), stale: null };

    let busyFound = false;
    const ignoreVary = options.hashIgnoreVary === true;
    if (h !== NONE && index.live[h] === 1 && !options.hashIgnoreBusy) {
      for (const slot of this.#live.get(h)!.busy) {
        if (slot.vary === null || ignoreVary || varyMatches(slot.vary, req)) {
          busyFound = true;
          break;
        }
      }
    }

    const reqTtl = options.reqTtl ?? -1;
    const bans = this.bans;
    const table = this.table;
    let found: CacheObject | null = null;
    let expired: CacheObject | null = null;
    let otherVariant: VarySpec | null = null;
    // The next one is read first: removing an object takes it alone out of the list.
    for (let id = h === NONE ? NONE : index.first[h]; id !== NONE; ) {
      const obj = table.handles[id]!;
      id = table.variantNext[id];
      const objTtl = obj.ttl;
      if (objTtl <= 0) continue;
      if (obj.endOfLife <= now) {
        this.counters.n_expired++;
        this.#remove(obj);
        continue;
      }
      if (obj.ban !== bans.head && bans.check(obj, req)) {
        this.#remove(obj);
        continue;
      }
      if (obj.vary !== null && !ignoreVary && !varyMatches(obj.vary, req)) {
        otherVariant ??= obj.vary;
        continue;
      }
      const origin = obj.origin;
      const ttl = reqTtl >= 0 && reqTtl < objTtl ? reqTtl : objTtl;
      if (origin + ttl > now) {
        found = obj;
        break;
      }
      if (origin + objTtl <= now && (expired === null || origin > expired.origin)) expired = obj;
    }

    if (found !== null) {
      if (found.kind === 'hit_for_pass') {
        this.counters.cache_hitpass++;
        return { kind: 'hit_for_pass', obj: found };
      }
      if (found.kind === 'hit_for_miss') {
        found.lend(now);
        // The new fetch replaces this object when it completes, so they do not pile up.
        this.counters.cache_hitmiss++;
        return { kind: 'hit_for_miss', obj: found, fetch: this.#newFetch(key, found) };
      }
      found.lent(now, true);
      this.#touch(found, now);
      return found.hitResult;
    }

    if (expired !== null) expired.lend(now);
    if (expired !== null && expired.kind !== 'normal') {
      this.counters.cache_hitmiss++;
      return { kind: 'hit_for_miss', obj: expired, fetch: this.#newFetch(key, null) };
    }

    const inGrace = expired !== null && graceEnd(expired, options) >= now;
    if (!busyFound) {
      const fetch = this.#newFetch(key, expired);
      if (otherVariant !== null) fetch.vary = predictVary(otherVariant, req);
      if (inGrace) {
        expired!.hits++;
        this.#touch(expired!, now);
        return { kind: 'grace', obj: expired!, fetch };
      }
      return { kind: 'miss', fetch, stale: expired };
    }
    if (inGrace) {
      expired!.hits++;
      this.#touch(expired!, now);
      return { kind: 'grace', obj: expired!, fetch: null };
    }
    this.counters.busy_sleep++;
    return { kind: 'busy', wait: this.#liveHead(key).wait() };
  }

  // ------------------------------------------------------------------------------------------
  // Ending a fetch

  /**
   * The response to a fetch is ready (its headers at least): the object becomes findable, the
   * waiting list wakes, and the fetch goes on filling it with append()/finish() unless `init`
   * gave the whole body. Returns the object, which may already be out of the cache if it is
   * larger than the whole bound (it still streams to its readers). `storage` is where it goes
   * (beresp.storage, or Transient for the short-lived); default the next in rotation. When the
   * storage cannot make room (nuke_limit), the object comes back failed and out of the cache.
   */
  commit(fetch: BusySlot, init: ObjectInit, now: number, storage?: ObjectStorage | null): CacheObject {
    this.#endFetch(fetch, 'committed');
    const head = fetch.head;
    const obj = new CacheObject(init, this.table);
    obj.owner = this;
    const st = (storage ? this.storageNamed(storage.name) : undefined) ?? this.nextStorage();
    obj.storage = st;
    obj.lruTouched = now;
    obj.lend(now);
    obj.supersedes = fetch.stale;
    this.#index.link(head.id, obj.id);
    this.bans.attach(obj);
    this.#heap.push(obj);
    this.counters.n_object++;
    if (this.#events.active) this.#events.inserted(obj);
    if (this.#chargeAll(st, obj)) st.lruAdd(obj);
    else {
      this.#remove(obj);
      obj.storageFailed();
    }
    if (obj.state === 'done' && !obj.dying) this.finished(obj);
    this.counters.busy_wakeup += head.rush();
    this.#settle(head);
    return obj;
  }

  /** The fetch will not give an object (pass, synth, abandon, error): waiters look up again. */
  release(fetch: BusySlot): void {
    if (fetch.state !== 'busy') return;
    this.#endFetch(fetch, 'released');
    this.counters.n_objectcore--;
    const head = fetch.head;
    this.counters.busy_wakeup += head.rush();
    this.#settle(head);
  }

  /** The response's Vary is known before commit: other variants stop waiting for this fetch. */
  setBusyVary(fetch: BusySlot, vary: VarySpec | null): void {
    fetch.vary = vary;
  }

  // ObjectOwner: body progress of committed objects.

  grew(obj: CacheObject, chunk: Buffer): void {
    if (this.#chargeChunk(obj.storage!, obj, chunk)) return;
    this.#remove(obj);
    obj.fail();
  }

  finished(obj: CacheObject): void {
    const stale = obj.supersedes;
    obj.supersedes = null;
    // The ESI instruction list is stored with the object (Varnish's OA_ESIDATA): one more
    // allocation, which may evict; an object it does not fit is dropped.
    const esi = obj.info.esi;
    const st = obj.storage;
    if (esi !== null && esi.length > 0 && st !== null && !obj.dying && !this.#charge(st, obj, esiDataBytes(esi), 1)) {
      this.#remove(obj);
      return;
    }
    if (stale !== null && !obj.dying) this.#remove(stale);
  }

  failed(obj: CacheObject): void {
    obj.supersedes = null;
    this.#remove(obj);
  }

  // ------------------------------------------------------------------------------------------
  // Purge, ban, expiry

  /**
   * return (purge) / purge.hard() (no `soft`), or purge.soft(): every committed variant under
   * the key. Soft purges only ever shorten; all three at 0 is a hard purge. Returns the count.
   */
  purge(key: string, now: number, soft?: SoftPurge): number {
    this.counters.n_purges++;
    const victims = this.objectsOf(key);
    const hard = soft === undefined || (soft.ttl === 0 && soft.grace === 0 && soft.keep === 0);
    for (const obj of victims) {
      if (hard) this.#remove(obj);
      else this.#reduce(obj, now, soft);
    }
    this.counters.n_obj_purged += victims.length;
    return victims.length;
  }

  /** ban() / std.ban(): null when added, else the error text. */
  ban(expression: string | null, now: number): string | null {
    return this.bans.addExpression(expression, now);
  }

  /** Removes the objects whose end of life has come; returns how many. */
  expire(now: number): number {
    let n = 0;
    for (let obj = this.#heap.peek(); obj !== undefined && obj.endOfLife <= now; obj = this.#heap.peek()) {
      this.#remove(obj);
      n++;
    }
    this.counters.n_expired += n;
    return n;
  }

  /**
   * An object for one request only (a pass, an uncacheable response), never findable: charged
   * to Transient, and given back as its reader goes past its chunks (PRIVATE_BUFFER_BYTES ahead
   * at most: the fetch waits for the reader) and when the reader is done.
   */
  newPrivate(init: ObjectInit): CacheObject {
    const obj = new CacheObject(init);
    obj.storage = this.transient;
    if (!this.#chargeAll(this.transient, obj)) {
      this.#giveBack(this.transient, obj);
      obj.storageFailed();
    } else obj.owner = this.#privateOwner;
    return obj;
  }

  readonly #privateOwner: ObjectOwner = {
    grew: (obj, chunk) => {
      if (obj.abandoned) obj.keepChunk(chunk);
      else if (!this.#chargeChunk(this.transient, obj, chunk)) obj.fail();
    },
    finished: () => {},
    failed: (obj) => this.#giveBack(this.transient, obj),
    released: (obj, bytes, chunks) => this.transient.freePart(obj, bytes, chunks),
    left: (obj) => this.#giveBack(this.transient, obj),
  };

  /** Takes one object out of the cache (readers already streaming it finish). */
  kill(obj: CacheObject): void {
    this.#remove(obj);
  }

  /**
   * One object, as an index outside the cache found it (xkey): removed, or with `soft` made
   * stale now while its grace and keep stay. False when it is gone already, or (soft) already
   * stale: xkey counts only the objects it changed.
   */
  purgeObject(obj: CacheObject, now: number, soft: boolean): boolean {
    if (!obj.cached) return false;
    if (!soft) {
      this.#remove(obj);
      return true;
    }
    if (obj.origin + obj.ttl <= now) return false;
    this.#reduce(obj, now, { ttl: 0 });
    return true;
  }

  /** Object events (object-events.ts): inserts at commit, and every removal, from now on. */
  subscribe(listener: ObjectListener<CacheObject>): () => void {
    return this.#events.subscribe(listener);
  }

  // ------------------------------------------------------------------------------------------
  // Introspection

  /** The first storage's figures (the SMA counters of every storage are on `stevedores`). */
  storageStats(): StorageStats {
    const st = this.storage;
    return { g_bytes: st.g_bytes, g_space: st.g_space, g_alloc: st.g_alloc, c_fail: st.c_fail };
  }

  /** What the index holds in typed arrays: object table, keys and heads, expiry heap. */
  get indexBytes(): number {
    return this.table.bytes + this.#index.bytes + this.#heap.bytes;
  }

  /** The committed objects under a key, newest first (a copy). */
  objectsOf(key: string): CacheObject[] {
    const h = this.#index.find(key);
    const out: CacheObject[] = [];
    if (h === NONE) return out;
    const t = this.table;
    for (let id = this.#index.first[h]; id !== NONE; id = t.variantNext[id]) out.push(t.handles[id]!);
    return out;
  }

  /** Requests waiting under a key. */
  waitingOn(key: string): number {
    const h = this.#index.find(key);
    return h === NONE ? 0 : (this.#live.get(h)?.waiting ?? 0);
  }

  // ------------------------------------------------------------------------------------------
  // Internals

  /** The live part of key's head (made, and the head too, when there is none). */
  #liveHead(key: string): ObjectHead {
    const index = this.#index;
    let h = index.find(key);
    if (h === NONE) {
      h = index.add(key);
      this.counters.n_objecthead++;
    }
    if (index.live[h] === 1) return this.#live.get(h)!;
    const head = new ObjectHead(h);
    this.#live.set(h, head);
    index.live[h] = 1;
    return head;
  }

  /** A live head with nothing busy and nobody waiting is dropped, and its head if it holds nothing. */
  #settle(head: ObjectHead): void {
    if (!head.quiet || this.#live.get(head.id) !== head) return;
    this.#live.delete(head.id);
    this.#index.live[head.id] = 0;
    this.#dropIfIdle(head.id);
  }

  #dropIfIdle(h: number): void {
    const index = this.#index;
    if (index.first[h] !== NONE || index.live[h] === 1) return;
    if (index.remove(h)) this.counters.n_objecthead--;
  }

  #newFetch(key: string, stale: CacheObject | null): BusySlot {
    const head = this.#liveHead(key);
    const fetch = new BusySlot(head, stale);
    this.counters.n_objectcore++;
    head.addBusy(fetch);
    return fetch;
  }

  #endFetch(fetch: BusySlot, state: 'committed' | 'released'): void {
    if (fetch.state !== 'busy') throw new Error(`fetch already ${fetch.state}`);
    fetch.state = state;
    fetch.head.removeBusy(fetch);
  }

  #touch(obj: CacheObject, now: number): void {
    if (now - obj.lruTouched < this.params.lru_interval) return;
    obj.lruTouched = now;
    this.counters.n_lru_moved++;
    obj.storage?.lruTouch(obj);
  }

  /**
   * Charges a new object: its head, then the body it came with as one allocation (a whole body
   * of known length, as varnishd allocates it: nuke_limit applies to it at once, r01764).
   */
  #chargeAll(st: Stevedore, obj: CacheObject): boolean {
    if (!this.#charge(st, obj, OBJECT_OVERHEAD + obj.headerBytes, 1)) return false;
    if (st.arena !== null) {
      const at = st.place(obj, obj.headerBlock(), this.params.nuke_limit, this.#nuke);
      if (at < 0) return false;
      obj.storedHead(at);
    }
    const body = obj.bodyBytes;
    if (body === 0) return true;
    if (!this.#charge(st, obj, body, Math.ceil(body / this.params.fetch_chunksize))) return false;
    if (st.arena === null) return true;
    for (const chunk of obj.takeBody()) if (!this.#placeChunk(st, obj, chunk)) return false;
    obj.compact();
    return true;
  }

  /**
   * Charges a chunk that arrived, in pieces of fetch_chunksize, each an allocation with its own
   * nuke_limit as varnishd's storage segments (so a chunk evicts as many small objects as
   * varnishd's 16 KB segments would, no more), and keeps each piece.
   */
  #chargeChunk(st: Stevedore, obj: CacheObject, chunk: Buffer): boolean {
    if (obj.dying) {
      // Out of the cache already, still streaming to its readers: kept as it came, uncharged.
      obj.keepChunk(chunk);
      return true;
    }
    const piece = this.params.fetch_chunksize;
    for (let from = 0; from < chunk.length; from += piece) {
      const part = chunk.length <= piece ? chunk : chunk.subarray(from, from + piece);
      if (!this.#charge(st, obj, part.length, 1)) return false;
      if (st.arena === null) obj.keepChunk(part);
      else if (!this.#placeChunk(st, obj, part)) return false;
    }
    return true;
  }

  /** Places a chunk (already charged) in the storage's space, in pieces of fetch_chunksize. */
  #placeChunk(st: Stevedore, obj: CacheObject, chunk: Buffer): boolean {
    const piece = Math.min(this.params.fetch_chunksize, st.arena!.slabBytes);
    for (let from = 0; from < chunk.length; from += piece) {
      const part = chunk.subarray(from, Math.min(from + piece, chunk.length));
      const at = st.place(obj, part, this.params.nuke_limit, this.#nuke);
      if (at < 0) return false;
      obj.keepStored(at, part.length);
    }
    return true;
  }

  /** All an object holds in a storage goes back: its charge, and the ranges of its bytes. */
  #giveBack(st: Stevedore, obj: CacheObject): void {
    st.free(obj);
    if (st.arena !== null) obj.unstore(this.#clock(), st.release);
  }

  /** One allocation (counted as `allocs`); on failure all obj held is given back (the caller drops it). */
  #charge(st: Stevedore, obj: CacheObject, bytes: number, allocs: number): boolean {
    const failure: AllocFailure | null = st.alloc(obj, bytes, allocs, this.params.nuke_limit, this.#nuke);
    if (failure === null) return true;
    if (failure === 'nuke_limited') this.counters.n_lru_limited++;
    st.free(obj);
    return false;
  }

  readonly #nuke = (victim: CacheObject): void => {
    this.counters.n_lru_nuked++;
    this.#remove(victim);
  };

  #reduce(obj: CacheObject, now: number, soft: SoftPurge): void {
    const { ttl, grace, keep } = soft;
    if (ttl !== undefined && ttl >= 0 && now + ttl - obj.origin < obj.ttl) obj.ttl = now + ttl - obj.origin;
    if (grace !== undefined && grace >= 0 && grace < obj.grace) obj.grace = grace;
    if (keep !== undefined && keep >= 0 && keep < obj.keep) obj.keep = keep;
    this.#heap.update(obj);
  }

  #remove(obj: CacheObject): void {
    if (obj.dying) return;
    obj.dying = true;
    obj.owner = null;
    if (this.#events.active) this.#events.removed(obj);
    if (obj.id !== NONE) {
      const h = this.#index.unlink(obj.id);
      if (h !== NONE) this.#dropIfIdle(h);
    }
    this.#heap.remove(obj);
    const st = obj.storage;
    if (st !== null) {
      st.lruRemove(obj);
      this.#giveBack(st, obj);
    }
    this.bans.detach(obj);
    obj.leaveTable(this.table);
    this.counters.n_object--;
    this.counters.n_objectcore--;
  }
}

/** When the object's grace runs out for this request (req.ttl and req.grace cap both). */
function graceEnd(obj: CacheObject, options: LookupOptions): number {
  const reqTtl = options.reqTtl ?? -1;
  const reqGrace = options.reqGrace ?? -1;
  const ttl = reqTtl >= 0 && reqTtl < obj.ttl ? reqTtl : obj.ttl;
  const grace = reqGrace >= 0 && reqGrace < obj.grace ? reqGrace : obj.grace;
  return obj.origin + ttl + grace;
}

/**
 * What an ESI instruction list takes in storage, as Varnish encodes its ESI data: a few bytes a
 * verbatim range, and an include's src and host with their own few.
 */
function esiDataBytes(list: readonly EsiInstruction[]): number {
  let bytes = 0;
  for (const i of list) bytes += i.kind === 'verbatim' ? 8 : 8 + i.src.length + (i.host?.length ?? 0);
  return bytes;
}
