// The byte bound, LRU eviction, expiry and purges.
import { describe, expect, it } from 'vitest';
import { type CacheObject, LENT_SECONDS, OBJECT_OVERHEAD } from '../../src/cache/object.ts';
import { defaultCacheParams } from '../../src/cache/params.ts';
import { Cache } from '../../src/cache/store.ts';
import { bodyText, commitBody, req, resp } from './helpers.ts';

const T = 2_000_000;
const KB = 1024;

function put(cache: Cache, key: string, bytes: number, now = T, fields: Parameters<typeof commitBody>[4] = {}) {
  const r = cache.lookup(key, req(`/${key}`), now, { hashAlwaysMiss: true });
  if (r.kind !== 'miss') throw new Error(r.kind);
  return commitBody(cache, r.fetch, now, 'x'.repeat(bytes), fields);
}

describe('an object leaving the cache while handed out', () => {
  /** Puts `a`, then three more of 30 KB in 100 KB: `a`, the oldest, is evicted. */
  function evictAfter(cache: Cache, before: (a: CacheObject) => void) {
    const a = put(cache, 'a', 30 * KB);
    before(a);
    for (const k of ['b', 'c', 'd']) put(cache, k, 30 * KB);
    expect(a.dying).toBe(true);
    return a;
  }

  it('keeps its bytes (a heap copy) for a taker that has not given it back', () => {
    const cache = new Cache({ maxBytes: 100 * KB, clock: () => T });
    // The commit's taker (the fetch's request) still has it.
    const a = evictAfter(cache, () => {});
    expect(a.state).toBe('done');
    expect(bodyText(a)).toBe('x'.repeat(30 * KB));
  });

  it('copies nothing once every taker gave it back: whoever still holds it finds its body failed', () => {
    const cache = new Cache({ maxBytes: 100 * KB, clock: () => T });
    const a = evictAfter(cache, (obj) => {
      // The commit's taker is done with it.
      obj.readerDone();
      // Two lookups, one of them done with it: still lent.
      expect(cache.lookup('a', req('/a'), T).kind).toBe('hit');
      expect(cache.lookup('a', req('/a'), T).kind).toBe('hit');
      obj.readerDone();
      expect(obj.lends).toBe(1);
      obj.readerDone();
      expect(obj.lends).toBe(0);
      obj.readerDone();
      expect(obj.lends).toBe(0);
    });
    expect(a.state).toBe('failed');
    expect(a.chunkCount).toBe(0);
  });

  it('a revalidation lent it (LENT_SECONDS): past that window nothing is copied', () => {
    const cache = new Cache({ maxBytes: 100 * KB, clock: () => T });
    const a = put(cache, 'a', 30 * KB, T - LENT_SECONDS);
    for (const k of ['b', 'c', 'd']) put(cache, k, 30 * KB);
    expect(a.dying).toBe(true);
    expect(a.lends).toBe(1);
    expect(a.state).toBe('failed');
  });
});

