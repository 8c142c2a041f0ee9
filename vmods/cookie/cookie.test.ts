// The cookie VMOD called directly; expectations observed in Varnish 7.1 with varnishtest.
import { describe, expect, it } from 'vitest';
import { compileVclRegex, type VclRegex } from '../../src/common/regex.ts';
import type { PrivHolder } from '../../src/vmod/api.ts';
import { TestContext } from '../../test/helpers/vmod-context.ts';
import * as cookie from './index.ts';
import type { CookieJar } from './jar.ts';

const ctx = new TestContext();

function re(source: string): VclRegex {
  const compiled = compileVclRegex(source);
  if (!('re' in compiled)) throw new Error(compiled.error);
  return compiled.re;
}

/** A fresh PRIV_TASK holder with the header parsed into it. */
function parsed(header: string): PrivHolder<CookieJar> {
  const priv: PrivHolder<CookieJar> = { priv: undefined };
  cookie.parse(ctx, priv, header);
  return priv;
}

describe('cookie.parse and get_string', () => {
  it.each([
    ['a=1; b=2;c=3', 'a=1; b=2; c=3;'],
    ['a = 1; b; c=3', 'a = 1; b; c=3;'],
    ['a=1; a=2; b=; =x; c=3', 'a=2; c=3;'],
    ['  a=1 ;  b=2  ', 'a=1 ; b=2  ;'],
    ['a=1; b=x=y', 'a=1; b=x=y;'],
    ['novalue', ''],
  ])('%j prints as %j', (header, printed) => {
    expect(cookie.get_string(ctx, parsed(header))).toBe(printed);
  });

  it('keeps names and values with their blanks', () => {
    const priv = parsed('a = 1; b; c=3');
    expect(cookie.get(ctx, priv, 'a ')).toBe(' 1');
    expect(cookie.get(ctx, priv, 'b; c')).toBe('3');
    expect(cookie.get(ctx, parsed('  a=1 ;  b=2  '), 'b')).toBe('2  ');
  });

  it('replaces the jar on a second parse, but not for an empty header', () => {
    const priv = parsed('a=1');
    cookie.parse(ctx, priv, '');
    cookie.parse(ctx, priv, null);
    expect(cookie.get_string(ctx, priv)).toBe('a=1;');
    cookie.parse(ctx, priv, 'b=2');
    expect(cookie.get_string(ctx, priv)).toBe('b=2;');
  });

  it('prints an empty jar as an empty string', () => {
    expect(cookie.get_string(ctx, { priv: undefined })).toBe('');
  });
});

describe('single cookies', () => {
  it('sets in place, ignoring empty names and values', () => {
    const priv: PrivHolder<CookieJar> = { priv: undefined };
    cookie.set(ctx, priv, 'x', '1');
    cookie.set(ctx, priv, 'y', '2');
    cookie.set(ctx, priv, 'x', '3');
    cookie.set(ctx, priv, '', '4');
    cookie.set(ctx, priv, 'z', '');
    cookie.set(ctx, priv, null, '5');
    expect(cookie.get_string(ctx, priv)).toBe('x=3; y=2;');
  });

  it('gets, tests and deletes', () => {
    const priv = parsed('a=1;b=2');
    cookie.delete(ctx, priv, 'a');
    cookie.delete(ctx, priv, 'zz');
    cookie.delete(ctx, priv, null);
    expect(cookie.get_string(ctx, priv)).toBe('b=2;');
    expect(cookie.isset(ctx, priv, 'b')).toBe(true);
    expect(cookie.isset(ctx, priv, 'a')).toBe(false);
    expect(cookie.isset(ctx, priv, '')).toBe(false);
    expect(cookie.get(ctx, priv, 'a')).toBeNull();
    expect(cookie.get(ctx, priv, null)).toBeNull();
  });

  it('gets the first cookie whose name matches a regex', () => {
    const priv = parsed('a=1;b=2;c=3');
    expect(cookie.get_re(ctx, priv, re('b|a'))).toBe('1');
    expect(cookie.get_re(ctx, priv, re('^x'))).toBeNull();
  });

  it('cleans the jar', () => {
    const priv = parsed('a=1;b=2');
    cookie.clean(ctx, priv);
    expect(cookie.get_string(ctx, priv)).toBe('');
  });
});

describe('filters', () => {
  it('keeps listed names, with leading blanks skipped and trailing ones kept', () => {
    const priv = parsed('a=1;b=2;c=3;d=4');
    cookie.keep(ctx, priv, ' a, c ,d');
    expect(cookie.get_string(ctx, priv)).toBe('a=1; d=4;');
  });

  it('keeps nothing for an empty or NULL list', () => {
    const priv = parsed('a=1;b=2');
    cookie.keep(ctx, priv, '');
    expect(cookie.get_string(ctx, priv)).toBe('');
    const other = parsed('a=1');
    cookie.keep(ctx, other, null);
    expect(cookie.get_string(ctx, other)).toBe('');
  });

  it('filters listed names, skipping empty entries', () => {
    const priv = parsed('a=1;b=2;c=3;d=4');
    cookie.filter(ctx, priv, 'a,,c');
    expect(cookie.get_string(ctx, priv)).toBe('b=2; d=4;');
  });

  it('filters and keeps by regex', () => {
    const filtered = parsed('a=1;b=2;c=3;d=4');
    cookie.filter_re(ctx, filtered, re('^[ab]$'));
    expect(cookie.get_string(ctx, filtered)).toBe('c=3; d=4;');
    const kept = parsed('a=1;b=2;c=3;d=4');
    cookie.keep_re(ctx, kept, re('^[ab]$'));
    expect(cookie.get_string(ctx, kept)).toBe('a=1; b=2;');
  });
});

describe('cookie.format_date', () => {
  it('formats now plus a duration as an HTTP date', () => {
    expect(cookie.format_date(ctx, 1234567890, 86400)).toBe('Sat, 14 Feb 2009 23:31:30 GMT');
    expect(cookie.format_date(ctx, 1234567890, -1.5)).toBe('Fri, 13 Feb 2009 23:31:28 GMT');
  });
});
