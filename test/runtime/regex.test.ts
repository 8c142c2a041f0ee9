// Expected values are what Varnish 7.1.1 (PCRE2 10.42) gave for the same VCL in varnishtest,
// except the cases marked as taken from PCRE2's documentation (bytes VCL strings cannot hold),
// and the refusals of what JS cannot express, which Varnish accepts.

import { describe, expect, it } from 'vitest';
import { compileVclRegex, regexMatch, regsub, type VclRegex } from '../../src/common/regex.ts';

function re(source: string): VclRegex {
  const compiled = compileVclRegex(source);
  if ('error' in compiled) throw new Error(`${source}: ${compiled.error}`);
  return compiled.re;
}

function errorOf(source: string): string | undefined {
  const compiled = compileVclRegex(source);
  return 'error' in compiled ? compiled.error : undefined;
}

describe('regsub and regsuball', () => {
  it.each([
    ['abcabc', 'b', '[\\0]', false, 'a[b]cabc'],
    ['abcabc', 'b', '[\\0]', true, 'a[b]ca[b]c'],
    ['abcabc', 'b', '[\\&]', false, 'a[&]cabc'],
    ['abcabc', '(a)(b)?', '<\\2\\1\\3>', false, '<ba>cabc'],
    ['abcabc', '(a)x?|(q)', '<\\2|\\1>', false, '<|a>bcabc'],
    ['abc', 'b', '\\\\', false, 'a\\c'],
    ['abc', 'b', '\\x', false, 'axc'],
    ['abc', 'b', 'x\\', false, 'ax\\c'],
    ['abc', 'b', '$0', false, 'a$0c'],
    ['abc', '(b)', '\\10', false, 'ab0c'],
    ['abc', '(b)', '\\\\1', false, 'a\\1c'],
    ['abc', 'z', '-', false, 'abc'],
    ['abc', 'z', '-', true, 'abc'],
    ['abc', 'x*', '-', true, '-abc'],
    ['abc', '', '-', true, '-abc'],
    ['aaa', 'a*', '-', true, '-'],
    ['abc', 'b*', '-', true, '-a-c'],
    ['abc', '(?n)(b)', '<\\1>', false, 'a<>c'],
  ])('%j ~ %j with %j (all: %s) gives %j', (subject, pattern, sub, all, expected) => {
    expect(regsub(subject, re(pattern), sub, all)).toBe(expected);
  });

  it('treats an unset subject as the empty string', () => {
    expect(regsub(null, re('^$'), 'empty', false)).toBe('empty');
    expect(regsub(null, re('z'), '-', false)).toBe('');
    expect(regsuball(null, '', '-')).toBe('-');
  });

  it('takes non-empty alternatives after an empty match, as PCRE2_NOTEMPTY does', () => {
    // At 0 the preferred match of `|a` is empty; afterwards the "a" alternative must be taken.
    expect(regsuball('aab', '|a', '-')).toBe('---b');
    expect(regsuball('xay', 'a??', '<\\0>')).toBe('<>x<a>y');
    expect(regsuball('abab', '(?:)|(ab)', '[\\1]')).toBe('[][ab][ab]');
  });

  it('replaces every non-overlapping match', () => {
    expect(regsuball('a.b.c', '\\.', '/')).toBe('a/b/c');
    expect(regsuball('aaaa', 'aa', 'b')).toBe('bb');
    expect(regsuball('Cookie: a=1; b=2', '(\\w)=(\\d)', '\\2=\\1')).toBe('Cookie: 1=a; 2=b');
  });
});

function regsuball(subject: string | null, pattern: string, sub: string): string {
  return regsub(subject, re(pattern), sub, true);
}

