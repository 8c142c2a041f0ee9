// What a stored object costs the process, measured: the JS heap it keeps (its CacheObject, head,
// index and ban entries) and its row of the object table (times, sizes, LRU and expiry links, in
// typed arrays) stay within OBJECT_INDEX_BYTES, the figure a storage
// charges against its size for it (stevedore.ts); its bytes are in the storage's slabs, not in
// Buffers of their own; and a storage filled far past its size with small objects holds its
// size in slabs plus the index it paid for, whatever the count.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { Cache, keyOfText, OBJECT_OVERHEAD } from '../../src/cache/index.ts';
import { INDEX_ALLOWANCE, OBJECT_INDEX_BYTES } from '../../src/cache/stevedore.ts';
import { newBodyInfo } from '../../src/filters/body-info.ts';
import { VclHttp } from '../../src/runtime/http.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MB = 1024 * 1024;
const REQ = { url: '/', get: () => null };

function fill(cache: Cache, n: number, bodyBytes: number, tag = ''): void {
  const body = Buffer.alloc(bodyBytes, 'b');
  const now = Date.now() / 1000;
  for (let i = 0; i < n; i++) {
    const r = cache.lookup(keyOfText(`${tag}/o/${i}`), REQ, now);
    if (r.kind !== 'miss') throw new Error(`expected a miss, got ${r.kind}`);
    const http = VclHttp.response(200, 'OK');
    http.append('Content-Type', 'text/plain');
    http.append('Cache-Control', 'max-age=3600');
    http.append('Date', 'Mon, 07 Dec 2026 11:00:00 GMT');
    http.append('Content-Length', String(bodyBytes));
    // As a fetch commits: with the filters' own BodyInfo (plain here), its body still to come.
    const obj = cache.commit(r.fetch, { xid: i, http, origin: now, ttl: 3600, grace: 10, keep: 0, info: newBodyInfo() }, now);
    obj.append(Buffer.from(body));
    obj.finish();
  }
}

describe('what an object costs the process', () => {
  it('keeps its JS heap within OBJECT_INDEX_BYTES, its bytes in the storage slabs', () => {
    // The first objects pay for fixed costs (the ring of decoded heads, the tables' first
    // growth): measured between 10,000 and 40,000 objects, each object's own cost.
    const n = 30_000;
    const cache = new Cache({ maxBytes: 256 * MB });
    fill(cache, 10_000, 200, 'warm');
    gc();
    const before = process.memoryUsage();
    const tableBefore = cache.indexBytes;
    fill(cache, n, 200);
    gc();
    const after = process.memoryUsage();
    const table = cache.indexBytes - tableBefore;
    expect(cache.counters.n_object).toBe(10_000 + n);
    const heapPerObject = (after.heapUsed - before.heapUsed) / n;
    console.log(`heap per object: ${heapPerObject.toFixed(0)} B, object table: ${(table / n).toFixed(0)} B`);
    // Live heap and table leave room for the collector's slack within the charged figure.
    expect(heapPerObject + table / n).toBeLessThan(OBJECT_INDEX_BYTES * 0.9);
    // Bytes outside the heap: the slabs the objects landed in and the table, no Buffer per object.
    const slabs = cache.storage.space!.resident;
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThanOrEqual(slabs + table + MB);
    expect(slabs).toBeLessThanOrEqual(Math.ceil((n * (200 + 160)) / (16 * MB)) * 16 * MB);
  });

  it('a storage filled far past its size holds its size, index included', () => {
    const size = 4 * MB;
    const cache = new Cache({ maxBytes: size });
    gc();
    const before = process.memoryUsage();
    const tableBefore = cache.indexBytes;
    fill(cache, 60_000, 200, 'small');
    gc();
    const after = process.memoryUsage();
    const table = cache.indexBytes - tableBefore;
    const st = cache.storage;
    const objects = cache.counters.n_object;
    // Far past: most objects were evicted, and what stays was paid for, index included.
    expect(cache.counters.n_lru_nuked).toBe(60_000 - objects);
    expect(st.g_bytes).toBeLessThanOrEqual(size);
    expect(st.arena!.used + Math.max(0, objects - INDEX_ALLOWANCE) * OBJECT_INDEX_BYTES).toBeLessThanOrEqual(size);
    expect(objects).toBeLessThan(size / (OBJECT_OVERHEAD + 200));
    // The process: the slabs (never more than the size) and the heap the index was charged for.
    expect(st.space!.resident).toBeLessThanOrEqual(size);
    expect(after.heapUsed - before.heapUsed + table).toBeLessThan((objects + INDEX_ALLOWANCE) * OBJECT_INDEX_BYTES);
    // The least recently used went: the newest are all there.
    for (let i = 60_000 - 100; i < 60_000; i++) expect(cache.objectsOf(keyOfText(`small/o/${i}`)).length).toBe(1);
    expect(cache.objectsOf(keyOfText('small/o/0')).length).toBe(0);
  });

  it('gives the index of many small objects back once large ones have taken their place', () => {
    const cache = new Cache({ maxBytes: 96 * MB });
    const empty = cache.indexBytes;
    fill(cache, 80_000, 200, 'small');
    const many = cache.indexBytes;
    expect(cache.counters.n_object).toBe(80_000);
    // 3,400 objects of 60 KB, twice what the storage holds: the small ones are evicted, oldest
    // first, then the first large ones, which took ids above theirs (an object takes its id
    // when it is committed, before the storage evicts for it).
    fill(cache, 3400, 60 * 1024, 'large');
    const objects = cache.counters.n_object;
    expect(objects).toBeLessThan(1800);
    const few = cache.indexBytes;
    console.log(`index: ${(empty / MB).toFixed(1)} MB empty, ${(many / MB).toFixed(1)} MB at 80,000 objects, ${(few / MB).toFixed(1)} MB at ${objects}`);
    // Pages, links, heads and the expiry heap for what is left (a spare page above it, links
    // and heads at most four times what is in use), not for the 80,000 that were.
    expect(few).toBeLessThan(empty + (many - empty) / 8);
    // And it grows again, from the bottom.
    fill(cache, 20_000, 200, 'again');
    expect(cache.objectsOf(keyOfText('again/o/19999')).length).toBe(1);
    expect(cache.objectsOf(keyOfText('large/o/3399')).length).toBe(1);
  });
});
