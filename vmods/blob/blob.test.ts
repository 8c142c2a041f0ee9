// The blob VMOD called directly; expectations observed in Varnish 7.1 with varnishtest.
import { describe, expect, it } from 'vitest';
import { VmodFailure } from '../../src/vmod/api.ts';
import { TestContext } from '../../test/helpers/vmod-context.ts';
import { stringToBytes } from './bytes.ts';
import type { Encoding } from './codecs.ts';
import * as blob from './index.ts';

const ctx = new TestContext();

function hex(b: Uint8Array | null): string | null {
  return blob.encode(ctx, 'HEX', 'DEFAULT', b);
}

function decodeHex(s: string): Uint8Array {
  return blob.decode(ctx, 'HEX', 0, [s]);
}

function failure(message: string): VmodFailure {
  return new VmodFailure(message);
}

describe('base64 decoding', () => {
  it.each([
    ['BASE64', 'Zm9vYmFy', '666f6f626172'],
    ['BASE64', 'AA=A', '0000'],
    ['BASE64', 'AA', '00'],
    ['BASE64', 'AB==', '00'],
    ['BASE64', 'AB==AB==', '100000'],
    ['BASE64CF', '-~__', 'fb'],
    ['BASE64URL', '-_8=', 'fbff'],
    ['BASE64URLNOPAD', '-w', 'fb'],
  ])('%s %s is %s', (encoding, encoded, expected) => {
    expect(hex(blob.decode(ctx, encoding as Encoding, 0, [encoded]))).toBe(expected);
  });

  it.each([
    ['BASE64', 'A'],
    ['BASE64', 'Zm9v YmFy'],
    ['BASE64URLNOPAD', 'Zm9vYg=='],
    ['BASE64', '===='],
  ])('%s refuses %s', (encoding, encoded) => {
    expect(() => blob.decode(ctx, encoding as Encoding, 0, [encoded])).toThrow(
      failure(`vmod blob error: cannot decode, illegal encoding beginning with "${encoded}"`),
    );
  });

  it('refuses a new string after padding', () => {
    expect(() => blob.decode(ctx, 'BASE64', 0, ['AB==', 'AB=='])).toThrow(VmodFailure);
  });

  it('reads only `length` characters when asked', () => {
    expect(() => blob.transcode(ctx, 'BASE64', 'BASE64', 'DEFAULT', 1, ['Zg=='])).toThrow(VmodFailure);
    expect(blob.transcode(ctx, 'BASE64', 'BASE64', 'DEFAULT', 2, ['Zg=='])).toBe('Zg==');
  });
});

describe('hex and URL', () => {
  it('decodes hex in either case, an odd count with a 0 in front', () => {
    expect(hex(decodeHex('abcdef0'))).toBe('0abcdef0');
    expect(blob.encode(ctx, 'HEX', 'UPPER', decodeHex('abcdef0'))).toBe('0ABCDEF0');
    expect(hex(blob.decode(ctx, 'HEX', 3, ['abcdef0']))).toBe('0abc');
    expect(hex(blob.decode(ctx, 'HEX', 0, ['abc', 'def0']))).toBe('0abcdef0');
    expect(hex(blob.decode(ctx, 'HEX', 0, ['ab', 'c']))).toBe('0abc');
    expect(blob.transcode(ctx, 'HEX', 'HEX', 'DEFAULT', 0, ['ABC'])).toBe('0abc');
  });

  it('refuses anything but hex digits', () => {
    expect(() => decodeHex('0x12')).toThrow(failure('vmod blob error: cannot decode, illegal encoding beginning with "0x12"'));
  });

  it('percent-encodes all but unreserved characters', () => {
    expect(blob.encode(ctx, 'URL', 'UPPER', blob.decode(ctx, 'IDENTITY', 0, ['a b/~\u00e9']))).toBe('a%20b%2F~%E9');
    expect(blob.transcode(ctx, 'IDENTITY', 'URL', 'DEFAULT', 0, ['\u20ac'])).toBe('%e2%82%ac');
    expect(blob.transcode(ctx, 'URL', 'URL', 'DEFAULT', 0, ['%4a%4B+x'])).toBe('JK%2bx');
    expect(hex(blob.decode(ctx, 'URL', 2, ['ab%41']))).toBe('6162');
    expect(blob.transcode(ctx, 'URL', 'IDENTITY', 'DEFAULT', 0, ['foo%20bar'])).toBe('foo bar');
  });

  it.each(['%4', '%zz', '%'])('refuses the bad escape %s', (encoded) => {
    expect(() => blob.decode(ctx, 'URL', 0, [encoded])).toThrow(VmodFailure);
  });
});

