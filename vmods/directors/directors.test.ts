import { beforeEach, describe, expect, it } from 'vitest';
import { VmodFailure } from '../../src/vmod/api.ts';
import { fallback, hash, lookup, random, round_robin } from './index.ts';
import { backends, clientTask, FakeBackend, initTask, logged, names } from './test-backends.ts';

beforeEach(() => {
  logged.length = 0;
});

describe('round_robin', () => {
  it('hands requests to its members in turn, skipping sick ones', () => {
    const init = initTask();
    const [a, b, c] = backends('a', 'b', 'c');
    const rr = new round_robin(init, 'rr');
    for (const be of [a, b, c]) rr.add_backend(init, be);
    const ctx = clientTask();
    expect(rr.backend(ctx)).toBe(rr);
    expect(names(Array.from({ length: 6 }, () => rr.resolve(ctx)))).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    b.sick = true;
    expect(names(Array.from({ length: 4 }, () => rr.resolve(ctx)))).toEqual(['a', 'c', 'a', 'c']);
  });

  it('is healthy while any member is, and resolves to none when all are sick', () => {
    const init = initTask();
    const [a, b] = backends('a', 'b');
    const rr = new round_robin(init, 'rr');
    expect(rr.healthy(null)).toBe(false);
    expect(rr.resolve(clientTask())).toBeNull();
    rr.add_backend(init, a);
    rr.add_backend(init, b);
    a.setSick(true, 100);
    b.setSick(true, 200);
    expect(rr.healthy(null)).toBe(false);
    expect(rr.changed).toBe(200);
    expect(rr.resolve(clientTask())).toBeNull();
    b.sick = false;
    expect(rr.healthy(null)).toBe(true);
    expect(rr.resolve(clientTask())).toBe(b);
  });

  it('takes members out, and refuses a None backend', () => {
    const init = initTask();
    const [a, b, c] = backends('a', 'b', 'c');
    const rr = new round_robin(init, 'rr');
    for (const be of [a, b, c]) rr.add_backend(init, be);
    const ctx = clientTask();
    rr.resolve(ctx);
    rr.resolve(ctx);
    rr.remove_backend(init, c);
    expect(names([rr.resolve(ctx), rr.resolve(ctx), rr.resolve(ctx)])).toEqual(['a', 'b', 'a']);
    expect(() => rr.add_backend(init, null)).toThrow(new VmodFailure('rr: None backend cannot be added'));
  });
});

describe('fallback', () => {
  it('uses the first healthy member in the order they were added', () => {
    const init = initTask();
    const [a, b, c] = backends('a', 'b', 'c');
    const fb = new fallback(init, 'fb', false);
    for (const be of [a, b, c]) fb.add_backend(init, be);
    const ctx = clientTask();
    expect(fb.backend(ctx)).toBe(fb);
    expect(fb.resolve(ctx)).toBe(a);
    a.sick = true;
    expect(fb.resolve(ctx)).toBe(b);
    b.sick = true;
    expect(fb.resolve(ctx)).toBe(c);
    a.sick = false;
    expect(fb.resolve(ctx)).toBe(a);
    a.sick = b.sick = c.sick = true;
    expect(fb.resolve(ctx)).toBeNull();
    expect(fb.healthy(ctx)).toBe(false);
  });

  it('when sticky, stays on the member it moved to even once an earlier one recovers', () => {
    const init = initTask();
    const [a, b, c] = backends('a', 'b', 'c');
    const fb = new fallback(init, 'fb', true);
    for (const be of [a, b, c]) fb.add_backend(init, be);
    const ctx = clientTask();
    expect(fb.resolve(ctx)).toBe(a);
    a.sick = true;
    expect(fb.resolve(ctx)).toBe(b);
    a.sick = false;
    expect(fb.resolve(ctx)).toBe(b);
    b.sick = true;
    // Past b the search goes on down the list, not back to the top.
    expect(fb.resolve(ctx)).toBe(c);
    c.sick = true;
    expect(fb.resolve(ctx)).toBe(a);
  });

  it('keeps pointing at the member in use when an earlier one is removed', () => {
    const init = initTask();
    const [a, b, c] = backends('a', 'b', 'c');
    const fb = new fallback(init, 'fb', true);
    for (const be of [a, b, c]) fb.add_backend(init, be);
    const ctx = clientTask();
    a.sick = true;
    expect(fb.resolve(ctx)).toBe(b);
    a.sick = false;
    fb.remove_backend(init, a);
    expect(fb.resolve(ctx)).toBe(b);
    fb.remove_backend(init, b);
    expect(fb.resolve(ctx)).toBe(c);
  });
});

