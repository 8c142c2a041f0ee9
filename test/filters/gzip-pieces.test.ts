// gzip pieces: CRCs combined without the bytes, stitchable bodies recognised, and pieces laid
// end to end into one stream that node's zlib inflates.

import { constants, crc32, deflateRawSync, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32Combine } from '../../src/filters/crc32-combine.ts';
import { assembleGzip, type Piece, stitchable, storedPiece } from '../../src/filters/gzip-pieces.ts';
import { gzipStage } from '../../src/filters/zlib-stages.ts';

async function collect(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of body) out.push(c);
  return Buffer.concat(out);
}

async function* list<T>(items: T[]): AsyncGenerator<T> {
  yield* items;
}

describe('crc32Combine', () => {
  it('gives the CRC of the concatenation', () => {
    for (const [a, b] of [
      ['hello ', 'world'],
      ['', 'x'],
      ['abc', ''],
      ['x'.repeat(100_000), 'y'.repeat(70_001)],
    ]) {
      const A = Buffer.from(a);
      const B = Buffer.from(b);
      expect(crc32Combine(crc32(A), crc32(B), B.length)).toBe(crc32(Buffer.concat([A, B])));
    }
  });
});

describe('pieces', () => {
  it('recognises the gzip Shellac stores and not a plain gzipSync body', async () => {
    const text = Buffer.from('some text to compress '.repeat(30));
    const ours = await collect(gzipStage({ level: 6, memLevel: 8, buffer: 32768 })(list([text])));
    expect(gunzipSync(ours).equals(text)).toBe(true);
    const piece = stitchable(ours);
    expect(piece?.len).toBe(text.length);
    expect(piece?.crc).toBe(crc32(text));
    expect(stitchable(gzipSync(text))).toBeNull();
  });

  it('assembles deflated, stored and stitched pieces into one valid gzip stream', async () => {
    const a = Buffer.from('first part, ');
    const b = Buffer.from('second part (stored), '.repeat(4000));
    const c = Buffer.from('third part');
    const deflated: Piece = { bytes: deflateRawSync(a, { finishFlush: constants.Z_SYNC_FLUSH }), crc: crc32(a), len: a.length };
    const ours = await collect(gzipStage({ level: 1, memLevel: 9, buffer: 4096 })(list([c])));
    const out = await collect(assembleGzip(list([deflated, storedPiece(b), stitchable(ours)!])));
    expect(gunzipSync(out).equals(Buffer.concat([a, b, c]))).toBe(true);
  });
});