describe('encode and transcode', () => {
  it('encodes every scheme', () => {
    const b = decodeHex('fbffbf');
    expect(blob.encode(ctx, 'BASE64', 'DEFAULT', b)).toBe('+/+/');
    expect(blob.encode(ctx, 'BASE64URL', 'DEFAULT', decodeHex('fb'))).toBe('-w==');
    expect(blob.encode(ctx, 'BASE64URLNOPAD', 'DEFAULT', decodeHex('fb'))).toBe('-w');
    expect(blob.encode(ctx, 'BASE64CF', 'DEFAULT', b)).toBe('-~-~');
    expect(blob.encode(ctx, 'BASE64CF', 'DEFAULT', decodeHex('fb'))).toBe('-w__');
    expect(blob.encode(ctx, 'IDENTITY', 'DEFAULT', blob.decode(ctx, 'IDENTITY', 0, ['foo']))).toBe('foo');
  });

  it('cuts IDENTITY at the first NUL, as a C string', () => {
    expect(blob.encode(ctx, 'IDENTITY', 'DEFAULT', decodeHex('666f6f00626172'))).toBe('foo');
  });

  it('refuses a case for encodings without hex digits', () => {
    expect(() => blob.encode(ctx, 'IDENTITY', 'UPPER', decodeHex('00'))).toThrow(
      failure('vmod blob error: case UPPER is illegal with encoding IDENTITY'),
    );
    expect(() => blob.encode(ctx, 'BASE64', 'LOWER', decodeHex('00'))).toThrow(
      failure('vmod blob error: case LOWER is illegal with encoding BASE64'),
    );
    expect(() => blob.transcode(ctx, 'IDENTITY', 'BASE64', 'UPPER', 0, ['x'])).toThrow(VmodFailure);
  });

  it('encodes NULL as NULL and empty as ""', () => {
    expect(blob.encode(ctx, 'HEX', 'DEFAULT', null)).toBeNull();
    expect(hex(decodeHex(''))).toBe('');
  });

  it('returns valid input in the same encoding as it is', () => {
    expect(blob.transcode(ctx, 'BASE64', 'BASE64', 'DEFAULT', 0, ['Zg'])).toBe('Zg');
    expect(blob.transcode(ctx, 'IDENTITY', 'IDENTITY', 'DEFAULT', 0, ['a', null, 'b'])).toBe('ab');
    expect(() => blob.transcode(ctx, 'BASE64', 'BASE64', 'DEFAULT', 0, ['Z g'])).toThrow(VmodFailure);
  });

  it('transcodes to "" when nothing can be decoded, before validating', () => {
    expect(blob.transcode(ctx, 'IDENTITY', 'IDENTITY', 'DEFAULT', 0, [''])).toBe('');
    expect(blob.transcode(ctx, 'BASE64', 'HEX', 'DEFAULT', 0, ['A'])).toBe('');
  });

  it('transcodes between schemes', () => {
    expect(blob.transcode(ctx, 'BASE64', 'HEX', 'UPPER', 0, ['YmF6'])).toBe('62617A');
    expect(blob.transcode(ctx, 'HEX', 'BASE64', 'DEFAULT', 0, ['666f6f'])).toBe('Zm9v');
  });
});

