// Streaming bodies: readers follow a body while it is fetched, stop where a failed fetch stops,
// and a failed object leaves the cache (the stale object it was to replace stays).
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CacheObject } from '../../src/cache/object.ts';
import { Cache } from '../../src/cache/store.ts';
import { commitBody, req, resp } from './helpers.ts';

async function collect(obj: CacheObject): Promise<string> {
  const parts: string[] = [];
  for await (const chunk of obj.read()) parts.push(chunk.toString());
  return parts.join('|');
}

function streaming(): CacheObject {
  return new CacheObject({ xid: 7, http: resp(200), origin: 0, ttl: 0, grace: 0, keep: 0 });
}

describe('a body being fetched', () => {
  it('streams to readers that start before, during and after the fetch', async () => {
    const obj = streaming();
    const early = collect(obj);
    obj.append(Buffer.from('a'));
    await sleep(1);
    const middle = collect(obj);
    obj.append(Buffer.from('b'));
    obj.append(Buffer.alloc(0));
    await sleep(1);
    obj.append(Buffer.from('c'));
    obj.finish();
    const late = collect(obj);
    expect(await Promise.all([early, middle, late])).toEqual(['a|b|c', 'a|b|c', 'a|b|c']);
    expect(obj.bodyBytes).toBe(3);
    expect(obj.state).toBe('done');
  });

  it('shares one wake-up among readers and resolves at once when data is there', async () => {
    const obj = streaming();
    const p1 = obj.whenMore(0);
    const p2 = obj.whenMore(0);
    expect(p1).toBe(p2);
    obj.append(Buffer.from('x'));
    await p1;
    expect(obj.whenMore(0)).not.toBe(p1);
    await obj.whenMore(0);
    obj.finish();
    await obj.whenMore(5);
  });

  it('ends readers early when the fetch fails, and refuses more data', async () => {
    const obj = streaming();
    const reading = collect(obj);
    obj.append(Buffer.from('part'));
    obj.fail();
    expect(await reading).toBe('part');
    expect(obj.state).toBe('failed');
    expect(() => obj.append(Buffer.from('more'))).toThrow('append to a failed object');
    obj.finish();
    expect(obj.state).toBe('failed');
  });

  it('takes a failed object out of the cache and keeps the stale one it would have replaced', () => {
    const cache = new Cache();
    const T = 500;
    const first = cache.lookup('k', req('/'), T);
    if (first.kind !== 'miss') throw new Error(first.kind);
    const stale = commitBody(cache, first.fetch, T, 'old', { ttl: 1, grace: 100 });
    const refresh = cache.lookup('k', req('/'), T + 2);
    if (refresh.kind !== 'grace' || refresh.fetch === null) throw new Error(refresh.kind);
    const obj = cache.commit(refresh.fetch, { xid: 2, http: resp(200), origin: T + 2, ttl: 60, grace: 0, keep: 0 }, T + 2);
    expect(cache.lookup('k', req('/'), T + 2).kind).toBe('hit');
    obj.append(Buffer.from('ne'));
    obj.fail();
    expect(obj.dying).toBe(true);
    expect(cache.objectsOf('k')).toEqual([stale]);
    expect(cache.counters.n_object).toBe(1);
    const again = cache.lookup('k', req('/'), T + 3);
    expect(again.kind === 'grace' && again.obj).toBe(stale);
  });
});
