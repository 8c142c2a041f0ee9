// xkey figures: the purge of one key shared by 10,000 of 1,000,000 cached objects, and what the
// key index costs in memory. Every object carries its own key and one of 100 group keys.
// Run with `node --expose-gc bench/xkey.ts [objects]` (the heap figures need --expose-gc).

import { Cache, type CacheObject } from '../src/cache/index.ts';
import { VclHttp } from '../src/runtime/http.ts';
import { KeyIndex } from '../vmods/xkey/key-index.ts';

const OBJECTS = Number(process.argv[2] ?? 1_000_000);
const GROUPS = 100;
const NOW = Date.now() / 1000;
const gc = (globalThis as { gc?: () => void }).gc;

function heap(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

function fill(cache: Cache): CacheObject[] {
  const objects: CacheObject[] = [];
  const req = VclHttp.request('GET', '/');
  for (let i = 0; i < OBJECTS; i++) {
    const r = cache.lookup(`k${i}`, req, NOW);
    if (r.kind !== 'miss') throw new Error(r.kind);
    const http = VclHttp.response(200, 'OK');
    http.append('xkey', `product-${i} group-${i % GROUPS}`);
    objects.push(cache.commit(r.fetch, { xid: i, http, origin: NOW, ttl: 3600, grace: 60, keep: 0, body: [] }, NOW));
  }
  return objects;
}

function ms(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const cache = new Cache({ maxBytes: 64 * 1024 ** 3 });
let t = process.hrtime.bigint();
const objects = fill(cache);
console.log(`cache filled: ${OBJECTS} objects in ${ms(t).toFixed(0)} ms`);

// The index is built after the fact from the same objects, so the heap difference is its own.
const before = heap();
const index = new KeyIndex();
t = process.hrtime.bigint();
for (const obj of objects) index.inserted(obj);
const built = ms(t);
cache.subscribe(index);
const after = heap();
const bytes = after - before;
console.log(`index built:  ${index.keys} keys over ${index.objects} objects in ${built.toFixed(0)} ms (${((built * 1e6) / OBJECTS).toFixed(0)} ns per object)`);
if (gc) {
  console.log(`index memory: ${(bytes / 1024 ** 2).toFixed(1)} MB, ${(bytes / index.objects).toFixed(0)} bytes per object, ${(bytes / index.keys).toFixed(0)} bytes per key`);
} else {
  console.log('index memory: run with --expose-gc for the heap figures');
}

const perGroup = OBJECTS / GROUPS;
// Warm the purge paths up on objects of their own, so the figures below are not the JIT's.
for (let i = 0; i < 200; i++) index.purge(cache, `product-${i}`, NOW + 1, i % 2 === 0);
// Three keys each way: a single figure can be one major collection of a heap this size.
for (const [what, soft, groups] of [
  ['softpurge', true, [1, 2, 3]],
  ['purge    ', false, [7, 8, 9]],
] as const) {
  for (const g of groups) {
    t = process.hrtime.bigint();
    const n = index.purge(cache, `group-${g}`, NOW + 1, soft);
    const took = ms(t);
    console.log(`${what} of one key shared by ${perGroup} objects: ${n} objects in ${took.toFixed(0)} ms (${((took * 1000) / n).toFixed(1)} µs each)`);
  }
}
t = process.hrtime.bigint();
const one = index.purge(cache, `product-${OBJECTS - 1}`, NOW + 1, false);
console.log(`purge of one key on one object:                 ${one} object in ${ms(t).toFixed(3)} ms`);
console.log(`after the purges: ${index.keys} keys, ${index.objects} objects indexed, ${cache.storageStats().g_alloc} cached`);
