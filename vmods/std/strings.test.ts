// std's string and header functions called directly; expectations from Varnish 7.1 (varnishtest).
import { describe, expect, it } from 'vitest';
import { VclHttp } from '../../src/runtime/http.ts';
import { VmodFailure } from '../../src/vmod/api.ts';
import { TestContext } from '../../test/helpers/vmod-context.ts';
import { collect, fnmatch, querysort, strftime, strstr, tolower, toupper } from './strings.ts';

const ctx = new TestContext();

describe('std string functions', () => {
  it('changes the case of ASCII letters only', () => {
    expect(toupper(ctx, ['a\u00e9', '\u00df', null])).toBe('A\u00e9\u00df');
    expect(tolower(ctx, ['ABC', 'DEF'])).toBe('abcdef');
    expect(toupper(ctx, [])).toBe('');
  });

  it('finds the tail of a string from a substring', () => {
    expect(strstr(ctx, 'abcabc', 'ca')).toBe('cabc');
    expect(strstr(ctx, 'abc', 'x')).toBeNull();
    expect(strstr(ctx, 'abc', '')).toBe('abc');
    expect(strstr(ctx, null, 'a')).toBeNull();
    expect(strstr(ctx, 'abc', null)).toBeNull();
  });

  it.each([
    ['/x?b=1&a=2&&c', '/x?a=2&b=1&c'],
    ['/x?a=1&a&a=0', '/x?a=1&a&a=0'],
    ['/x?a&a=1&a=0', '/x?a&a=0&a=1'],
    ['/x?b&', '/x?b'],
    ['/x?&&', '/x?'],
    ['/x?b', '/x?b'],
    ['/x', '/x'],
    ['/x?z=\u00e9&z=a', '/x?z=\u00e9&z=a'],
  ])('querysort(%s) is %s', (url, sorted) => {
    expect(querysort(ctx, url)).toBe(sorted);
  });

  it('querysort keeps NULL', () => {
    expect(querysort(ctx, null)).toBeNull();
  });

  it('collects a header, with the default separator for NULL', () => {
    const req = VclHttp.request('GET', '/');
    req.appendRaw(['X-B', '1', 'Other', 'o', 'x-b', '2']);
    const c = new TestContext({ http: { req } });
    collect(c, { where: 'req', name: 'x-b' }, null);
    expect(req.getAll('x-b')).toEqual(['1, 2']);
    req.append('X-B', '3');
    collect(c, { where: 'req', name: 'X-B' }, ';');
    expect(req.getAll('x-b')).toEqual(['1, 2;3']);
  });

  it('refuses to collect a header of obj or of a missing object', () => {
    const obj = VclHttp.response(200, 'OK');
    const c = new TestContext({ method: 'vcl_hit', http: { obj } });
    expect(() => collect(c, { where: 'obj', name: 'x' }, null)).toThrow(
      new VmodFailure('std.collect(): header argument can not be used here'),
    );
    expect(() => collect(c, { where: 'beresp', name: 'x' }, null)).toThrow(VmodFailure);
  });

  it('fnmatch passes its flags and fails on NULL', () => {
    expect(fnmatch(ctx, '/foo/*', '/foo/bar/baz', true, false, false)).toBe(false);
    expect(fnmatch(ctx, '/foo/*', '/foo/bar/baz', false, false, false)).toBe(true);
    expect(fnmatch(ctx, '*', '.x', true, false, true)).toBe(false);
    expect(fnmatch(ctx, 'a\\\\', 'a\\', true, true, false)).toBe(false);
    expect(() => fnmatch(ctx, null, 'x', true, false, false)).toThrow(new VmodFailure('std.fnmatch(): pattern is NULL'));
    expect(() => fnmatch(ctx, 'x', null, true, false, false)).toThrow(new VmodFailure('std.fnmatch(): subject is NULL'));
  });

  it('strftime formats in UTC and gives "" for a NULL format', () => {
    expect(strftime(ctx, 1234567890.5, '%Y%m%dT%H%M%SZ')).toBe('20090213T233130Z');
    expect(strftime(ctx, 1234567890, '')).toBe('');
    expect(strftime(ctx, 1234567890, null)).toBe('');
  });
});
