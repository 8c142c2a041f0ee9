// Vary, as Varnish 7.1 matched these requests (varnishtest): same object for "en", "en  " and
// a repeated header whose first value is "en"; another for "EN"; an empty header differs from
// an absent one; a Vary without commas between names is refused.
import { describe, expect, it } from 'vitest';
import { Cache } from '../../src/cache/store.ts';
import { buildVary, type VarySpec, varyMatches } from '../../src/cache/vary.ts';
import { commitBody, req } from './helpers.ts';

function spec(vary: string | null, ...lines: string[]): VarySpec | null {
  const r = buildVary(vary, req('/', ...lines));
  if ('error' in r) throw new Error(r.error);
  return r.spec;
}

describe('buildVary', () => {
  it('records the first request value of each name, blanks trimmed, absence as null', () => {
    expect(spec('X-A, x-b', 'X-A:  en ', 'X-A: fr')).toEqual({ names: ['x-a', 'x-b'], values: ['en', null] });
  });

  it('ignores empty names and blanks around commas', () => {
    expect(spec(',X-A,,  x-b ,', 'X-B: 1')).toEqual({ names: ['x-a', 'x-b'], values: [null, '1'] });
  });

  it('has no spec for no or an empty Vary', () => {
    expect(spec(null)).toBeNull();
    expect(spec('')).toBeNull();
    expect(spec(' , ')).toBeNull();
  });

  it('refuses what Varnish refuses', () => {
    expect(buildVary('X-A X-B', req('/'))).toEqual({ error: 'Malformed Vary header' });
    expect(buildVary('x'.repeat(128), req('/'))).toEqual({ error: 'Vary header name length exceeded' });
    expect(buildVary('x'.repeat(127), req('/'))).toEqual({ spec: { names: ['x'.repeat(127)], values: [null] } });
    expect(buildVary('X-A', req('/', `X-A: ${'v'.repeat(65535)}`))).toEqual({ error: 'Vary header maximum length exceeded' });
  });
});

describe('varyMatches', () => {
  const en = spec('X-A', 'X-A: en')!;
  it.each([
    [['X-A: en'], true],
    [['X-A: en  '], true],
    [['x-a:     en'], true],
    [['X-A: en', 'X-A: fr'], true],
    [['X-A: fr', 'X-A: en'], false],
    [['X-A: EN'], false],
    [[], false],
  ])('%j matches %s', (lines, expected) => {
    expect(varyMatches(en, req('/', ...lines))).toBe(expected);
  });

  it('tells an empty header from an absent one', () => {
    const absent = spec('X-A, X-B', 'X-A: en')!;
    expect(varyMatches(absent, req('/', 'X-A: en'))).toBe(true);
    expect(varyMatches(absent, req('/', 'X-A: en', 'X-B: '))).toBe(false);
    const empty = spec('X-A, X-B', 'X-A: en', 'X-B: ')!;
    expect(varyMatches(empty, req('/', 'X-A: en', 'X-B: '))).toBe(true);
    expect(varyMatches(empty, req('/', 'X-A: en'))).toBe(false);
  });
});

describe('variants in the cache', () => {
  it('keeps one object per variant under one key', () => {
    const cache = new Cache();
    const T = 100;
    const variants = ['en', 'fr'].map((lang) => {
      const request = req('/', `Accept-Language: ${lang}`);
      const r = cache.lookup('k', request, T);
      if (r.kind !== 'miss') throw new Error(r.kind);
      return commitBody(cache, r.fetch, T, lang, { vary: spec('Accept-Language', `Accept-Language: ${lang}`) });
    });
    for (const [i, lang] of ['en', 'fr'].entries()) {
      const r = cache.lookup('k', req('/', `Accept-Language: ${lang}`), T + 1);
      expect(r.kind === 'hit' && r.obj).toBe(variants[i]);
    }
    expect(cache.lookup('k', req('/'), T + 1).kind).toBe('miss');
    expect(cache.counters.n_object).toBe(2);
    expect(cache.counters.n_objecthead).toBe(1);
  });
});
