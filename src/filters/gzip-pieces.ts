// Pieces of a gzip stream that can be laid end to end: raw deflate blocks, none final, ending
// on a byte boundary (a sync flush), with the CRC-32 and length of what they inflate to. An ESI
// page for a gzip client is a gzip header, its pieces and its includes' pieces in order, an
// empty final block and a trailer whose CRC is combined from the pieces' (crc32Combine): the
// stored deflate bytes are sent as they are, never inflated and deflated again.
//
// Shellac's own gzip (the gzip and esi_gzip fetch filters) ends every stored body on a sync
// flush, so its deflate data is one such piece. Other gzip (a backend's) has its last block at
// some bit offset that node's zlib does not report: it is inflated and sent as stored blocks,
// as are plain bodies (stored blocks cost 5 bytes per 64 KB and no compression work).

import { crc32 } from 'node:zlib';
import { crc32Combine } from './crc32-combine.ts';

export interface Piece {
  /** Raw deflate bytes: non-final blocks ending byte-aligned. */
  readonly bytes: Buffer;
  /** CRC-32 and length of the bytes they inflate to. */
  readonly crc: number;
  readonly len: number;
}

/** A plain gzip header: deflate, no name, no time, unknown OS left as Unix. */
export const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]);
/** An empty final stored block: what ends an assembled stream (Varnish ends it the same way). */
export const FINAL_BLOCK = Buffer.from([0x01, 0x00, 0x00, 0xff, 0xff]);
const SYNC_MARK = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const FINAL_STATIC = Buffer.from([0x03, 0x00]);
const STORED_MAX = 0xffff;

/** Plain bytes as stored (uncompressed) deflate blocks. */
export function storedPiece(plain: Buffer): Piece {
  const blocks = Math.max(1, Math.ceil(plain.length / STORED_MAX));
  const out = Buffer.allocUnsafe(plain.length + blocks * 5);
  let o = 0;
  for (let i = 0; i < blocks; i++) {
    const part = plain.subarray(i * STORED_MAX, (i + 1) * STORED_MAX);
    out[o] = 0x00; // BFINAL 0, BTYPE 00, then the rest of the byte is padding.
    out.writeUInt16LE(part.length, o + 1);
    out.writeUInt16LE(~part.length & 0xffff, o + 3);
    part.copy(out, o + 5);
    o += 5 + part.length;
  }
  return { bytes: out.subarray(0, o), crc: crc32(plain), len: plain.length };
}

/**
 * The deflate data of a whole gzip body as one piece, when it ends on a sync flush followed
 * by an empty final block (Shellac's own gzip does); null otherwise.
 */
export function stitchable(body: Buffer): Piece | null {
  const n = body.length;
  if (n < 10 + 4 + 2 + 8 || body[0] !== 0x1f || body[1] !== 0x8b || body[2] !== 8 || body[3] !== 0) return null;
  const trailer = n - 8;
  let end = -1;
  if (body.subarray(trailer - 2, trailer).equals(FINAL_STATIC)) end = trailer - 2;
  else if (body.subarray(trailer - 5, trailer).equals(FINAL_BLOCK)) end = trailer - 5;
  if (end < 14 || !body.subarray(end - 4, end).equals(SYNC_MARK)) return null;
  return { bytes: body.subarray(10, end), crc: body.readUInt32LE(trailer), len: body.readUInt32LE(trailer + 4) };
}

/** Lays pieces out as one gzip stream: header, pieces, final block, combined trailer. */
export async function* assembleGzip(pieces: AsyncIterable<Piece>): AsyncGenerator<Buffer> {
  yield GZIP_HEADER;
  let crc = 0;
  let len = 0;
  for await (const p of pieces) {
    if (p.len === 0 && p.bytes.length === 0) continue;
    crc = crc32Combine(crc, p.crc, p.len);
    len += p.len;
    yield p.bytes;
  }
  const tail = Buffer.allocUnsafe(FINAL_BLOCK.length + 8);
  FINAL_BLOCK.copy(tail, 0);
  tail.writeUInt32LE(crc >>> 0, FINAL_BLOCK.length);
  tail.writeUInt32LE(len >>> 0, FINAL_BLOCK.length + 4);
  yield tail;
}
