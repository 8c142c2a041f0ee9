// `expect` semantics, each row checked against varnishtest 7.1 (the same expectations
// written as a VTC file and run there).

import { describe, expect, it } from 'vitest';
import { evalExpect, strtoumax, vnum } from '../../src/vtc/expect.ts';

const ok = (l: string | undefined, op: string, r: string | undefined) => {
  const out = evalExpect(l, op, r);
  if ('error' in out) throw new Error(out.error);
  return out.ok;
};

describe('evalExpect', () => {
  it('compares text with == and !=, an unset side reading "<undef>"', () => {
    expect(ok('a b  ', '==', 'a b  ')).toBe(true);
    expect(ok(undefined, '==', '<undef>')).toBe(true);
    expect(ok(undefined, '!=', '1')).toBe(true);
    expect(ok('', '==', '<undef>')).toBe(false);
    expect(ok('1', '!=', '<undef>')).toBe(true);
  });

  it('compares numbers with < > <= >=, false when a side is unset or not a number', () => {
    expect(ok('1', '<', '2')).toBe(true);
    expect(ok('1', '>=', ' 1.0 ')).toBe(true);
    expect(ok('1', '>=', '1e0')).toBe(false);
    expect(ok(undefined, '<', '2')).toBe(false);
    expect(ok('abc', '<=', 'abc')).toBe(false);
    expect(ok('11', '>', '2')).toBe(true);
  });

  it('matches regexes with ~ and !~', () => {
    expect(ok('1', '~', '^1$')).toBe(true);
    expect(ok('close, x-varnish', '~', 'close')).toBe(true);
    expect(ok(undefined, '~', '^<undef>$')).toBe(true);
    expect(ok('abc', '!~', 'b')).toBe(false);
    expect(evalExpect('x', '~', '(')).toHaveProperty('error');
  });

  it('compares unsigned integers with -eq and friends, as strtoumax reads them', () => {
    expect(ok('2479998125', '-eq', '0x93d1c4ad')).toBe(true);
    expect(ok('010', '-eq', '8')).toBe(true);
    expect(ok('1.5', '-eq', '1.7')).toBe(true);
    expect(ok(undefined, '-eq', '0')).toBe(true);
    expect(ok('abc', '-eq', '0')).toBe(true);
    expect(ok('12abc', '-eq', '12')).toBe(true);
    expect(ok('-3', '-lt', '0')).toBe(false);
    expect(ok('2479998125', '-le', '2479998125')).toBe(true);
    expect(ok('2479998125', '-ge', '2479998126')).toBe(false);
    expect(ok('99999999999999999999', '-eq', '0x7fffffffffffffff')).toBe(false);
  });

  it('reports an unknown operator', () => {
    expect(evalExpect('a', '=~', 'b')).toHaveProperty('error');
  });
});

describe('number readers', () => {
  it('vnum takes plain decimals only', () => {
    expect(vnum(' 42 ')).toBe(42);
    expect(vnum('-1.5')).toBe(-1.5);
    expect(vnum('1e3')).toBeNaN();
    expect(vnum('')).toBeNaN();
  });

  it('strtoumax saturates and wraps as C does', () => {
    expect(strtoumax('0x10')).toBe(16n);
    expect(strtoumax('-1')).toBe((1n << 64n) - 1n);
    expect(strtoumax('184467440737095516160')).toBe((1n << 64n) - 1n);
  });
});
