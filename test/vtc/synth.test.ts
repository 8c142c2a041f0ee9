// Generated bodies and gzip must be byte for byte what varnishtest makes: Varnish's tests
// compare lengths of bodies that went through it.

import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gunzipText, gzipText, parseHex, synthBody } from '../../src/vtc/synth.ts';

describe('synthBody', () => {
  it('cycles printable characters in 64-byte lines ending in a newline', () => {
    const b = synthBody(130, false);
    expect(b).toHaveLength(130);
    expect(b.slice(0, 10)).toBe('!"#$%&\'()*');
    expect(b[63]).toBe('\n');
    // The second line starts one character further on.
    expect(b.slice(64, 67)).toBe('"#$');
    expect(b[127]).toBe('\n');
    expect(b.endsWith('\n')).toBe(true);
    expect(synthBody(1, false)).toBe('\n');
  });

  it('makes random printable text for -gziplen', () => {
    const b = synthBody(200, true);
    expect(b).toHaveLength(200);
    expect(b).toMatch(/^[ -~\n]+$/);
  });

  it('refuses a length that is not positive', () => {
    expect(() => synthBody(0, false)).toThrow(RangeError);
  });
});

describe('gzip', () => {
  it('gzips at level 0 by default exactly as varnishtest 7.1 sent "foo"', () => {
    // Bytes copied from varnishtest -v output for `txresp -gzipbody "foo"`.
    const want = '1f8b0800000000000403010300fcff666f6f2165738c03000000';
    expect(Buffer.from(gzipText('foo', 0), 'latin1').toString('hex')).toBe(want);
  });

  it('round-trips binary text', () => {
    const text = '\x00\xff\x80abc';
    expect(gunzipText(gzipText(text, 9))).toBe(text);
    expect(gunzipSync(Buffer.from(gzipText(text, 6), 'latin1')).toString('latin1')).toBe(text);
  });
});

describe('parseHex', () => {
  it('reads hex pairs, ignoring blanks and newlines', () => {
    expect(parseHex('00 00 08 00 0900\n8d')?.toString('hex')).toBe('000008000900' + '8d');
    expect(parseHex('abc')).toBeUndefined();
    expect(parseHex('zz')).toBeUndefined();
  });
});
