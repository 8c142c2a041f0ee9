// Kept gunzipped bodies (beyond Varnish, which inflates on every delivery). A complete gzipped
// object delivered gunzipped a second time keeps its inflated bytes here, so the next client
// without gzip is written stored bytes, as a plain hit is, instead of paying an inflate.
//
// Why a side cache and not the object's storage: the bytes are a copy the cache can always make
// again, so they must never push a real object out; their own bound (gunzip_keep_size) keeps
// them from crowding the storage, and dropping them costs only a later inflate. Why the second
// delivery: an object gunzipped once (most of them, when clients take gzip) costs no memory.
//
// Rules that keep it exact: keyed by the object itself (a refreshed, replaced, banned or purged
// object is another object, and the proxy forgets an object when the cache drops it, through
// its object events); only objects in the cache are kept (the proxy decides); least recently
// used go first when the bound is reached; a body larger than the bound is not kept.

import { gunzipWhole } from './zlib-stages.ts';

/** The counters of kept bodies (MAIN.*, Shellac's own). */
export interface KeptCounters {
  gunzip_kept: number;
  gunzip_kept_hit: number;
  gunzip_kept_evicted: number;
  n_gunzip_kept: number;
  gunzip_kept_bytes: number;
}

/** What a kept body is inflated from: the object's whole stored gzip body. */
export interface GzipSource {
  readonly chunks: readonly Buffer[];
}

export class KeptGunzips<O extends GzipSource> {
  /** Map order is use order: the first entry is the least recently used. */
  readonly #bodies = new Map<O, Buffer>();
  /** Objects delivered gunzipped once: the next such delivery keeps the body. */
  readonly #seen = new WeakSet<O>();
  readonly #counters: KeptCounters;
  /** gunzip_keep_size, read at each use so that param.set takes effect at once. */
  readonly #limit: () => number;
  #bytes = 0;

  constructor(counters: KeptCounters, limit: () => number) {
    this.#counters = counters;
    this.#limit = limit;
  }

  /** The kept inflated body of obj, marked as just used; undefined when there is none. */
  get(obj: O): Buffer | undefined {
    const body = this.#bodies.get(obj);
    if (body === undefined) return undefined;
    if (this.#bytes > this.#limit()) {
      // The bound was lowered: this body may be among those that go.
      this.#trim(this.#limit());
      if (!this.#bodies.has(obj)) return undefined;
    }
    this.#bodies.delete(obj);
    this.#bodies.set(obj, body);
    this.#counters.gunzip_kept_hit++;
    return body;
  }

  /** Inflates obj's body now; keeps it when obj was delivered gunzipped before and it fits. */
  inflate(obj: O): Buffer {
    const body = gunzipWhole(obj.chunks);
    if (!this.#seen.has(obj)) this.#seen.add(obj);
    else this.#keep(obj, body);
    return body;
  }

  /** obj is delivered gunzipped as a stream (it is still being fetched, or large). */
  streamed(obj: O): void {
    this.#seen.add(obj);
  }

  /** obj left the cache: its kept body goes. */
  forget(obj: O): void {
    const body = this.#bodies.get(obj);
    if (body === undefined) return;
    this.#bodies.delete(obj);
    this.#dropped(body);
  }

  #keep(obj: O, body: Buffer): void {
    const limit = this.#limit();
    if (body.length > limit || this.#bodies.has(obj)) return;
    this.#trim(limit - body.length);
    this.#bodies.set(obj, body);
    this.#bytes += body.length;
    const c = this.#counters;
    c.gunzip_kept++;
    c.n_gunzip_kept++;
    c.gunzip_kept_bytes = this.#bytes;
  }

  /** Drops the least recently used bodies until at most `room` bytes are kept. */
  #trim(room: number): void {
    for (const [obj, body] of this.#bodies) {
      if (this.#bytes <= room) return;
      this.#bodies.delete(obj);
      this.#dropped(body);
      this.#counters.gunzip_kept_evicted++;
    }
  }

  #dropped(body: Buffer): void {
    this.#bytes -= body.length;
    this.#counters.n_gunzip_kept--;
    this.#counters.gunzip_kept_bytes = this.#bytes;
  }
}
