import { describe, expect, it } from 'vitest';
import { defaultCacheParams } from '../../src/cache/params.ts';
import { deltaSeconds, directive, rfcTtl } from '../../src/cache/ttl.ts';
import { formatHttpDate } from '../../src/runtime/httpdate.ts';
import { resp } from './helpers.ts';

const params = defaultCacheParams();
const NOW = 1_700_000_000;

/** beresp.ttl/grace/keep as VCL prints them in vcl_backend_response. */
function asVclReadsIt(status: number, lines: string[], pass = false): string {
  const r = rfcTtl(status, resp(status, ...lines), NOW, params, pass);
  const ttl = r.ttl - (NOW - r.origin);
  return [ttl, r.grace, r.keep].map((x) => x.toFixed(3)).join('/');
}

// Each row was produced by Varnish 7.1.1 (varnishtest, printing beresp.ttl, beresp.grace and
// beresp.keep from vcl_backend_response for a backend response with these headers).
const VARNISH_7_1: [number, string[], string][] = [
  [200, [], '120.000/10.000/0.000'],
  [200, ['Cache-Control: max-age=60'], '60.000/10.000/0.000'],
  [200, ['Cache-Control: s-maxage=30, max-age=60'], '30.000/10.000/0.000'],
  [200, ['Cache-Control: max-age=60, s-maxage=30'], '30.000/10.000/0.000'],
  [200, ['Cache-Control: max-age=60', 'Age: 10'], '50.000/10.000/0.000'],
  [200, ['Cache-Control: max-age=60', 'Age: 100'], '-40.000/10.000/0.000'],
  [200, ['Age: 100'], '20.000/10.000/0.000'],
  [200, ['Age: abc', 'Cache-Control: max-age=60'], '60.000/10.000/0.000'],
  [200, ['Age: -5', 'Cache-Control: max-age=60'], '60.000/10.000/0.000'],
  [200, ['Age: 5.5', 'Cache-Control: max-age=60'], '55.000/10.000/0.000'],
  [200, ['Age: 5 ', 'Cache-Control: max-age=60'], '55.000/10.000/0.000'],
  [200, ['Age: 5x', 'Cache-Control: max-age=60'], '60.000/10.000/0.000'],
  [200, ['Date: Thu, 01 Jan 2015 00:00:00 GMT', 'Expires: Thu, 01 Jan 2015 00:05:00 GMT'], '300.000/10.000/0.000'],
  [200, ['Date: Thu, 01 Jan 2015 00:05:00 GMT', 'Expires: Thu, 01 Jan 2015 00:00:00 GMT'], '0.000/10.000/0.000'],
  [200, ['Expires: Thu, 01 Jan 2015 00:00:00 GMT'], '0.000/10.000/0.000'],
  [200, ['Expires: garbage'], '120.000/10.000/0.000'],
  [200, ['Expires: 0'], '120.000/10.000/0.000'],
  [200, ['Date: Thu, 01 Jan 2015 00:00:00 GMT', 'Expires: Thu, 01 Jan 2015 00:05:00 GMT', 'Age: 100'], '200.000/10.000/0.000'],
  [
    200,
    ['Date: Thu, 01 Jan 2015 00:00:00 GMT', 'Expires: Thu, 01 Jan 2015 00:05:00 GMT', 'Cache-Control: max-age=7'],
    '7.000/10.000/0.000',
  ],
  [200, ['Date: Thu, 01 Jan 2015 00:00:00 GMT', 'Expires: Thu, 01 Jan 2015 00:00:00 GMT'], '0.000/10.000/0.000'],
  [302, [], '0.000/10.000/0.000'],
  [302, ['Cache-Control: max-age=10'], '10.000/10.000/0.000'],
  [307, ['Date: Thu, 01 Jan 2015 00:00:00 GMT', 'Expires: Thu, 01 Jan 2015 00:05:00 GMT'], '300.000/10.000/0.000'],
  [307, ['Cache-Control: max-age=abc'], '0.000/10.000/0.000'],
  [500, ['Cache-Control: max-age=10'], '0.000/10.000/0.000'],
  [206, [], '0.000/10.000/0.000'],
  [201, [], '0.000/10.000/0.000'],
  [203, [], '120.000/10.000/0.000'],
  [204, [], '120.000/10.000/0.000'],
  [300, [], '120.000/10.000/0.000'],
  [301, [], '120.000/10.000/0.000'],
  [404, [], '120.000/10.000/0.000'],
  [410, [], '120.000/10.000/0.000'],
  [414, [], '120.000/10.000/0.000'],
  [303, [], '0.000/10.000/0.000'],
  [400, [], '0.000/10.000/0.000'],
  [503, ['Cache-Control: max-age=10, stale-while-revalidate=30'], '0.000/10.000/0.000'],
  [200, ['Cache-Control: max-age=10, stale-while-revalidate=30'], '10.000/30.000/0.000'],
  [200, ['Cache-Control: stale-while-revalidate=30'], '120.000/30.000/0.000'],
  [302, ['Cache-Control: stale-while-revalidate=30'], '0.000/10.000/0.000'],
  [200, ['Cache-Control: max-age=abc'], '0.000/10.000/0.000'],
  [200, ['Cache-Control: max-age=-5'], '0.000/10.000/0.000'],
  [200, ['Cache-Control: max-age=10.5'], '10.000/10.000/0.000'],
  [200, ['Cache-Control: max-age=10 , public'], '10.000/10.000/0.000'],
  [200, ['Cache-Control: max-age = 10'], '10.000/10.000/0.000'],
  [200, ['Cache-Control: max-age="10"'], '0.000/10.000/0.000'],
  [200, ['Cache-Control: MAX-AGE=10'], '10.000/10.000/0.000'],
  [200, ['Cache-Control: max-age'], '120.000/10.000/0.000'],
  [200, ['Cache-Control: max-age='], '0.000/10.000/0.000'],
  [200, ['Cache-Control: s-maxage=0, max-age=60'], '0.000/10.000/0.000'],
  [200, ['Cache-Control: no-cache'], '120.000/10.000/0.000'],
  [200, ['Cache-Control: private, max-age=60'], '60.000/10.000/0.000'],
  [200, ['Cache-Control: no-store'], '120.000/10.000/0.000'],
  [200, ['Cache-Control: public', 'Cache-Control: max-age=60'], '60.000/10.000/0.000'],
  [200, ['Cache-Control: xmax-age=60'], '120.000/10.000/0.000'],
  [200, ['Cache-Control: foo, max-age=60'], '60.000/10.000/0.000'],
  [200, ['Cache-Control: foo,max-age=60'], '60.000/10.000/0.000'],
  [200, ['Cache-Control: foo max-age=60'], '120.000/10.000/0.000'],
  [200, ['Cache-Control: max-age=99999999999'], '4294967296.000/10.000/0.000'],
  [200, ['Cache-Control: max-age=4294967295'], '4294967296.000/10.000/0.000'],
  [200, ['Cache-Control: max-age=4294967296'], '4294967296.000/10.000/0.000'],
  [200, ['Cache-Control: max-age=60;foo'], '0.000/10.000/0.000'],
  [200, ['Cache-Control: stale-while-revalidate=abc'], '120.000/0.000/0.000'],
  [200, ['Cache-Control: max-age=0'], '0.000/10.000/0.000'],
  [200, ['Cache-Control: max-age=60', 'Expires: Thu, 01 Jan 2015 00:00:00 GMT'], '60.000/10.000/0.000'],
  [200, ['Cache-Control: max-age=+10'], '10.000/10.000/0.000'],
  [200, ['Cache-Control: max-age= 10'], '10.000/10.000/0.000'],
  [200, ['Cache-Control: max-age=10,s-maxage=5'], '5.000/10.000/0.000'],
  [200, ['Cache-Control: s-maxage=abc, max-age=60'], '0.000/10.000/0.000'],
  [200, ['Cache-Control: s-maxage, max-age=60'], '120.000/10.000/0.000'],
];

