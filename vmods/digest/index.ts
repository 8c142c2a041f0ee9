// The digest VMOD (see vmod.vcc): node's crypto for the hashes and HMACs, codecs.ts for the
// base64 alphabets, hex input and the checksums. Each export is one upstream function.

import { createHash, createHmac } from 'node:crypto';
import type { VmodContext } from '../../src/vmod/api.ts';
import { adler32, type Alphabet, crc32Bzip2, crc32Zip, decode, encode, fromHex } from './codecs.ts';
import * as self from './index.ts';
import type { VmodDigest } from './interface.ts';

const VERSION = 'shellac-1.0.2';

// VCL strings are byte strings (one character per byte): their bytes are what is hashed.
const bytesOf = (s: string | null): Buffer => Buffer.from(s ?? '', 'latin1');

function hmac(algorithm: string) {
  return (_ctx: VmodContext, key: string | null, message: string | null): string | null =>
    key === null ? null : `0x${createHmac(algorithm, bytesOf(key)).update(bytesOf(message)).digest('hex')}`;
}

function hash(algorithm: string) {
  return (_ctx: VmodContext, message: string | null): string => createHash(algorithm).update(bytesOf(message)).digest('hex');
}

function checksum(f: (bytes: Uint8Array) => string) {
  return (_ctx: VmodContext, message: string | null): string => f(bytesOf(message));
}

function encoder(alphabet: Alphabet) {
  return (_ctx: VmodContext, text: string | null): string => encode(bytesOf(text), alphabet);
}

function hexEncoder(alphabet: Alphabet) {
  return (_ctx: VmodContext, hex: string | null): string | null => {
    const bytes = fromHex(hex ?? '');
    return bytes === null ? null : encode(bytes, alphabet);
  };
}

function decoder(alphabet: Alphabet) {
  return (_ctx: VmodContext, text: string | null): string | null => decode(text ?? '', alphabet);
}

export const hmac_sha256 = hmac('sha256');
export const hmac_sha1 = hmac('sha1');
export const hmac_md5 = hmac('md5');
export const hmac_sha512 = hmac('sha512');

export const base64 = encoder('base64');
export const base64url = encoder('base64url');
export const base64url_nopad = encoder('base64url_nopad');
export const base64_hex = hexEncoder('base64');
export const base64url_hex = hexEncoder('base64url');
export const base64url_nopad_hex = hexEncoder('base64url_nopad');
export const base64_decode = decoder('base64');
export const base64url_decode = decoder('base64url');
export const base64url_nopad_decode = decoder('base64url_nopad');

export const hash_sha1 = hash('sha1');
export const hash_sha224 = hash('sha224');
export const hash_sha256 = hash('sha256');
export const hash_sha384 = hash('sha384');
export const hash_sha512 = hash('sha512');
export const hash_md5 = hash('md5');
export const hash_ripemd160 = hash('ripemd160');
export const hash_crc32 = checksum(crc32Bzip2);
export const hash_crc32b = checksum(crc32Zip);
export const hash_adler32 = checksum(adler32);

export function version(_ctx: VmodContext): string {
  return VERSION;
}

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies VmodDigest;
