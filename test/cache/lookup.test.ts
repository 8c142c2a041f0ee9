// Lookup decisions, one by one, with a fake clock: every call takes `now`.
import { describe, expect, it } from 'vitest';
import { keyOfText } from '../../src/cache/digest.ts';
import { Cache } from '../../src/cache/store.ts';
import { bodyText, commitBody, req, resp } from './helpers.ts';

const T = 1_000_000;
const KEY = keyOfText('example.com/a');

function fetchOf(result: ReturnType<Cache['lookup']>) {
  if (result.kind !== 'miss' && result.kind !== 'hit_for_miss' && result.kind !== 'grace') {
    throw new Error(`expected a fetch, got ${result.kind}`);
  }
  if (result.fetch === null) throw new Error('no fetch');
  return result.fetch;
}

/** A cache holding one object under KEY: ttl 10, grace 10, keep 10 from T. */
function cacheWithObject(fields: Parameters<typeof commitBody>[4] = {}) {
  const cache = new Cache();
  const first = cache.lookup(KEY, req('/a'), T);
  const obj = commitBody(cache, fetchOf(first), T, 'one', { ttl: 10, grace: 10, keep: 10, ...fields });
  return { cache, obj };
}

describe('miss and hit', () => {
  it('misses on an empty cache, with a fetch and no stale object', () => {
    const cache = new Cache();
    const r = cache.lookup(KEY, req('/a'), T);
    expect(r.kind).toBe('miss');
    if (r.kind !== 'miss') return;
    expect(r.stale).toBeNull();
    expect(r.fetch.state).toBe('busy');
    expect(cache.counters.n_objecthead).toBe(1);
  });

  it('hits a committed fresh object, counting hits', () => {
    const { cache, obj } = cacheWithObject();
    const a = cache.lookup(KEY, req('/a'), T + 1);
    const b = cache.lookup(KEY, req('/a'), T + 9.999);
    expect(a.kind).toBe('hit');
    expect(b.kind).toBe('hit');
    if (a.kind === 'hit' && b.kind === 'hit') expect([a.obj, b.obj]).toEqual([obj, obj]);
    expect(obj.hits).toBe(2);
    expect(bodyText(obj)).toBe('one');
    expect(cache.counters.n_object).toBe(1);
  });

  it('sees an object as stale at exactly origin + ttl', () => {
    const { cache } = cacheWithObject();
    expect(cache.lookup(KEY, req('/a'), T + 10).kind).toBe('grace');
  });

  it('answers the newest of several fresh objects', () => {
    const { cache, obj } = cacheWithObject();
    const again = cache.lookup(KEY, req('/a'), T + 1, { hashAlwaysMiss: true });
    const newer = commitBody(cache, fetchOf(again), T + 1, 'two', { ttl: 10 });
    const r = cache.lookup(KEY, req('/a'), T + 2);
    expect(r.kind === 'hit' && r.obj).toBe(newer);
    expect(cache.objectsOf(KEY)).toEqual([newer, obj]);
  });
});

