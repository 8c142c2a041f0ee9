// Ban expressions: every row below was given to Varnish 7.1.1 (std.ban() and std.ban_error()
// in varnishtest, or its CLI), which answered with this error or listed the ban as shown.
import { describe, expect, it } from 'vitest';
import { banMatches, parseBanArgs, parseBanString, renderDuration } from '../../src/cache/ban-spec.ts';
import { CacheObject } from '../../src/cache/object.ts';
import { req, resp } from './helpers.ts';

function errorOf(parsed: ReturnType<typeof parseBanString>): string | null {
  return 'error' in parsed ? parsed.error : null;
}

function textOf(parsed: ReturnType<typeof parseBanString>): string {
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.spec.text;
}

describe('ban() from VCL', () => {
  it.each([
    ['req.url ~ "a b"', 'Expected && between conditions, found "b""'],
    ['req.url ~ "/f oo" && obj.http.x-tag == abc', 'Expected && between conditions, found "oo""'],
    ["req.url ~ 'a b'", 'Expected && between conditions, found "b\'"'],
    ['req.url == a b', 'Expected && between conditions, found "b"'],
    ['req.url == a && b', 'Expected comparison operator.'],
    ['req.url == a foo req.url == b', 'Expected && between conditions, found "foo"'],
    ['req.url == a && req.url == b &&', 'No ban conditions found.'],
    ['req.url', 'Expected comparison operator.'],
    ['req.url ==', 'Expected second operand.'],
    ['', 'No ban conditions found.'],
    ['   ', 'No ban conditions found.'],
    ['req.foo == 1', 'Unknown or unsupported field "req.foo"'],
    ['obj.status > 200', 'expected conditional (==, !=, ~ or !~) got ">"'],
    ['obj.ttl ~ 1', 'expected conditional (==, !=, >, >=, < or <=) got "~"'],
    ['obj.ttl == 10', 'expected duration <n.nn>[ms|s|m|h|d|w|y] got "10"'],
    ['req.url ~ "("', 'Regex compile error: missing closing parenthesis'],
    ['req.url == a &&& req.url == b', 'Expected && between conditions, found "&&&"'],
    ['"req.url" == a', 'Unknown or unsupported field ""req.url""'],
    ['req.url == "x" extra', 'Expected && between conditions, found "extra"'],
    ['req.url == a\\ b', 'Expected && between conditions, found "b"'],
  ])('%s is refused', (expression, error) => {
    expect(errorOf(parseBanString(expression))).toBe(error);
  });

  it('refuses an unset string', () => {
    expect(errorOf(parseBanString(null))).toBe('Null argument');
  });

  it.each([
    ['req.http.host ~ "^(www\\.)?example\\.com$"', 'req.http.host ~ "^(www\\.)?example\\.com$"'],
    ['obj.status == ""', 'obj.status == ""'],
    ['req.url ~ ""', 'req.url ~ ""'],
    ['req.url == "a" && req.url == "b"', 'req.url == "a" && req.url == "b"'],
    ['obj.ttl == -1s', 'obj.ttl == 18446744073709551615.616s'],
    ['obj.keep <= 100ms', 'obj.keep <= 100ms'],
    ['obj.grace >= 1y', 'obj.grace >= 1y'],
    ['obj.age < 1000000000s', 'obj.age < 1000000000s'],
    ['obj.ttl > 0.0001s', 'obj.ttl > 0s'],
    ['obj.ttl > 36h', 'obj.ttl > 36h'],
    ['obj.ttl > 1.5s', 'obj.ttl > 1.500s'],
    ['req.url == a && obj.status == 200 && req.http.x != y', 'req.url == a && obj.status == 200 && req.http.x != y'],
    ['obj.http.X ~ "(?i)B"', 'obj.http.X ~ "(?i)B"'],
    ['req.url ~ "\\d+"', 'req.url ~ "\\d+"'],
    ['req.url == "a\\"b"', 'req.url == "a\\"b"'],
    ['req.url == "unterminated', 'req.url == "unterminated'],
    ['req.http. == a', 'req.http. == a'],
    ['req.urlx == a', 'req.url == a'],
    ['  req.url\t==  a  ', 'req.url == a'],
  ])('%s is listed as %s', (expression, listed) => {
    expect(textOf(parseBanString(expression))).toBe(listed);
  });

  it('flags req and obj bans', () => {
    const both = parseBanString('req.url == a && obj.status == 200');
    const obj = parseBanString('obj.ttl > 1s');
    if ('error' in both || 'error' in obj) throw new Error('refused');
    expect([both.spec.req, both.spec.obj, obj.spec.req, obj.spec.obj]).toEqual([true, true, false, true]);
  });

  it('gives identical bans one key (durations by value, fields by prefix)', () => {
    const key = (s: string) => {
      const p = parseBanString(s);
      if ('error' in p) throw new Error(p.error);
      return p.spec.key;
    };
    expect(key('obj.ttl > 7d')).toBe(key('obj.ttl > 1w'));
    expect(key('req.urlx == a')).toBe(key('req.url == a'));
    expect(key('req.url == a')).not.toBe(key('req.url == b'));
    expect(key('req.http.A == a')).not.toBe(key('req.http.a == a'));
  });
});

