// The cache key: the SHA-256 of the bytes hash_data() fed, whatever characters the byte string
// holds (an ASCII string goes to node:crypto as it is, others as their latin1 bytes).

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashKeyOf } from '../../src/runtime/hash-key.ts';

const bytesDigest = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('binary');

describe('hashKeyOf', () => {
  it('is the SHA-256 of the byte string, one byte per character', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const text = Buffer.from(bytes).toString('latin1');
        expect(hashKeyOf(text)).toBe(bytesDigest(Buffer.from(bytes)));
      }),
    );
  });

  it('gives each input its own digest when inputs take turns in one slot of the memo', () => {
    // Same length, same middle and last character: the same slot.
    const a = '/a-x-1\0h\0';
    const b = '/b-x-1\0h\0';
    for (let i = 0; i < 3; i++) {
      expect(hashKeyOf(a)).toBe(bytesDigest(Buffer.from(a, 'latin1')));
      expect(hashKeyOf(b)).toBe(bytesDigest(Buffer.from(b, 'latin1')));
    }
  });

  it('gives 32 characters for a URL and a Host, and for nothing', () => {
    expect(hashKeyOf('/a\0example.com\0')).toBe(bytesDigest(Buffer.from('/a\0example.com\0')));
    // A character past ASCII is one byte (not its two UTF-8 bytes).
    expect(hashKeyOf('/caf\u00e9\0')).toBe(bytesDigest(Buffer.from([0x2f, 0x63, 0x61, 0x66, 0xe9, 0])));
    expect(hashKeyOf('')).toHaveLength(32);
  });
});