describe('grace and keep', () => {
  it('delivers in grace and hands out one background fetch with the stale object', () => {
    const { cache, obj } = cacheWithObject();
    const r = cache.lookup(KEY, req('/a'), T + 15);
    expect(r.kind).toBe('grace');
    if (r.kind !== 'grace') return;
    expect(r.obj).toBe(obj);
    expect(r.fetch?.stale).toBe(obj);
    // A second request while that fetch runs: grace again, no second fetch.
    const r2 = cache.lookup(KEY, req('/a'), T + 16);
    expect(r2).toEqual({ kind: 'grace', obj, fetch: null });
    expect(obj.hits).toBe(2);
  });

  it('replaces the stale object when the refresh has its whole body', () => {
    const { cache, obj } = cacheWithObject();
    const r = cache.lookup(KEY, req('/a'), T + 15);
    const fresh = cache.commit(fetchOf(r), { xid: 2, http: resp(200), origin: T + 15, ttl: 10, grace: 10, keep: 0 }, T + 15);
    // Still streaming: both objects exist, the fresh one wins.
    expect(cache.objectsOf(KEY)).toEqual([fresh, obj]);
    fresh.append(Buffer.from('x'));
    fresh.finish();
    expect(cache.objectsOf(KEY)).toEqual([fresh]);
    expect(obj.dying).toBe(true);
    expect(cache.counters.n_object).toBe(1);
  });

  it('keeps the stale object when the refresh is released', () => {
    const { cache, obj } = cacheWithObject();
    const r = cache.lookup(KEY, req('/a'), T + 15);
    cache.release(fetchOf(r));
    expect(cache.objectsOf(KEY)).toEqual([obj]);
    expect(cache.lookup(KEY, req('/a'), T + 16).kind).toBe('grace');
  });

  it('after grace, misses with the stale object for revalidation (keep)', () => {
    const { cache, obj } = cacheWithObject({ http: undefined });
    const r = cache.lookup(KEY, req('/a'), T + 25);
    expect(r.kind).toBe('miss');
    if (r.kind !== 'miss') return;
    expect(r.stale).toBe(obj);
    expect(r.fetch.stale).toBe(obj);
    // Another request meanwhile waits: out of grace, a fetch is running.
    const r2 = cache.lookup(KEY, req('/a'), T + 26);
    expect(r2.kind).toBe('busy');
    expect(cache.counters.busy_sleep).toBe(1);
  });

  it('expires an object past ttl + grace + keep at lookup', () => {
    const { cache, obj } = cacheWithObject();
    const r = cache.lookup(KEY, req('/a'), T + 30);
    expect(r.kind === 'miss' && r.stale).toBeNull();
    expect(obj.dying).toBe(true);
    expect(cache.counters.n_expired).toBe(1);
    expect(cache.counters.n_object).toBe(0);
  });

  it('never finds an object stored with ttl 0, not even in grace', () => {
    const { cache } = cacheWithObject({ ttl: 0, grace: 100 });
    const r = cache.lookup(KEY, req('/a'), T + 1);
    expect(r.kind === 'miss' && r.stale).toBeNull();
  });

  it('lets req.ttl shorten freshness, without making the object a stale candidate', () => {
    const { cache } = cacheWithObject();
    const r = cache.lookup(KEY, req('/a'), T + 5, { reqTtl: 2 });
    expect(r.kind === 'miss' && r.stale).toBeNull();
    expect(cache.lookup(KEY, req('/a'), T + 5, { reqTtl: 6 }).kind).toBe('hit');
  });

  it('lets req.grace shorten grace', () => {
    const { cache, obj } = cacheWithObject();
    const r = cache.lookup(KEY, req('/a'), T + 15, { reqGrace: 2 });
    expect(r.kind).toBe('miss');
    if (r.kind === 'miss') expect(r.stale).toBe(obj);
  });
});

