// The blob VMOD's encodings in one table: how each decodes a STRANDS argument, encodes bytes,
// and bounds its decoded size (Varnish skips decoding when the bound is 0, which makes some
// invalid inputs decode to nothing rather than fail: kept, as VCL can observe it).

import { type Base64Kind, base64Decode, base64Encode } from './base64.ts';
import { bytesToString, concatBytes } from './bytes.ts';
import { type HexCase, hexDecode, hexEncode, urlDecode, urlEncode } from './hex.ts';

export type Encoding = 'IDENTITY' | Base64Kind | 'HEX' | 'URL';
export type Case = 'LOWER' | 'UPPER' | 'DEFAULT';

interface Codec {
  decode(strands: readonly Uint8Array[], limit: number): Uint8Array | null;
  encode(kase: HexCase, input: Uint8Array): string;
  /** The most bytes `length` input characters can decode to. */
  decodedBound(length: number): number;
}

const base64 = (kind: Base64Kind): Codec => ({
  decode: (strands, limit) => base64Decode(kind, strands, limit),
  encode: (_kase, input) => base64Encode(kind, input),
  decodedBound: (length) => Math.floor((length * 3) / 4),
});

export const CODECS: Readonly<Record<Encoding, Codec>> = {
  IDENTITY: {
    decode: (strands, limit) => {
      const all = concatBytes(strands);
      return limit >= 0 && all.length > limit ? all.subarray(0, limit) : all;
    },
    // A STRING ends at its first NUL, as in C.
    encode: (_kase, input) => {
      const nul = input.indexOf(0);
      return bytesToString(nul < 0 ? input : input.subarray(0, nul));
    },
    decodedBound: (length) => length,
  },
  BASE64: base64('BASE64'),
  BASE64URL: base64('BASE64URL'),
  BASE64URLNOPAD: base64('BASE64URLNOPAD'),
  BASE64CF: base64('BASE64CF'),
  HEX: { decode: hexDecode, encode: hexEncode, decodedBound: (length) => Math.ceil(length / 2) },
  URL: { decode: urlDecode, encode: urlEncode, decodedBound: (length) => length },
};

/** Only HEX and URL write hex digits, so only they take a case other than DEFAULT. */
export function writesHex(encoding: Encoding): boolean {
  return encoding === 'HEX' || encoding === 'URL';
}

export function totalLength(strands: readonly Uint8Array[]): number {
  let n = 0;
  for (const s of strands) n += s.length;
  return n;
}
