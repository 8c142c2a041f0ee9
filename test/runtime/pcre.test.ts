import { describe, expect, it } from 'vitest';
import { PcreError, translatePcre } from '../../src/common/pcre.ts';

describe('translatePcre', () => {
  it.each([
    ['a.b', 'a[^\\n]b'],
    ['(?s)a.b', 'a[\\s\\S]b'],
    ['^a$', '^a(?=\\n?(?![\\s\\S]))'],
    ['(?m)^a$', '(?:(?<![\\s\\S])|(?<=\\n)(?=[\\s\\S]))a(?=\\n|(?![\\s\\S]))'],
    ['(?i)ab', '(?i:ab)'],
    ['a(?i)b|c', 'a(?i:b)|(?i:c)'],
    ['x{2,}?', 'x{2,}?'],
    ['(?U)x*', 'x*?'],
    ['a{,2}', 'a\\{\\x2c2\\x7d'],
    ['[[:alpha:]_-]', '[a-zA-Z\\x5f\\x2d]'],
    ['(?P<id>\\d+)', '(?<id>[\\d]+)'],
  ])('writes %j as %j', (pattern, js) => {
    expect(translatePcre(pattern).source).toBe(js);
  });

  it('counts capture groups, named ones included, (?n) ones not', () => {
    expect(translatePcre('(a)(?<n>b)(?:c)(?=d)').groups).toBe(2);
    expect(translatePcre('(?n)(a)(?<n>b)').groups).toBe(1);
  });

  it('shifts numbered backreferences by the offset it is given', () => {
    expect(translatePcre('(a)\\1', 1).source).toBe('(a)(?:\\2)');
    expect(translatePcre('(?<n>a)\\k<n>', 1).source).toBe('(?<n>a)\\k<n>');
  });

  it('reports the offset of the problem', () => {
    let caught: unknown;
    try {
      translatePcre('ab(?>c)');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(PcreError);
    expect((caught as PcreError).at).toBe(2);
    expect((caught as PcreError).message).toBe('atomic groups (?>...) are not supported');
  });
});