describe('the byte bound', () => {
  it('counts headers and body, and evicts least recently used objects first', () => {
    const cache = new Cache({ maxBytes: 100 * KB });
    const objs = Array.from({ length: 8 }, (_, i) => put(cache, `k${i}`, 30 * KB));
    const stats = cache.storageStats();
    expect(stats.g_bytes).toBeLessThanOrEqual(100 * KB);
    expect(stats.g_bytes + stats.g_space).toBe(100 * KB);
    expect(objs[0].size).toBe(OBJECT_OVERHEAD + objs[0].headerBytes + 30 * KB);
    expect(objs[0].headerBytes).toBe('HTTP/1.1'.length + 'OK'.length + 7);
    // Three objects of 30 KB fit; the five oldest went, in order.
    expect(cache.counters.n_lru_nuked).toBe(5);
    expect(cache.counters.n_object).toBe(3);
    expect(objs.map((o) => o.dying)).toEqual([true, true, true, true, true, false, false, false]);
    expect(cache.lookup('k0', req('/k0'), T).kind).toBe('miss');
  });

  it('keeps an object that hits moved up (once per lru_interval)', () => {
    const params = { ...defaultCacheParams(), lru_interval: 2 };
    const cache = new Cache({ maxBytes: 100 * KB, params });
    const a = put(cache, 'a', 30 * KB, T);
    put(cache, 'b', 30 * KB, T);
    put(cache, 'c', 30 * KB, T);
    // A hit within lru_interval of the insert does not move it; one later does.
    expect(cache.lookup('a', req('/a'), T + 1).kind).toBe('hit');
    expect(a.lruTouched).toBe(T);
    expect(cache.lookup('a', req('/a'), T + 3).kind).toBe('hit');
    expect(a.lruTouched).toBe(T + 3);
    put(cache, 'd', 30 * KB, T + 3);
    expect(a.dying).toBe(false);
    expect(cache.objectsOf('b')).toEqual([]);
  });

  it('stays within its bound while a large object streams in', () => {
    const cache = new Cache({ maxBytes: 200 * KB });
    const small = Array.from({ length: 6 }, (_, i) => put(cache, `s${i}`, 30 * KB));
    const r = cache.lookup('big', req('/big'), T);
    if (r.kind !== 'miss') throw new Error(r.kind);
    const big = cache.commit(r.fetch, { xid: 9, http: resp(200), origin: T, ttl: 60, grace: 0, keep: 0 }, T);
    for (let i = 0; i < 15; i++) {
      big.append(Buffer.alloc(10 * KB));
      expect(cache.storageStats().g_bytes).toBeLessThanOrEqual(200 * KB);
    }
    big.finish();
    expect(big.dying).toBe(false);
    expect(small.filter((o) => o.dying).length).toBeGreaterThanOrEqual(5);
    expect(cache.counters.n_lru_nuked).toBe(small.filter((o) => o.dying).length);
  });

  it('fails an object larger than the whole bound: its reader sees the body end early', async () => {
    const cache = new Cache({ maxBytes: 50 * KB });
    const keep = put(cache, 'keep', 1 * KB);
    const r = cache.lookup('huge', req('/huge'), T);
    if (r.kind !== 'miss') throw new Error(r.kind);
    const huge = cache.commit(r.fetch, { xid: 9, http: resp(200), origin: T, ttl: 60, grace: 0, keep: 0 }, T);
    const reading = (async () => {
      let n = 0;
      for await (const chunk of huge.read()) n += chunk.length;
      return n;
    })();
    for (let i = 0; i < 8 && huge.state === 'streaming'; i++) huge.append(Buffer.alloc(10 * KB));
    huge.finish();
    expect(huge.state).toBe('failed');
    expect(await reading).toBeLessThan(80 * KB);
    expect(huge.dying).toBe(true);
    // Varnish's malloc refuses at the allocation that would pass the bound, after evicting what
    // it may, and counts each try that did not fit: before evicting 'keep', and after.
    expect(cache.storageStats().c_fail).toBe(2);
    expect(cache.lookup('huge', req('/huge'), T).kind).toBe('miss');
    expect(keep.dying).toBe(true);
    expect(cache.counters.n_object).toBe(0);
    expect(cache.storageStats().g_bytes).toBe(0);
  });

  it('bounds a load of large objects, counting one allocation per head and per fetch_chunksize of body', () => {
    const cache = new Cache({ maxBytes: 1024 * KB });
    const objs = Array.from({ length: 300 }, (_, i) => put(cache, `o${i}`, 64 * KB + (i % 7) * KB));
    const allocsOf = (bytes: number) => 1 + Math.ceil(bytes / (16 * KB));
    const stats = cache.storageStats();
    expect(stats.g_bytes).toBeLessThanOrEqual(1024 * KB);
    expect(cache.storage.lruLength).toBe(cache.counters.n_object);
    const live = objs.filter((o) => !o.dying);
    expect(live.length).toBe(cache.counters.n_object);
    expect(stats.g_alloc).toBe(live.reduce((n, o) => n + allocsOf(o.bodyBytes), 0));
    expect(cache.counters.n_object + cache.counters.n_lru_nuked).toBe(300);
    const st = cache.storage;
    expect(st.c_bytes - st.c_freed).toBe(st.g_bytes);
    expect(st.c_req).toBe(objs.reduce((n, o) => n + allocsOf(o.bodyBytes), 0));
    // The survivors are the newest, in insertion order from the next victim on.
    expect([...st.lruOrder()]).toEqual(live);
  });
});

