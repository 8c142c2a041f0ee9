// std.fnmatch's matcher against answers taken from glibc 2.36's fnmatch (through Varnish 7.1's
// std.fnmatch and directly), flags as std passes them.
import { describe, expect, it } from 'vitest';
import { globMatch } from './glob.ts';

const DEFAULT = { pathname: true, noescape: false, period: false };
const ALL_OFF = { pathname: false, noescape: false, period: false };

describe('globMatch', () => {
  it.each([
    ['/foo/*', '/foo/bar', true],
    ['/foo/*', '/foo/bar/baz', false],
    ['/foo/*/quux', '/foo/bar/quux', true],
    ['/foo/?ar', '/foo/car', true],
    ['/foo/[!0-9]', '/foo/x', true],
    ['/foo/[!0-9]', '/foo/5', false],
    ['*.jpg', 'a.JPG', false],
    ['a*b*c', 'aXXbYYc', true],
    ['**', 'a/b', false],
    ['x/**/y', 'x/a/b/y', false],
    ['*/b', 'a/b', true],
    ['*', '', true],
    ['', '', true],
    ['?', '/', false],
    ['[/]', '/', false],
  ])('%s on %s (pathname) is %s', (pattern, subject, expected) => {
    expect(globMatch(pattern, subject, DEFAULT)).toBe(expected);
  });

  it('lets wildcards cross slashes without pathname', () => {
    expect(globMatch('/foo/*', '/foo/bar/baz', ALL_OFF)).toBe(true);
    expect(globMatch('[/]', '/', ALL_OFF)).toBe(true);
  });

  it.each([
    ['[[:alpha:]]', 'x', true],
    ['[[:digit:][:upper:]]', 'Q', true],
    ['[[:foo:]]', 'x', false],
    ['[[.a.]]', 'a', true],
    ['[[=a=]]', 'a', true],
    ['[]a]', ']', true],
    ['[!]]', 'a', true],
    ['[^a]', 'a', false],
    ['[a-]', '-', true],
    ['[z-a]', 'm', false],
    ['[a-c-e]', 'd', false],
    ['[.-.]', '.', true],
    ['[:[:digit:]-]', '-', true],
    ['[=a=]**[]]', '=]', true],
  ])('bracket %s on %s is %s', (pattern, subject, expected) => {
    expect(globMatch(pattern, subject, DEFAULT)).toBe(expected);
  });

  it('treats an unterminated bracket as an ordinary [', () => {
    expect(globMatch('[', '[', DEFAULT)).toBe(true);
    expect(globMatch('[', 'x', DEFAULT)).toBe(false);
    expect(globMatch('a[b', 'a[b', DEFAULT)).toBe(true);
    expect(globMatch('[a-z', '[a-z', DEFAULT)).toBe(true);
    expect(globMatch('[!', '[!', DEFAULT)).toBe(true);
    expect(globMatch('[[:alpha:]', '[[:alpha:]', DEFAULT)).toBe(false);
    expect(globMatch('[[:alpha:]', 'a', DEFAULT)).toBe(false);
  });

  it('escapes with a backslash unless noescape', () => {
    expect(globMatch('\\*', '*', DEFAULT)).toBe(true);
    expect(globMatch('\\*', 'x', DEFAULT)).toBe(false);
    expect(globMatch('a\\', 'a\\', DEFAULT)).toBe(false);
    expect(globMatch('a\\\\', 'a\\', DEFAULT)).toBe(true);
    expect(globMatch('a\\\\', 'a\\', { ...DEFAULT, noescape: true })).toBe(false);
    expect(globMatch('[\\]]', ']', DEFAULT)).toBe(true);
    expect(globMatch('[\\]]', '\\', { ...DEFAULT, noescape: true })).toBe(false);
    expect(globMatch('[a\\]', '\\', DEFAULT)).toBe(false);
    expect(globMatch('[\\', '[\\', DEFAULT)).toBe(false);
    expect(globMatch('[\\a-c]', 'b', DEFAULT)).toBe(true);
    expect(globMatch('[a-\\c]', 'b', DEFAULT)).toBe(true);
  });

  it('keeps a leading period for a literal dot with period', () => {
    const period = { ...DEFAULT, period: true };
    expect(globMatch('*', '.x', period)).toBe(false);
    expect(globMatch('.*', '.x', period)).toBe(true);
    expect(globMatch('a/*', 'a/.x', period)).toBe(false);
    expect(globMatch('*/.x', 'a/.x', period)).toBe(true);
    expect(globMatch('/a/[.]b', '/a/.b', period)).toBe(false);
    expect(globMatch('a*', 'a/.x', { ...ALL_OFF, period: true })).toBe(true);
    expect(globMatch('/a/?b', '/a/.b', { ...ALL_OFF, period: true })).toBe(true);
  });
});
