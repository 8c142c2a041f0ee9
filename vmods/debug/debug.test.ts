// The debug VMOD's functions called directly, for what VCL cannot reach today: C's %g format,
// quoting a regex that holds `\E`, a REGEX and an unset ACL passing through, probe identity.

import { describe, expect, it } from 'vitest';
import { compileVclRegex } from '../../src/common/regex.ts';
import { VmodFailure } from '../../src/vmod/api.ts';
import { TestContext } from '../../test/helpers/vmod-context.ts';
import { acl, just_return_regex, match_acl, null_acl, re_quote, test_probe } from './index.ts';
import { formatG } from './functions.ts';

describe('formatG', () => {
  it('prints as C printf %g does', () => {
    const cases: [number, string][] = [
      [2, '2'],
      [2.5, '2.5'],
      [0.001, '0.001'],
      [0.0001, '0.0001'],
      [0.00001234, '1.234e-05'],
      [1234567, '1.23457e+06'],
      [123456, '123456'],
      [999999.5, '1e+06'],
      [-3.25, '-3.25'],
      [0, '0'],
      [1 / 3, '0.333333'],
    ];
    for (const [n, text] of cases) expect([n, formatG(n)]).toEqual([n, text]);
  });
});

describe('re_quote', () => {
  it('quotes a string for a regex, even one holding \\E', () => {
    const ctx = new TestContext();
    expect(re_quote(ctx, 'a.b*c')).toBe('\\Qa.b*c\\E');
    // Checked against varnishd 7.1.1: debug.re_quote("a\Eb").
    const quoted = re_quote(ctx, 'a\\Eb')!;
    expect(quoted).toBe('\\Qa\\\\EE\\Qb\\E');
    const re = compileVclRegex(`^${quoted}$`);
    expect('re' in re && re.re.test('a\\Eb')).toBe(true);
    expect(re_quote(ctx, null)).toBeNull();
  });
});

describe('values passing through', () => {
  it('just_return_regex returns the regex it was given', () => {
    const compiled = compileVclRegex('l+');
    if (!('re' in compiled)) throw new Error(compiled.error);
    expect(just_return_regex(new TestContext(), compiled.re)).toBe(compiled.re);
  });

  it('an unset ACL passes through acl() and fails match_acl', () => {
    const ctx = new TestContext();
    const none = acl(ctx, null_acl(ctx));
    expect(none).toBeNull();
    expect(() => match_acl(ctx, none, null)).toThrow(new VmodFailure('Cannot match a null ACL'));
  });

  it('test_probe wants a probe, and the same one as `same`', () => {
    const ctx = new TestContext();
    const pb = { name: 'pb' };
    expect(() => test_probe(ctx, pb, null)).not.toThrow();
    expect(() => test_probe(ctx, pb, pb)).not.toThrow();
    expect(() => test_probe(ctx, pb, { name: 'pb' })).toThrow(VmodFailure);
    expect(() => test_probe(ctx, null, null)).toThrow('debug.test_probe(): no probe given');
  });
});