describe('expiry', () => {
  it('removes objects when ttl + grace + keep has run out, soonest first', () => {
    const cache = new Cache();
    const a = put(cache, 'a', 10, T, { ttl: 5, grace: 5, keep: 0 });
    const b = put(cache, 'b', 10, T, { ttl: 1, grace: 1, keep: 1 });
    const c = put(cache, 'c', 10, T, { ttl: 100, grace: 0, keep: 0 });
    expect(cache.expire(T + 2.9)).toBe(0);
    expect(cache.expire(T + 3)).toBe(1);
    expect(b.dying).toBe(true);
    expect(cache.expire(T + 50)).toBe(1);
    expect(a.dying).toBe(true);
    expect(c.dying).toBe(false);
    expect(cache.counters.n_expired).toBe(2);
    expect(cache.counters.n_object).toBe(1);
    expect(cache.counters.n_objecthead).toBe(1);
  });

  it('runs on a timer once started', async () => {
    let now = T;
    const cache = new Cache({ clock: () => now, expiryInterval: 0.02 });
    put(cache, 'a', 10, T, { ttl: 1, grace: 0, keep: 0 });
    now = T + 2;
    cache.start();
    try {
      for (let i = 0; i < 100 && cache.counters.n_expired === 0; i++) await new Promise((r) => setTimeout(r, 10));
    } finally {
      cache.stop();
    }
    expect(cache.counters.n_expired).toBe(1);
  });
});

describe('purges', () => {
  it('a hard purge removes every variant and counts', () => {
    const cache = new Cache();
    put(cache, 'p', 10);
    put(cache, 'p', 10);
    put(cache, 'other', 10);
    expect(cache.purge('p', T)).toBe(2);
    expect(cache.purge('nothing', T)).toBe(0);
    expect(cache.counters.n_purges).toBe(2);
    expect(cache.counters.n_obj_purged).toBe(2);
    expect(cache.counters.n_object).toBe(1);
    expect(cache.lookup('p', req('/p'), T).kind).toBe('miss');
  });

  it('a soft purge only shortens: the object is then in grace', () => {
    const cache = new Cache();
    const obj = put(cache, 'p', 10, T, { ttl: 100, grace: 10, keep: 0 });
    expect(cache.purge('p', T + 1, { ttl: 0, grace: 100 })).toBe(1);
    expect(obj.ttl).toBe(1);
    expect(obj.grace).toBe(10);
    const r = cache.lookup('p', req('/p'), T + 2);
    expect(r.kind).toBe('grace');
    expect(cache.purge('p', T + 2, { ttl: 50 })).toBe(1);
    expect(obj.ttl).toBe(1);
    expect(cache.expire(T + 11)).toBe(1);
  });

  it('a soft purge of all zeroes is a hard one; negative values leave fields alone', () => {
    const cache = new Cache();
    const obj = put(cache, 'p', 10, T, { ttl: 100, grace: 10, keep: 30 });
    cache.purge('p', T, { ttl: -1, grace: -1, keep: 5 });
    expect([obj.ttl, obj.grace, obj.keep]).toEqual([100, 10, 5]);
    cache.purge('p', T, { ttl: 0, grace: 0, keep: 0 });
    expect(obj.dying).toBe(true);
    expect(cache.counters.n_purges).toBe(2);
  });
});