describe('rfcTtl against Varnish 7.1', () => {
  it.each(VARNISH_7_1)('%d %j', (status, lines, expected) => {
    expect(asVclReadsIt(status, lines)).toBe(expected);
  });

  it('computes only the origin for a pass (Varnish: -10.000/0.000/0.000 with Age: 10)', () => {
    expect(asVclReadsIt(200, ['Cache-Control: max-age=60, stale-while-revalidate=5', 'Age: 10'], true)).toBe(
      '-10.000/0.000/0.000',
    );
  });
});

describe('rfcTtl with Expires near our clock', () => {
  it('reads Expires against our clock when Date is within clock_skew', () => {
    const date = formatHttpDate(NOW - 5);
    const expires = formatHttpDate(NOW + 100);
    expect(asVclReadsIt(200, [`Date: ${date}`, `Expires: ${expires}`])).toBe('100.000/10.000/0.000');
  });

  it('reads Expires against Date when the clocks differ by clock_skew or more', () => {
    const date = formatHttpDate(NOW - 3600);
    const expires = formatHttpDate(NOW - 3600 + 100);
    expect(asVclReadsIt(200, [`Date: ${date}`, `Expires: ${expires}`])).toBe('100.000/10.000/0.000');
  });

  it('reads Expires against our clock without Date', () => {
    expect(asVclReadsIt(200, [`Expires: ${formatHttpDate(NOW + 30)}`])).toBe('30.000/10.000/0.000');
  });

  it('uses the parameters given', () => {
    const r = rfcTtl(200, resp(200), NOW, { ...params, default_ttl: 5, default_grace: 1, default_keep: 7 });
    expect([r.origin, r.ttl, r.grace, r.keep]).toEqual([NOW, 5, 1, 7]);
  });
});

describe('the pieces', () => {
  it('finds directives by token, with or without value', () => {
    expect(directive('public, max-age=5', 'max-age')).toBe('5');
    expect(directive('public, max-age', 'max-age')).toBeNull();
    expect(directive('public', 'max-age')).toBeUndefined();
    expect(directive(null, 'max-age')).toBeUndefined();
    expect(directive('max-age=5, s-maxage=9', 's-maxage')).toBe('9');
  });

  it('reads delta-seconds as strtoul with Varnish checks', () => {
    expect(deltaSeconds('12')).toBe(12);
    expect(deltaSeconds('12, x')).toBe(12);
    expect(deltaSeconds('12.9')).toBe(12);
    expect(deltaSeconds('12x')).toBe(0);
    expect(deltaSeconds('-1')).toBe(0);
    expect(deltaSeconds('')).toBe(0);
    expect(deltaSeconds('1'.repeat(30))).toBe(4294967295);
  });
});
