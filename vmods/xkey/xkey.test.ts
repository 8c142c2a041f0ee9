// The key index against a real Cache: keys read from xkey and X-HashTwo headers on commit,
// forgotten when objects leave, and purges (hard and soft) through the cache's object hook.

import { describe, expect, it } from 'vitest';
import { Cache } from '../../src/cache/index.ts';
import { VclHttp } from '../../src/runtime/http.ts';
import { KeyIndex, splitKeys } from './key-index.ts';

const NOW = 1_000_000;

function withIndex(): { cache: Cache; index: KeyIndex } {
  const cache = new Cache();
  const index = new KeyIndex();
  cache.subscribe(index);
  return { cache, index };
}

/** Commits an object under `url` carrying these response headers. */
function put(cache: Cache, url: string, headers: [string, string][], ttl = 60) {
  const r = cache.lookup(url, VclHttp.request('GET', url), NOW);
  if (r.kind !== 'miss') throw new Error(r.kind);
  const http = VclHttp.response(200, 'OK');
  for (const [n, v] of headers) http.append(n, v);
  return cache.commit(r.fetch, { xid: 1, http, origin: NOW, ttl, grace: 30, keep: 0, body: [Buffer.from(url)] }, NOW);
}

describe('xkey key index', () => {
  it('splits keys on spaces, tabs and commas, as xkey_tok does', () => {
    expect(splitKeys(' a, b\tc,,d  ')).toEqual(['a', 'b', 'c', 'd']);
    expect(splitKeys('')).toEqual([]);
  });

  it('indexes xkey and X-HashTwo headers, repeated ones included, and purges by any key', () => {
    const { cache, index } = withIndex();
    put(cache, '/a', [['xkey', 'p1 p2'], ['XKey', 'shared']]);
    put(cache, '/b', [['X-HashTwo', 'p2,shared']]);
    put(cache, '/c', [['x-other', 'shared']]);
    expect(index.keys).toBe(3);
    expect(index.objects).toBe(2);
    expect(index.find(['shared', 'p2']).map((objs) => objs.length)).toEqual([2, 2]);
    expect(index.purge(cache, 'shared', NOW, false)).toBe(2);
    expect(cache.objectsOf('/a')).toHaveLength(0);
    expect(cache.objectsOf('/b')).toHaveLength(0);
    expect(cache.objectsOf('/c')).toHaveLength(1);
    // Removal took the objects out of the index too.
    expect(index.keys).toBe(0);
    expect(index.purge(cache, 'p1 p2', NOW, false)).toBe(0);
  });

  it('counts an object carrying two purged keys twice in a hard purge, once in a soft one', () => {
    const { cache, index } = withIndex();
    put(cache, '/a', [['xkey', 'k1 k2']]);
    put(cache, '/b', [['xkey', 'k1 k2']]);
    expect(index.purge(cache, 'k1 k2', NOW, true)).toBe(2);
    expect(index.purge(cache, 'k1 k2', NOW, false)).toBe(4);
    expect(cache.objectsOf('/a')).toHaveLength(0);
  });

  it('soft purge makes objects stale but keeps them for grace, and skips stale ones', () => {
    const { cache, index } = withIndex();
    const obj = put(cache, '/a', [['xkey', 'k']]);
    expect(index.purge(cache, 'k', NOW + 10, true)).toBe(1);
    expect(obj.ttlLeft(NOW + 10)).toBe(0);
    expect(obj.grace).toBe(30);
    const r = cache.lookup('/a', VclHttp.request('GET', '/a'), NOW + 11);
    expect(r.kind).toBe('grace');
    if (r.kind === 'grace') cache.release(r.fetch!);
    // Already stale: not counted again, still in the index.
    expect(index.purge(cache, 'k', NOW + 12, true)).toBe(0);
    expect(index.keys).toBe(1);
  });

  it('forgets objects that expire, are evicted or replaced', () => {
    const { cache, index } = withIndex();
    put(cache, '/a', [['xkey', 'k']], 1);
    put(cache, '/b', [['xkey', 'k']], 100);
    expect(cache.expire(NOW + 40)).toBe(1);
    expect(index.objects).toBe(1);
    expect(index.find(['k'])).toHaveLength(1);
    cache.purge('/b', NOW);
    expect(index.objects).toBe(0);
    expect(index.keys).toBe(0);
  });

  it('takes a header of 50,000 keys, repeats included, and purges by any one', () => {
    const { cache, index } = withIndex();
    const keys = Array.from({ length: 50_000 }, (_, i) => `k${i % 25_000}`).join(' ');
    put(cache, '/many', [['xkey', keys]]);
    expect(index.keys).toBe(25_000);
    expect(index.purge(cache, 'k24999', NOW, false)).toBe(1);
    expect(index.keys).toBe(0);
  });

  it('a listener that unsubscribes hears nothing more', () => {
    const cache = new Cache();
    const index = new KeyIndex();
    const stop = cache.subscribe(index);
    put(cache, '/a', [['xkey', 'k']]);
    stop();
    put(cache, '/b', [['xkey', 'k']]);
    expect(index.objects).toBe(1);
  });
});
