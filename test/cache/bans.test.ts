// The ban list at work in the cache: lookups test newer bans, the lurker tests obj-only bans,
// duplicates complete, the dead tail is cut. The first test replays a varnishtest run against
// Varnish 7.1.1 (ban_lurker_age=0) and expects the same ban.list and counters at each step.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { CacheCounterName } from '../../src/cache/counters.ts';
import { defaultCacheParams } from '../../src/cache/params.ts';
import { Cache } from '../../src/cache/store.ts';
import { commitBody, req, resp } from './helpers.ts';

const T = 1_795_630_170;

function lurkerParams(overrides: Partial<ReturnType<typeof defaultCacheParams>> = {}) {
  return { ...defaultCacheParams(), ban_lurker_age: 0, ...overrides };
}

function fill(cache: Cache, url: string, now: number) {
  const r = cache.lookup(url, req(url), now);
  if (r.kind !== 'miss') throw new Error(`${url}: ${r.kind}`);
  return commitBody(cache, r.fetch, now, 'x', { http: resp(200, `x: ${url}`) });
}

function pick(cache: Cache, names: CacheCounterName[]): Record<string, number> {
  return Object.fromEntries(names.map((n) => [n, cache.counters[n]]));
}

/** ban.list without the times. */
function listed(cache: Cache): string[] {
  return cache.bans.entries().map((e) => `${e.objects} ${e.completed ? 'C' : '-'} ${e.spec}`);
}

describe('as Varnish 7.1 does it', () => {
  it('replays the lurker scenario step by step', () => {
    let now = T;
    const later = (seconds: number) => {
      now += seconds;
      return now;
    };
    const cache = new Cache({ params: lurkerParams(), clock: () => now });
    expect(listed(cache)).toEqual(['0 C ']);
    expect(pick(cache, ['bans', 'bans_completed', 'bans_added'])).toEqual({ bans: 1, bans_completed: 1, bans_added: 1 });

    // A ban on an empty cache completes at the next lurker pass, and the old tail goes.
    expect(cache.ban('obj.http.zz == 1', later(0.2))).toBeNull();
    cache.lurker.runPass(later(0.01));
    expect(listed(cache)).toEqual(['0 C ']);
    expect(pick(cache, ['bans', 'bans_completed', 'bans_obj', 'bans_added', 'bans_deleted'])).toEqual({
      bans: 1,
      bans_completed: 1,
      bans_obj: 1,
      bans_added: 2,
      bans_deleted: 1,
    });

    for (const url of ['/a', '/b', '/c']) fill(cache, url, later(0.1));
    expect(listed(cache)).toEqual(['3 C ']);

    expect(cache.ban('obj.http.x == /a', later(0.1))).toBeNull();
    cache.lurker.runPass(later(0.01));
    expect(cache.ban('req.url == /b', later(0.04))).toBeNull();
    expect(cache.ban('obj.http.x == /a', later(0.04))).toBeNull();
    cache.lurker.runPass(later(0.01));
    expect(listed(cache)).toEqual(['0 C ', '0 - req.url == /b', '2 C ']);
    expect(
      pick(cache, [
        'bans',
        'bans_completed',
        'bans_obj',
        'bans_req',
        'bans_added',
        'bans_deleted',
        'bans_tested',
        'bans_obj_killed',
        'bans_lurker_tested',
        'bans_tests_tested',
        'bans_lurker_tests_tested',
        'bans_lurker_obj_killed',
        'bans_dups',
      ]),
    ).toEqual({
      bans: 3,
      bans_completed: 2,
      bans_obj: 2,
      bans_req: 1,
      bans_added: 5,
      bans_deleted: 2,
      bans_tested: 0,
      bans_obj_killed: 0,
      bans_lurker_tested: 5,
      bans_tests_tested: 0,
      bans_lurker_tests_tested: 5,
      bans_lurker_obj_killed: 1,
      bans_dups: 0,
    });
    expect(cache.counters.n_object).toBe(2);

    // Lookups test the req ban: /b dies and is fetched again, /c moves up to the head.
    const b = cache.lookup('/b', req('/b'), later(0.1));
    expect(b.kind).toBe('miss');
    if (b.kind === 'miss') commitBody(cache, b.fetch, now, 'x', { http: resp(200, 'x: /b') });
    expect(cache.lookup('/c', req('/c'), now).kind).toBe('hit');
    cache.lurker.runPass(later(0.01));
    expect(listed(cache)).toEqual(['2 C ']);
    expect(
      pick(cache, ['bans', 'bans_completed', 'bans_obj', 'bans_req', 'bans_deleted', 'bans_tested', 'bans_obj_killed', 'bans_tests_tested']),
    ).toEqual({
      bans: 1,
      bans_completed: 1,
      bans_obj: 1,
      bans_req: 0,
      bans_deleted: 4,
      bans_tested: 2,
      bans_obj_killed: 1,
      bans_tests_tested: 2,
    });
    expect(cache.counters.n_object).toBe(2);
  });

  it('prints ban.list as the CLI does', () => {
    const cache = new Cache({ params: { ...defaultCacheParams(), ban_lurker_sleep: 0 }, clock: () => 1795630405.645981 });
    fill(cache, '/a', T);
    cache.ban('obj.ttl > 90s && obj.ttl > 1s', 1795630406.751892);
    cache.ban('req.url ~ /foo', 1795630406.8);
    expect(cache.bans.listText()).toBe(
      'Present bans:\n' +
        '1795630406.800000     0 -  req.url ~ /foo\n' +
        '1795630406.751892     0 -  obj.ttl > 90s && obj.ttl > 1s\n' +
        '1795630405.645981     1 C  \n',
    );
  });
});

