// The digest functions on input upstream crashes on (bad base64, bad hex), and the HMAC that
// upstream lacks; the rest is digest.vtc, checked against the real VMOD.

import { describe, expect, it } from 'vitest';
import { VclTask } from '../../src/runtime/task.ts';
import { base64_decode, base64_hex, base64url_nopad_decode, base64url_nopad_hex, hmac_sha512 } from './index.ts';

const t = new VclTask('client');

describe('digest', () => {
  it('answers none, not a crash, for characters outside the alphabet', () => {
    expect(base64_decode(t, 'a*b')).toBeNull();
    expect(base64url_nopad_decode(t, 'aGVsbG8_Pg==')).toBeNull();
    expect(base64_hex(t, 'zz')).toBeNull();
    expect(base64url_nopad_hex(t, 'abc')).toBeNull();
  });

  it('decodes up to the first NUL byte, as a C string ends', () => {
    expect(base64_decode(t, 'QQ==QUI=')).toBe('A');
  });

  it('hmac_sha512 is hex with 0x, like the others', () => {
    expect(hmac_sha512(t, 'key', 'The quick brown fox jumps over the lazy dog')).toBe(
      '0xb42af09057bac1e2d41708e48a902e09b5ff7f12ab428a4fe86653c73dd248fb82f948a549f7b791a5b41915ee4d1ec3935357e4e2317250d0372afa2ebeeb3a',
    );
    expect(hmac_sha512(t, null, 'x')).toBeNull();
  });
});