describe('hit-for-miss and hit-for-pass', () => {
  it('hit-for-miss gives every request its own fetch and counts cache_hitmiss', () => {
    const { cache, obj } = cacheWithObject({ kind: 'hit_for_miss' });
    const a = cache.lookup(KEY, req('/a'), T + 1);
    const b = cache.lookup(KEY, req('/a'), T + 1);
    expect(a.kind).toBe('hit_for_miss');
    expect(b.kind).toBe('hit_for_miss');
    if (a.kind !== 'hit_for_miss' || b.kind !== 'hit_for_miss') return;
    expect(a.obj).toBe(obj);
    expect(a.fetch).not.toBe(b.fetch);
    expect(a.fetch.stale).toBe(obj);
    expect(cache.counters.cache_hitmiss).toBe(2);
    expect(obj.uncacheable).toBe(true);
  });

  it('replaces the hit-for-miss object when its fetch completes', () => {
    const { cache, obj } = cacheWithObject({ kind: 'hit_for_miss' });
    const r = cache.lookup(KEY, req('/a'), T + 1);
    const next = commitBody(cache, fetchOf(r), T + 1, '', { kind: 'hit_for_miss' });
    expect(cache.objectsOf(KEY)).toEqual([next]);
    expect(obj.dying).toBe(true);
  });

  it('an expired hit-for-miss object is no stale object', () => {
    const { cache } = cacheWithObject({ kind: 'hit_for_miss' });
    expect(fetchOf(cache.lookup(KEY, req('/a'), T + 15)).stale).toBeNull();
  });

  it('hit-for-pass says pass and counts cache_hitpass', () => {
    const { cache, obj } = cacheWithObject({ kind: 'hit_for_pass' });
    expect(cache.lookup(KEY, req('/a'), T + 1)).toEqual({ kind: 'hit_for_pass', obj });
    expect(cache.counters.cache_hitpass).toBe(1);
    expect(obj.hits).toBe(0);
  });

  it('an expired hit-for-miss or hit-for-pass object in grace gives hit-for-miss', () => {
    for (const kind of ['hit_for_miss', 'hit_for_pass'] as const) {
      const { cache } = cacheWithObject({ kind });
      expect(cache.lookup(KEY, req('/a'), T + 15).kind).toBe('hit_for_miss');
    }
  });

  it('a fresh hit-for-miss object wins over a running fetch', () => {
    const { cache } = cacheWithObject({ kind: 'hit_for_miss' });
    const a = cache.lookup(KEY, req('/a'), T + 1);
    expect(a.kind).toBe('hit_for_miss');
    expect(cache.lookup(KEY, req('/a'), T + 1).kind).toBe('hit_for_miss');
  });
});

describe('busy objects', () => {
  it('waits behind a fetch, and hash_ignore_busy does not', () => {
    const cache = new Cache();
    const first = cache.lookup(KEY, req('/a'), T);
    expect(cache.lookup(KEY, req('/a'), T).kind).toBe('busy');
    const ignoring = cache.lookup(KEY, req('/a'), T, { hashIgnoreBusy: true });
    expect(ignoring.kind).toBe('miss');
    expect(fetchOf(ignoring)).not.toBe(fetchOf(first));
    expect(cache.waitingOn(KEY)).toBe(1);
  });

  it('hash_always_miss fetches even with a fresh object and no stale object', () => {
    const { cache } = cacheWithObject();
    const r = cache.lookup(KEY, req('/a'), T + 1, { hashAlwaysMiss: true });
    expect(r.kind === 'miss' && r.stale).toBeNull();
  });

  it('refuses to end a fetch twice', () => {
    const cache = new Cache();
    const fetch = fetchOf(cache.lookup(KEY, req('/a'), T));
    commitBody(cache, fetch, T, 'x');
    expect(() => commitBody(cache, fetch, T, 'y')).toThrow('fetch already committed');
    cache.release(fetch);
    expect(fetch.state).toBe('committed');
  });

  it('drops an object head once nothing hangs on it', () => {
    const cache = new Cache();
    const fetch = fetchOf(cache.lookup(KEY, req('/a'), T));
    expect(cache.counters.n_objecthead).toBe(1);
    cache.release(fetch);
    expect(cache.counters.n_objecthead).toBe(0);
  });
});

describe('object fields', () => {
  it('reads ETag, Last-Modified (or the fetch time) and obj.ttl', () => {
    const { cache } = cacheWithObject();
    const withHeaders = cache.lookup(KEY, req('/a'), T + 1, { hashAlwaysMiss: true });
    const http = resp(200);
    http.append('ETag', '"v1"');
    http.append('Last-Modified', 'Thu, 01 Jan 2015 00:00:00 GMT');
    const obj = commitBody(cache, fetchOf(withHeaders), T + 1, 'x', { http });
    expect(obj.etag).toBe('"v1"');
    expect(obj.lastModified).toBe(1420070400);
    expect(obj.ttlLeft(T + 4)).toBe(117);
    const bare = commitBody(cache, fetchOf(cache.lookup(KEY, req('/a'), T + 2.5, { hashAlwaysMiss: true })), T, 'x', {
      origin: T + 2.5,
    });
    expect(bare.etag).toBeNull();
    expect(bare.lastModified).toBe(T + 2);
    expect([obj.revalidatable, bare.revalidatable]).toEqual([true, false]);
  });
});