describe('lookup-time checks', () => {
  it('kills a banned object at lookup and counts it', () => {
    const cache = new Cache();
    const a = fill(cache, '/a', T);
    cache.ban('req.url ~ ^/a', T + 1);
    expect(cache.lookup('/a', req('/a'), T + 2).kind).toBe('miss');
    expect(a.dying).toBe(true);
    expect(pick(cache, ['bans_tested', 'bans_tests_tested', 'bans_obj_killed', 'n_object'])).toEqual({
      bans_tested: 1,
      bans_tests_tested: 1,
      bans_obj_killed: 1,
      n_object: 0,
    });
  });

  it('spares objects newer than the ban, and tests each object against each ban once', () => {
    const cache = new Cache();
    const old = fill(cache, '/old', T);
    cache.ban('obj.status == 200', T + 1);
    const young = fill(cache, '/young', T + 2);
    expect(cache.lookup('/young', req('/young'), T + 3).kind).toBe('hit');
    expect(cache.counters.bans_tested).toBe(0);
    expect(cache.lookup('/old', req('/old'), T + 3).kind).toBe('miss');
    expect([old.dying, young.dying]).toEqual([true, false]);

    const other = fill(cache, '/other', T + 4);
    cache.ban('obj.status == 404', T + 5);
    expect(cache.lookup('/other', req('/other'), T + 6).kind).toBe('hit');
    expect(cache.lookup('/other', req('/other'), T + 7).kind).toBe('hit');
    expect(cache.counters.bans_tested).toBe(2);
    expect(other.ban).toBe(cache.bans.head);
  });

  it('bans every variant under a key, as the check comes before Vary', () => {
    const cache = new Cache();
    for (const lang of ['en', 'fr']) {
      const r = cache.lookup('k', req('/', `Accept-Language: ${lang}`), T);
      if (r.kind !== 'miss') throw new Error(r.kind);
      commitBody(cache, r.fetch, T, lang, { vary: { names: ['accept-language'], values: [lang] } });
    }
    cache.ban('req.url == /', T + 1);
    expect(cache.lookup('k', req('/', 'Accept-Language: en'), T + 2).kind).toBe('miss');
    expect(cache.counters.n_object).toBe(0);
  });

  it('completes older identical bans, unless ban_dups is off', () => {
    for (const dups of [true, false]) {
      const cache = new Cache({ params: { ...defaultCacheParams(), ban_dups: dups } });
      fill(cache, '/a', T);
      cache.ban('req.url == /x', T + 1);
      cache.ban('req.url == /y', T + 2);
      cache.ban('req.url  ==  /x', T + 3);
      expect(listed(cache)).toEqual(
        dups ? ['0 - req.url == /x', '0 - req.url == /y', '0 C ', '1 C '] : ['0 - req.url == /x', '0 - req.url == /y', '0 - req.url == /x', '1 C '],
      );
      expect(cache.counters.bans_dups).toBe(dups ? 1 : 0);
      expect(cache.counters.bans_completed).toBe(dups ? 2 : 1);
    }
  });

  it('reports refused bans without adding them', () => {
    const cache = new Cache();
    expect(cache.ban('req.url ~ (', T)).toBe('Regex compile error: missing closing parenthesis');
    expect(cache.bans.addArgs(['req.url', '=='], T)).toBe('Wrong number of arguments');
    expect(cache.bans.addArgs(['req.url', '==', '/a b'], T)).toBeNull();
    expect(cache.counters.bans_added).toBe(2);
  });
});