describe('matching', () => {
  it('is unanchored and honours inline case-folding', () => {
    expect(regexMatch(re('B'), 'abc')).toBe(false);
    expect(regexMatch(re('(?i)B'), 'abc')).toBe(true);
    expect(regexMatch(re('(?i)b'), 'ABC')).toBe(true);
    expect(regexMatch(re('^/\\d+$'), '/123')).toBe(true);
    expect(regexMatch(re('^$'), null)).toBe(true);
    expect(re('^$').test('')).toBe(true);
  });

  it.each([
    ['AC', '(a(?i)b|c)', 'A!'],
    ['C', '(a(?i)b|c)', '!'],
    ['aB', '(a(?i)b|c)', '!'],
    ['Ab', '(a(?i)b|c)', 'Ab'],
    ['aBc', '(?i)a(?-i)b', 'aBc'],
    ['Abc', '(?i)a(?-i)b', '!c'],
    ['ABc', '(?i)a(?-i:b)', 'ABc'],
    ['aB', 'a(?i:b)', '!'],
    ['AB', '(?i:a)(?-i)B', '!'],
    ['aBc', '(a(?i)b)c', '!'],
    ['aBC', '(a(?i)b)c', 'aBC'],
    ['Abc', 'a(?i)b', 'Abc'],
    ['ab', '(?^)ab', '!'],
    ['aab', '(?U)a+', '!ab'],
    ['aab', '(?U)a+?', '!b'],
    ['ab', '(?x) a # comment', '!b'],
    ['a b', '(?x)a\\ b', '!'],
    ['a b', '(?x)a[ ]b', '!'],
    ['foo bar', '(?x) o  o', 'f! bar'],
    ['a{1}', 'a{1', '!}'],
    ['a{,2}', 'a{,2}', '!'],
    ['aa', 'a{,2}', 'aa'],
    ['aaa', 'a{2}', '!a'],
    ['a}', 'a}', '!'],
    ['a]', 'a]', '!'],
    ['abc', '[]a]', '!bc'],
    ['a]c', '[]]', 'a!c'],
    ['abc', '[^]a]', 'a!c'],
    ['a-c', '[a\\-z]', '!-c'],
    ['-', '[a\\-z]', '!'],
    ['x-y', '[a-z-0]+', '!'],
    ['a1b', '[[:digit:]]', 'a!b'],
    ['a', '[[:^alpha:]]', 'a'],
    ['1', '[[:^alpha:]]', '!'],
    ['aZ', '[[:upper:]]', 'a!'],
    ['aZ', '(?i)[[:upper:]]', '!Z'],
    ['a_', '[[:word:]]+', '!'],
    ['ab', '\\x61', '!b'],
    ['ab', '\\x{62}', 'a!'],
    ['A', '\\101', '!'],
    ['a', '\\101', 'a'],
    ['A', '\\o{101}', '!'],
    ['a', '\\cA', 'a'],
    ['x-y', 'x\\-y', '!'],
    ['x', '\\Ex', '!'],
    ['a.b', '\\Q.\\E', 'a!b'],
    ['a.b', 'a\\Q.b', '!'],
    ['ab', 'a(?#comment)b', '!'],
    ['a.b', '\\.', 'a!b'],
    ['a b', '\\s', 'a!b'],
    ['a b', '\\h', 'a!b'],
    ['abab', '(ab)\\g1', '!'],
    ['abab', '(ab)\\g{-1}', '!'],
    ['abab', '(?<n>ab)\\k<n>', '!'],
    ['abab', '(?<n>ab)\\k{n}', '!'],
    ["abab", "(?'n'ab)\\k'n'", '!'],
    ['abab', '(?<n>ab)\\g{n}', '!'],
    ['abab', '(?P<n>ab)(?P=n)', '!'],
    ['aaaaaaaaaaab', '(a)(a)(a)(a)(a)(a)(a)(a)(a)(a)\\10b', '!'],
    ['foo', '\\Afoo\\z', '!'],
    ['foo', 'foo\\Z', '!'],
    ['abc', 'b(?=c)', 'a!c'],
    ['abc', '(?<=a)b', 'a!c'],
    ['\xc3\xa9', '^.$', '\xc3\xa9'],
    ['\xc3\xa9', '^..$', '!'],
  ])('regsub(%j, %j, "!") gives %j', (subject, pattern, expected) => {
    expect(regsub(subject, re(pattern), '!', false)).toBe(expected);
  });
});

describe('byte classes, from the PCRE2 documentation', () => {
  it.each([
    ['\x01', '\\cA', '!'],
    ['\x1b', '\\e', '!'],
    ['a\xa0b', '\\s', 'a\xa0b'],
    ['a\xa0b', '\\h', 'a!b'],
    ['a\x85b', '\\v', 'a!b'],
    ['a\r\nb', '\\R', 'a!b'],
    ['a\rb', 'a.b', '!'],
    ['a\u2028b', 'a.b', '!'],
  ])('regsub(%j, %j, "!") gives %j', (subject, pattern, expected) => {
    expect(regsub(subject, re(pattern), '!', false)).toBe(expected);
  });
});