describe('ban from the CLI', () => {
  it('checks the word count and the && first', () => {
    expect(errorOf(parseBanArgs(['req.url', '==', 'a', 'b']))).toBe('Wrong number of arguments');
    expect(errorOf(parseBanArgs(['req.url', '==', 'a', '&&', 'req.url', '==', 'b', '&&']))).toBe('Wrong number of arguments');
    expect(errorOf(parseBanArgs(['req.url', '==', 'a', 'foo', 'req.url', '==', 'b']))).toBe('Found "foo" expected &&');
    expect(errorOf(parseBanArgs(['obj.grace', '==', '10']))).toBe('expected duration <n.nn>[ms|s|m|h|d|w|y] got "10"');
  });

  it('takes arguments already unquoted', () => {
    expect(textOf(parseBanArgs(['obj.http.Foo', '~', 'x']))).toBe('obj.http.Foo ~ x');
    expect(textOf(parseBanArgs(['req.url', '~', 'a b', '&&', 'obj.ttl', '>', '90s']))).toBe('req.url ~ a b && obj.ttl > 90s');
  });
});

describe('durations as ban.list prints them', () => {
  it.each([
    ['60s', '1m'],
    ['90s', '90s'],
    ['7d', '1w'],
    ['1.5s', '1.500s'],
    ['100ms', '100ms'],
    ['1500ms', '1.500s'],
    ['0.0001s', '0s'],
    ['1.0001s', '1s'],
    ['365d', '1y'],
    ['730d', '2y'],
    ['2y', '2y'],
    ['-1s', '18446744073709551615.616s'],
    ['-1.5s', '18446744073709551614.116s'],
    ['0s', '0s'],
    ['3600s', '1h'],
    ['86400s', '1d'],
    ['1.25m', '75s'],
    ['0.5h', '30m'],
    ['14d', '2w'],
    ['120m', '2h'],
  ])('%s as %s', (written, printed) => {
    expect(textOf(parseBanString(`obj.ttl > ${written}`))).toBe(`obj.ttl > ${printed}`);
  });

  it('renders seconds directly', () => {
    expect([renderDuration(0.25), renderDuration(1209600), renderDuration(61)]).toEqual(['250ms', '2w', '61s']);
  });
});

describe('evaluation', () => {
  const T = 10_000;
  const http = resp(200, 'X-Tag: a', 'Empty:');
  const obj = new CacheObject({ xid: 1, http, origin: T, ttl: 100, grace: 10, keep: 5, body: [] });
  const matches = (expression: string, request = req('/x'), banTime = T + 10) => {
    const p = parseBanString(expression);
    if ('error' in p) throw new Error(p.error);
    return banMatches(p.spec, banTime, obj, request, { tests: 0 });
  };

  it('treats an absent header as Varnish 7.1 does', () => {
    expect(matches('obj.http.nope != x')).toBe(true);
    expect(matches('obj.http.nope !~ x')).toBe(false);
    expect(matches('obj.http.nope == x')).toBe(false);
    expect(matches('obj.http.nope ~ .')).toBe(false);
    expect(matches('obj.http.empty ~ ^$')).toBe(true);
  });

  it('compares strings and regexes case-sensitively, the status as text', () => {
    expect(matches('obj.http.x-tag == a')).toBe(true);
    expect(matches('obj.http.x-tag ~ ^A')).toBe(false);
    expect(matches('obj.http.x-tag ~ (?i)^A')).toBe(true);
    expect(matches('obj.status == 200')).toBe(true);
    expect(matches('obj.status ~ ^2')).toBe(true);
    expect(matches('obj.status == 200.0')).toBe(false);
  });

  it('reads req.url and req.http from the request, all conditions ANDed', () => {
    expect(matches('req.url == /x && req.http.host == h', req('/x', 'Host: h'))).toBe(true);
    expect(matches('req.url == /x && req.http.host == h', req('/x', 'Host: g'))).toBe(false);
    expect(matches('req.url ~ ^/y', req('/x'))).toBe(false);
  });

  it('takes obj.ttl and obj.age at the time of the ban', () => {
    // At T + 10, 90 s of ttl are left and the object is 10 s old.
    expect(matches('obj.ttl > 80s')).toBe(true);
    expect(matches('obj.ttl > 90s')).toBe(false);
    expect(matches('obj.ttl >= 90s')).toBe(true);
    expect(matches('obj.age == 10s')).toBe(true);
    expect(matches('obj.age > 10s')).toBe(false);
    expect(matches('obj.age < 11s')).toBe(true);
    expect(matches('obj.grace == 10s && obj.keep <= 5s')).toBe(true);
    expect(matches('obj.grace != 10s')).toBe(false);
  });

  it('counts the conditions it tests, stopping at the first that fails', () => {
    const p = parseBanString('obj.status == 404 && obj.status == 200');
    if ('error' in p) throw new Error(p.error);
    const tally = { tests: 0 };
    expect(banMatches(p.spec, T, obj, null, tally)).toBe(false);
    expect(tally.tests).toBe(1);
  });
});
