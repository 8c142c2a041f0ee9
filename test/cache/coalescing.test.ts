// Request coalescing with concurrent promises: many clients look up the same key at once, one
// fetch runs, the waiting list sleeps and wakes. Real (short) timers stand in for the backend.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { CacheObject, ObjectKind } from '../../src/cache/object.ts';
import type { BusySlot } from '../../src/cache/objhead.ts';
import { Cache } from '../../src/cache/store.ts';
import { buildVary } from '../../src/cache/vary.ts';
import type { VclHttp } from '../../src/runtime/http.ts';
import { req, resp } from './helpers.ts';

const KEY = 'k';
const NOW = 5_000;

type Backend = (fetch: BusySlot, cache: Cache, request: VclHttp) => Promise<CacheObject | null>;

interface Outcome {
  readonly how: 'hit' | 'fetched' | 'grace' | 'pass';
  readonly body: string;
}

async function readAll(obj: CacheObject): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of obj.read()) parts.push(chunk);
  return Buffer.concat(parts).toString();
}

/** What the proxy's client side does with lookup results, reduced to the cache's part. */
async function client(cache: Cache, backend: Backend, request = req('/')): Promise<Outcome> {
  for (let round = 0; round < 100; round++) {
    const r = cache.lookup(KEY, request, NOW);
    switch (r.kind) {
      case 'busy':
        await r.wait;
        continue;
      case 'hit':
        return { how: 'hit', body: await readAll(r.obj) };
      case 'grace':
        return { how: 'grace', body: await readAll(r.obj) };
      case 'hit_for_pass':
        return { how: 'pass', body: '' };
      case 'miss':
      case 'hit_for_miss': {
        const obj = await backend(r.fetch, cache, request);
        return { how: 'fetched', body: obj === null ? '' : await readAll(obj) };
      }
    }
  }
  throw new Error('too many rounds');
}

function origin(kind: ObjectKind = 'normal', delayMs = 20, chunks = ['hel', 'lo']): { backend: Backend; fetches: () => number } {
  let fetches = 0;
  const backend: Backend = async (fetch, cache) => {
    fetches++;
    await sleep(delayMs);
    const obj = cache.commit(fetch, { xid: fetches, http: resp(200), origin: NOW, ttl: 60, grace: 10, keep: 0, kind }, NOW);
    // The body streams in after the commit.
    for (const chunk of chunks) {
      await sleep(2);
      obj.append(Buffer.from(chunk));
    }
    obj.finish();
    return obj;
  };
  return { backend, fetches: () => fetches };
}

describe('the waiting list', () => {
  it('lets ten concurrent misses share one fetch, streaming to all', async () => {
    const cache = new Cache();
    const { backend, fetches } = origin();
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => client(cache, backend)));
    expect(fetches()).toBe(1);
    expect(outcomes.filter((o) => o.how === 'fetched')).toHaveLength(1);
    expect(outcomes.filter((o) => o.how === 'hit')).toHaveLength(9);
    expect(new Set(outcomes.map((o) => o.body))).toEqual(new Set(['hello']));
    expect(cache.counters.busy_sleep).toBe(9);
    expect(cache.counters.busy_wakeup).toBe(9);
    expect(cache.waitingOn(KEY)).toBe(0);
  });

  it('wakes waiters at commit, before the body is complete', async () => {
    const cache = new Cache();
    const first = cache.lookup(KEY, req('/'), NOW);
    if (first.kind !== 'miss') throw new Error(first.kind);
    const second = cache.lookup(KEY, req('/'), NOW);
    if (second.kind !== 'busy') throw new Error(second.kind);
    let woken = false;
    const waiter = second.wait.then(() => {
      woken = true;
    });
    const obj = cache.commit(first.fetch, { xid: 1, http: resp(200), origin: NOW, ttl: 60, grace: 0, keep: 0 }, NOW);
    await waiter;
    expect(woken).toBe(true);
    const r = cache.lookup(KEY, req('/'), NOW);
    expect(r.kind === 'hit' && r.obj).toBe(obj);
    expect(obj.state).toBe('streaming');
    const reading = readAll(obj);
    obj.append(Buffer.from('late'));
    obj.finish();
    expect(await reading).toBe('late');
  });

  it('after a failed fetch, one waiter fetches again and the others wait for it', async () => {
    const cache = new Cache();
    let fetches = 0;
    const backend: Backend = async (fetch, c) => {
      fetches++;
      await sleep(10);
      if (fetches === 1) {
        c.release(fetch);
        return null;
      }
      return c.commit(fetch, { xid: fetches, http: resp(200), origin: NOW, ttl: 60, grace: 0, keep: 0, body: [Buffer.from('ok')] }, NOW);
    };
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => client(cache, backend)));
    expect(fetches).toBe(2);
    expect(outcomes.filter((o) => o.how === 'hit')).toHaveLength(4);
    expect(outcomes.filter((o) => o.body === 'ok')).toHaveLength(5);
    // 5 went to sleep behind the first fetch, 4 again behind the second.
    expect(cache.counters.busy_sleep).toBe(9);
    expect(cache.counters.busy_wakeup).toBe(9);
  });

  it('stops coalescing once the content is known uncacheable (hit-for-miss)', async () => {
    const cache = new Cache();
    const { backend, fetches } = origin('hit_for_miss', 10, []);
    const outcomes = await Promise.all(Array.from({ length: 5 }, () => client(cache, backend)));
    // The first fetch left a hit-for-miss object: the 4 that waited each fetch on their own.
    expect(fetches()).toBe(5);
    expect(outcomes.every((o) => o.how === 'fetched')).toBe(true);
    expect(cache.counters.cache_hitmiss).toBe(4);
    // And new requests no longer wait at all.
    const a = cache.lookup(KEY, req('/'), NOW);
    const b = cache.lookup(KEY, req('/'), NOW);
    expect([a.kind, b.kind]).toEqual(['hit_for_miss', 'hit_for_miss']);
  });

  it('sends waiters to pass after a hit-for-pass object', async () => {
    const cache = new Cache();
    const { backend, fetches } = origin('hit_for_pass', 10, []);
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => client(cache, backend)));
    expect(fetches()).toBe(1);
    expect(outcomes.filter((o) => o.how === 'pass')).toHaveLength(3);
    expect(cache.counters.cache_hitpass).toBe(3);
  });

  it('does not wait for a fetch whose Vary is known to differ', () => {
    const cache = new Cache();
    const en = req('/', 'Accept-Language: en');
    const first = cache.lookup(KEY, en, NOW);
    if (first.kind !== 'miss') throw new Error(first.kind);
    const vary = buildVary('Accept-Language', en);
    if (!('spec' in vary)) throw new Error(vary.error);
    expect(cache.lookup(KEY, req('/', 'Accept-Language: fr'), NOW).kind).toBe('busy');
    cache.setBusyVary(first.fetch, vary.spec);
    expect(cache.lookup(KEY, req('/', 'Accept-Language: fr'), NOW).kind).toBe('miss');
    expect(cache.lookup(KEY, req('/', 'Accept-Language: en'), NOW).kind).toBe('busy');
  });
});