describe('newlines', () => {
  it.each([
    ['a\nb\n', '(?m)^', 'Xa\nb\n'],
    ['a\nb\n', '(?m)$', 'aX\nb\n'],
    ['a\nb\n', '$', 'a\nbX\n'],
    ['a\nb\n', '^', 'Xa\nb\n'],
    ['a\nb\n', '\\Z', 'a\nbX\n'],
    ['a\nb\n', '\\z', 'a\nb\nX'],
    ['a\nb', '.', 'X\nX'],
    ['a\nb', '(?s).', 'XXX'],
    ['a\nb', '\\N', 'X\nX'],
    ['a\nb', '\\s', 'aXb'],
    ['a\nb', '\\R', 'aXb'],
    ['a\nb', '\\v', 'aXb'],
    ['a\nb\n\n', '(?m)^$', 'a\nb\nX\n'],
  ])('regsuball(%j, %j, "X") gives %j', (subject, pattern, expected) => {
    expect(regsuball(subject, pattern, 'X')).toBe(expected);
  });

  it.each([
    ['a\n', '(?m)^(?!a)', 'a\n'],
    ['a\nb', 'a$', 'a\nb'],
    ['a\nb', '(?m)a$', 'X\nb'],
    ['a\nb', '(?m)^b', 'a\nX'],
    ['a\n', 'a\\Z', 'X\n'],
    ['a\n\n', 'a\\Z', 'a\n\n'],
    ['a\n\n', 'a$', 'a\n\n'],
  ])('regsub(%j, %j, "X") gives %j', (subject, pattern, expected) => {
    expect(regsub(subject, re(pattern), 'X', false)).toBe(expected);
  });
});

describe('compileVclRegex errors', () => {
  it.each([
    ['a(', 'missing closing parenthesis'],
    ['a)', 'unmatched closing parenthesis'],
    ['[a', 'missing terminating ] for character class'],
    ['\\u0041', 'PCRE2 does not support \\F, \\L, \\l, \\N{name}, \\U, or \\u'],
    ['\\i', 'unrecognized character follows \\'],
    ['a\\', '\\ at end of pattern'],
    ['a\\8', 'reference to non-existent subpattern'],
    ['(a)\\2', 'reference to non-existent subpattern'],
    ['\\x{100}', 'character code point value in \\x{} or \\o{} is too large'],
    ['[[:foo:]]', 'unknown POSIX class name'],
    ['[z-a]', 'range out of order in character class'],
    ['[\\d-z]', 'invalid range in character class'],
    ['[\\R]', 'escape sequence is invalid in character class'],
    ['a**', 'quantifier does not follow a repeatable item'],
    ['*a', 'quantifier does not follow a repeatable item'],
    ['(?i', 'missing closing parenthesis'],
    ['(?i+)', 'unrecognized character after (? or (?-'],
    ['b++', 'possessive quantifiers are not supported'],
    ['b{1,2}+', 'possessive quantifiers are not supported'],
    ['(?>b+)', 'atomic groups (?>...) are not supported'],
    ['(?|(a)|(b))', 'branch reset groups (?|...) are not supported'],
    ['(a)(?1)', 'recursion and subroutine calls are not supported'],
    ['(?R)', 'recursion and subroutine calls are not supported'],
    ['(a)\\g<1>', 'recursion and subroutine calls are not supported'],
    ['(?(1)a|b)', 'conditional groups are not supported'],
    ['(*UTF)a', 'backtracking control verbs (*...) are not supported'],
    ['a\\Kb', '\\K is not supported'],
    ['\\Ga', '\\G is not supported'],
    ['a\\p{L}', 'Unicode properties (\\p) are not supported'],
    ['(?xx)a', '(?xx) is not supported'],
  ])('refuses %j: %s', (pattern, message) => {
    expect(errorOf(pattern)).toBe(message);
  });

  it('says where PCRE-level problems are', () => {
    expect(compileVclRegex('ab\\Kc')).toEqual({ error: '\\K is not supported', at: 2 });
  });
});

describe('performance', () => {
  it('matches a typical URL pattern without allocating per call', () => {
    const pattern = re('^/(?:static|assets)/.*\\.(?i)(?:css|js|png)$');
    const urls = ['/static/app.JS', '/api/users/1', '/assets/logo.png', '/static/x.html'];
    let hits = 0;
    const rounds = 200_000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) if (pattern.test(urls[i & 3])) hits++;
    const ns = Number(process.hrtime.bigint() - start) / rounds;
    expect(hits).toBe(rounds / 2);
    expect(ns).toBeLessThan(1000);
  });
});