describe('same, equal, length, sub', () => {
  it('compares identity and content', () => {
    const a1 = blob.decode(ctx, 'IDENTITY', 0, ['a']);
    const a2 = blob.decode(ctx, 'HEX', 0, ['61']);
    expect(blob.same(ctx, a1, a2)).toBe(false);
    expect(blob.same(ctx, a1, a1)).toBe(true);
    expect(blob.equal(ctx, a1, a2)).toBe(true);
    expect(blob.same(ctx, blob.decode(ctx, 'IDENTITY', 0, ['']), decodeHex(''))).toBe(true);
    expect(blob.equal(ctx, blob.decode(ctx, 'IDENTITY', 0, ['']), a2)).toBe(false);
    expect(blob.same(ctx, null, null)).toBe(true);
    expect(blob.same(ctx, null, a1)).toBe(false);
    expect(blob.equal(ctx, a1, null)).toBe(false);
  });

  it('measures', () => {
    expect(blob.length(ctx, decodeHex('abcd'))).toBe(2);
    expect(blob.length(ctx, decodeHex(''))).toBe(0);
    expect(blob.length(ctx, null)).toBe(0);
  });

  it('cuts views of the same memory', () => {
    const b = blob.decode(ctx, 'IDENTITY', 0, ['abcdef']);
    expect(hex(blob.sub(ctx, b, 2, 3))).toBe('6465');
    expect(hex(blob.sub(ctx, b, 0, 6))).toBe('');
    expect(blob.same(ctx, blob.sub(ctx, b, 2, 1), blob.sub(ctx, b, 2, 1))).toBe(true);
    const other = blob.decode(ctx, 'IDENTITY', 0, ['abcdef']);
    expect(blob.same(ctx, blob.sub(ctx, b, 2, 0), blob.sub(ctx, other, 2, 0))).toBe(false);
  });

  it('fails out of range or on empty blobs', () => {
    const b = blob.decode(ctx, 'IDENTITY', 0, ['abcdef']);
    expect(() => blob.sub(ctx, b, 2, 5)).toThrow(
      failure('vmod blob error: size 2 from offset 5 requires more bytes than blob length 6 in blob.sub()'),
    );
    expect(() => blob.sub(ctx, decodeHex(''), 0, 0)).toThrow(failure('vmod blob error: blob is empty in blob.sub()'));
    expect(() => blob.sub(ctx, null, 0, 0)).toThrow(VmodFailure);
  });
});

describe('the blob object', () => {
  it('decodes once and caches its encodings', () => {
    const b1 = new blob.blob(ctx, 'b1', 'BASE64', ['Zm9vYmFy']);
    expect(b1.encode(ctx, 'HEX', 'UPPER')).toBe('666F6F626172');
    expect(b1.encode(ctx, 'IDENTITY', 'DEFAULT')).toBe('foobar');
    expect(b1.encode(ctx, 'HEX', 'UPPER')).toBe('666F6F626172');
    expect(blob.same(ctx, b1.get(ctx), b1.get(ctx))).toBe(true);
    expect(() => b1.encode(ctx, 'BASE64', 'UPPER')).toThrow(
      failure('vmod blob error: case UPPER is illegal with encoding BASE64'),
    );
  });

  it('holds an empty blob for empty input', () => {
    const b2 = new blob.blob(ctx, 'b2', 'HEX', ['']);
    expect(b2.encode(ctx, 'HEX', 'DEFAULT')).toBe('');
    expect(blob.length(ctx, b2.get(ctx))).toBe(0);
  });

  it('fails its construction on bad input, naming itself', () => {
    expect(() => new blob.blob(ctx, 'bad', 'HEX', ['xyz'])).toThrow(
      failure('vmod blob error: cannot create blob bad, illegal encoding beginning with "xyz"'),
    );
  });
});

describe('strings as bytes', () => {
  it('takes latin1 characters as bytes and wider ones as UTF-8', () => {
    expect(Array.from(stringToBytes('a\u00e9'))).toEqual([0x61, 0xe9]);
    expect(Array.from(stringToBytes('\u20ac\u00e9'))).toEqual([0xe2, 0x82, 0xac, 0xe9]);
  });
});