describe('random', () => {
  it('draws members in proportion to their weights, among the healthy ones', () => {
    const init = initTask();
    const [a, b, c] = backends('a', 'b', 'c');
    const rd = new random(init, 'rd');
    rd.add_backend(init, a, 10);
    rd.add_backend(init, b, 5);
    rd.add_backend(init, c, 0);
    const ctx = clientTask();
    expect(rd.backend(ctx)).toBe(rd);
    const count = new Map<string | null, number>();
    const draws = 6000;
    for (let i = 0; i < draws; i++) {
      const name = rd.resolve(ctx)?.name ?? null;
      count.set(name, (count.get(name) ?? 0) + 1);
    }
    // 2/3 and 1/3, within many standard deviations; weight 0 is never drawn.
    expect((count.get('a') ?? 0) / draws).toBeGreaterThan(0.6);
    expect((count.get('a') ?? 0) / draws).toBeLessThan(0.73);
    expect(count.get('c')).toBeUndefined();
    a.sick = true;
    for (let i = 0; i < 50; i++) expect(rd.resolve(ctx)).toBe(b);
    b.sick = true;
    expect(rd.resolve(ctx)).toBeNull();
  });
});

describe('hash', () => {
  function makeHash() {
    const init = initTask();
    const list = backends('s1', 's2', 's3');
    const h = new hash(init, 'h');
    h.add_backend(init, list[0], 1);
    h.add_backend(init, list[1], 2);
    h.add_backend(init, list[2], 1);
    return { h, list };
  }

  it('picks the member Varnish picks for the same string and weights', () => {
    const { h } = makeHash();
    const ctx = clientTask();
    // Varnish 7.1 with s1, s2 (weight 2) and s3, all healthy, for `h.backend(req.url)`.
    const expected: Record<string, string> = { '/': 's3', '/a': 's1', '/foo': 's2', '/bar': 's2', '/img.png': 's1', '/zz': 's2' };
    for (const [url, be] of Object.entries(expected)) expect(h.backend(ctx, [url])?.name).toBe(be);
  });

  it('joins the strands, skips sick members, and picks none when all are sick', () => {
    const { h, list } = makeHash();
    const ctx = clientTask();
    expect(h.backend(ctx, ['/f', 'oo'])).toBe(h.backend(ctx, ['/foo']));
    expect(h.backend(ctx, [null, '/foo', ''])).toBe(h.backend(ctx, ['/foo']));
    list[1].sick = list[2].sick = true;
    // Varnish 7.1 with s2 and s3 sick gives s1 for each of these.
    for (const url of ['/', '/a', '/foo']) expect(h.backend(ctx, [url])?.name).toBe('s1');
    list[0].sick = true;
    expect(h.backend(ctx, ['/'])).toBeNull();
    expect(h.healthy(ctx)).toBe(false);
  });
});

describe('nesting', () => {
  it('lets a director be a member of another, resolving down to a backend and reporting health', () => {
    const init = initTask();
    const [a1, a2, b1] = backends('a1', 'a2', 'b1');
    const poolA = new round_robin(init, 'poolA');
    poolA.add_backend(init, a1);
    poolA.add_backend(init, a2);
    const poolB = new round_robin(init, 'poolB');
    poolB.add_backend(init, b1);
    const top = new fallback(init, 'top', false);
    top.add_backend(init, poolA.backend(init));
    top.add_backend(init, poolB.backend(init));
    const ctx = clientTask();
    expect(names([top.resolve(ctx), top.resolve(ctx)])).toEqual(['a1', 'a2']);
    a1.sick = a2.sick = true;
    expect(poolA.healthy(ctx)).toBe(false);
    expect(top.resolve(ctx)).toBe(b1);
    b1.sick = true;
    expect(top.healthy(ctx)).toBe(false);
    expect(top.resolve(ctx)).toBeNull();
  });
});

describe('lookup', () => {
  it('finds a backend of the VCL by name, only in vcl_init and vcl_fini', () => {
    const be = new FakeBackend('origin');
    const init = initTask();
    init.vcl = { name: 'boot', backend: (n: string) => (n === 'origin' ? be : null) };
    expect(lookup(init, 'origin')).toBe(be);
    expect(lookup(init, 'nope')).toBeNull();
    const ctx = clientTask();
    expect(() => lookup(ctx, 'origin')).toThrow(new VmodFailure('lookup() may only be called from vcl_init / vcl_fini'));
  });
});
