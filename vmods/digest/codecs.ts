// The encodings and checksums node does not give in upstream's shape: base64 alphabets with
// upstream's decoding rules, hex input, and libmhash's CRC32, CRC32B and Adler-32 printed
// lowest byte first as libmhash prints them.

import { crc32 } from 'node:zlib';

export type Alphabet = 'base64' | 'base64url' | 'base64url_nopad';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Each alphabet's digits; '=' is a zero digit where the alphabet pads, as upstream reads it. */
const DIGITS: Record<Alphabet, Map<string, number>> = {
  base64: digitsOf(`${LETTERS}+/`, true),
  base64url: digitsOf(`${LETTERS}-_`, true),
  base64url_nopad: digitsOf(`${LETTERS}-_`, false),
};

function digitsOf(chars: string, padding: boolean): Map<string, number> {
  const m = new Map([...chars].map((c, i) => [c, i]));
  if (padding) m.set('=', 0);
  return m;
}

export function encode(bytes: Uint8Array, alphabet: Alphabet): string {
  const b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  if (alphabet === 'base64') return b64;
  const url = b64.replaceAll('+', '-').replaceAll('/', '_');
  return alphabet === 'base64url' ? url : url.replace(/=+$/, '');
}

/**
 * Decodes as upstream does: four digits (missing ones at the end count as zero) give three
 * bytes, and the text ends at the first NUL byte (upstream returns a C string). Null on a
 * character outside the alphabet.
 */
export function decode(text: string, alphabet: Alphabet): string | null {
  const digits = DIGITS[alphabet];
  const out: number[] = [];
  for (let i = 0; i < text.length; i += 4) {
    let u = 0;
    for (let k = 0; k < 4; k++) {
      const c = text[i + k];
      const d = c === undefined ? 0 : digits.get(c);
      if (d === undefined) return null;
      u = (u << 6) | d;
    }
    out.push((u >> 16) & 0xff, (u >> 8) & 0xff, u & 0xff);
  }
  const bytes = Buffer.from(out);
  const nul = bytes.indexOf(0);
  return (nul < 0 ? bytes : bytes.subarray(0, nul)).toString('latin1');
}

/** The bytes of a hex string with an optional 0x, or null when it is not hex. */
export function fromHex(text: string): Uint8Array | null {
  const hex = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text;
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return null;
  return Buffer.from(hex, 'hex');
}

function lowestFirst(n: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b.toString('hex');
}

/** CRC-32/BZIP2: the polynomial of zip's CRC, not reflected (libmhash's MHASH_CRC32). */
const BZIP2_TABLE = Uint32Array.from({ length: 256 }, (_, i) => {
  let c = i << 24;
  for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
  return c >>> 0;
});

export function crc32Bzip2(bytes: Uint8Array): string {
  let c = 0xffffffff;
  for (const b of bytes) c = ((c << 8) ^ BZIP2_TABLE[((c >>> 24) ^ b) & 0xff]) >>> 0;
  return lowestFirst(~c);
}

export function crc32Zip(bytes: Uint8Array): string {
  return lowestFirst(crc32(bytes));
}

export function adler32(bytes: Uint8Array): string {
  let a = 1;
  let b = 0;
  for (const x of bytes) {
    a = (a + x) % 65521;
    b = (b + a) % 65521;
  }
  return lowestFirst(((b << 16) | a) >>> 0);
}
