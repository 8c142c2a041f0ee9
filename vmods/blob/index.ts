// The blob VMOD (vmods/blob/vmod.vcc): decode strings into BLOBs and encode BLOBs into strings
// (IDENTITY, BASE64, BASE64URL, BASE64URLNOPAD, BASE64CF, HEX, URL), compare, measure and cut
// BLOBs, and the `blob` object that decodes once in vcl_init and caches its encodings. Errors
// fail the task with Varnish 7.1's messages ("vmod blob error: ...").

import type { VmodContext } from '../../src/vmod/api.ts';
import { NULL_BLOB, strandsToBytes } from './bytes.ts';
import { CODECS, type Case, type Encoding, totalLength, writesHex } from './codecs.ts';
import * as self from './index.ts';
import type { VmodBlob } from './interface.ts';

type Strands = readonly (string | null)[];

function checkCase(ctx: VmodContext, encoding: Encoding, kase: Case): void {
  if (kase !== 'DEFAULT' && !writesHex(encoding)) {
    ctx.fail(`vmod blob error: case ${kase} is illegal with encoding ${encoding}`);
  }
}

/** The first string as Varnish quotes it in its error message. */
function firstString(encoded: Strands): string {
  return encoded[0] ?? '(null)';
}

function encodeWith(encoding: Encoding, kase: Case, blob: Uint8Array): string {
  return blob.length === 0 ? '' : CODECS[encoding].encode(kase === 'UPPER' ? 'UPPER' : 'LOWER', blob);
}

export function decode(ctx: VmodContext, decoding: Encoding, length: number, encoded: Strands): Uint8Array {
  const bytes = CODECS[decoding].decode(strandsToBytes(encoded), length > 0 ? length : -1);
  if (bytes === null) {
    return ctx.fail(`vmod blob error: cannot decode, illegal encoding beginning with "${firstString(encoded)}"`);
  }
  return bytes.length === 0 ? NULL_BLOB : bytes;
}

export function encode(ctx: VmodContext, encoding: Encoding, kase: Case, blob: Uint8Array | null): string | null {
  checkCase(ctx, encoding, kase);
  return blob === null ? null : encodeWith(encoding, kase, blob);
}

export function transcode(
  ctx: VmodContext,
  decoding: Encoding,
  encoding: Encoding,
  kase: Case,
  length: number,
  encoded: Strands,
): string {
  checkCase(ctx, encoding, kase);
  const strands = strandsToBytes(encoded);
  if (CODECS[decoding].decodedBound(totalLength(strands)) === 0) return '';
  const limit = length > 0 ? length : -1;
  const bytes = CODECS[decoding].decode(strands, limit);
  if (bytes === null) {
    return ctx.fail(`vmod blob error: cannot decode, illegal encoding beginning with "${firstString(encoded)}"`);
  }
  // A valid input in the same encoding is its own answer (not so for hex digits, whose case
  // may change).
  if (limit < 0 && decoding === encoding && !writesHex(encoding)) return encoded.join('');
  return encodeWith(encoding, kase, bytes);
}

/** Whether two BLOBs are the same memory (or both empty). */
export function same(_ctx: VmodContext, a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === b) return true;
  if (a === null || b === null) return false;
  if (a.length === 0 && b.length === 0) return true;
  return a.buffer === b.buffer && a.byteOffset === b.byteOffset && a.length === b.length;
}

/** Whether two BLOBs hold the same bytes (both empty counts). */
export function equal(_ctx: VmodContext, a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === b) return true;
  if (a === null || b === null || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function length(_ctx: VmodContext, blob: Uint8Array | null): number {
  return blob === null ? 0 : blob.length;
}

/** `length` bytes from `offset`: a view of the same memory, as Varnish's is. */
export function sub(ctx: VmodContext, blob: Uint8Array | null, length: number, offset: number): Uint8Array {
  if (blob === null || blob.length === 0) return ctx.fail('vmod blob error: blob is empty in blob.sub()');
  if (length < 0 || offset < 0) return ctx.fail('vmod blob error: size or offset negative in blob.sub()');
  if (offset + length > blob.length) {
    return ctx.fail(
      `vmod blob error: size ${length} from offset ${offset} requires more bytes than blob length ${blob.length} in blob.sub()`,
    );
  }
  return blob.subarray(offset, offset + length);
}

/** `new x = blob.blob(decoding, encoded)`: a BLOB decoded once, with its encodings cached. */
class BlobObject {
  readonly #blob: Uint8Array;
  readonly #encodings = new Map<string, string>();

  constructor(ctx: VmodContext, vclName: string, decoding: Encoding, encoded: Strands) {
    const strands = strandsToBytes(encoded);
    if (CODECS[decoding].decodedBound(totalLength(strands)) === 0) {
      this.#blob = new Uint8Array(0);
      return;
    }
    const bytes = CODECS[decoding].decode(strands, -1);
    if (bytes === null) {
      ctx.fail(`vmod blob error: cannot create blob ${vclName}, illegal encoding beginning with "${firstString(encoded)}"`);
    }
    this.#blob = bytes.length === 0 ? NULL_BLOB : bytes;
  }

  get(_ctx: VmodContext): Uint8Array {
    return this.#blob;
  }

  encode(ctx: VmodContext, encoding: Encoding, kase: Case): string {
    checkCase(ctx, encoding, kase);
    const key = `${encoding}/${kase === 'UPPER' ? 'UPPER' : 'LOWER'}`;
    let text = this.#encodings.get(key);
    if (text === undefined) {
      text = encodeWith(encoding, kase, this.#blob);
      this.#encodings.set(key, text);
    }
    return text;
  }
}
export { BlobObject as blob };

self satisfies VmodBlob;