describe('the lurker', () => {
  it('leaves bans younger than ban_lurker_age and says when to come back', () => {
    const cache = new Cache({ params: lurkerParams({ ban_lurker_age: 30 }) });
    const a = fill(cache, '/a', T);
    cache.ban('obj.status == 200', T + 1);
    expect(cache.lurker.runPass(T + 11)).toBeCloseTo(20);
    expect(a.dying).toBe(false);
    cache.lurker.runPass(T + 32);
    expect(a.dying).toBe(true);
    expect(cache.counters.bans_lurker_obj_killed).toBe(1);
  });

  it('does not test req bans, and moves objects only up to them', () => {
    const cache = new Cache({ params: lurkerParams() });
    const a = fill(cache, '/a', T);
    const b = fill(cache, '/b', T);
    cache.ban('obj.http.x == /a', T + 1);
    cache.ban('req.url == /b', T + 2);
    cache.ban('obj.http.x == /zzz', T + 3);
    cache.lurker.runPass(T + 4);
    expect([a.dying, b.dying]).toEqual([true, false]);
    // b was tested against both obj bans but must still meet the req ban at lookup.
    expect(b.ban?.spec?.text ?? 'completed').toBe('completed');
    expect(b.ban).not.toBe(cache.bans.head);
    expect(listed(cache)).toEqual(['0 C ', '0 - req.url == /b', '1 C ']);
    expect(cache.lookup('/b', req('/b'), T + 5).kind).toBe('miss');
  });

  it('tests the objects just below a req ban and leaves the survivors there', () => {
    const cache = new Cache({ params: lurkerParams({ ban_lurker_batch: 3 }) });
    const objs = Array.from({ length: 10 }, (_, i) => fill(cache, `/o${i}`, T));
    const below = cache.bans.head;
    cache.ban('req.url == /none', T + 1);
    cache.ban('obj.http.x ~ [02468]$', T + 2);
    cache.lurker.runPass(T + 3);
    expect(objs.map((o) => o.dying)).toEqual(objs.map((_, i) => i % 2 === 0));
    expect(objs.filter((o) => !o.dying).every((o) => o.ban === below)).toBe(true);
    expect(cache.counters.bans_lurker_obj_killed).toBe(5);
    expect(listed(cache)).toEqual(['0 C ', '0 - req.url == /none', '5 C ']);
  });

  it('pauses every ban_lurker_batch objects', () => {
    const cache = new Cache({ params: lurkerParams({ ban_lurker_batch: 2 }) });
    for (let i = 0; i < 5; i++) fill(cache, `/o${i}`, T);
    cache.ban('obj.http.x ~ [024]$', T + 1);
    const pass = cache.lurker.pass(T + 2);
    let pauses = 0;
    while (!pass.next().done) pauses++;
    expect(pauses).toBe(2);
    expect(cache.counters.n_object).toBe(2);
  });

  it('runs on its own once started, and not at all with ban_lurker_sleep 0', async () => {
    for (const sleepParam of [0.001, 0]) {
      const cache = new Cache({ params: lurkerParams({ ban_lurker_sleep: sleepParam }) });
      const a = fill(cache, '/a', Date.now() / 1000 - 1);
      cache.start();
      try {
        cache.ban('obj.status == 200', Date.now() / 1000 - 0.5);
        if (sleepParam > 0) for (let i = 0; i < 100 && !a.dying; i++) await sleep(5);
        else await sleep(50);
      } finally {
        cache.stop();
      }
      expect(a.dying).toBe(sleepParam > 0);
    }
  });
});
