// ESI assembly on delivery: walks the instruction list the fetch stored, sending the verbatim
// ranges of the stored body and, in their place, each include's body. Includes run as
// sub-requests through the client state machine (the proxy's IncludeRunner). A page goes out
// in one of two forms: plain bytes, or gzip pieces (gzip-pieces.ts) that the top request lays
// out as one gzip stream, its stored deflate bytes untouched.

import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { BodyInfo } from './body-info.ts';
import type { EsiInclude } from './esi-parse.ts';
import { type Piece, stitchable, storedPiece } from './gzip-pieces.ts';
import type { Body } from './stage.ts';

const gunzipAsync = promisify(gunzip);

/**
 * Runs one include and gives what it delivers: plain bytes, or (asked for pieces) gzip pieces
 * and plain bytes mixed (a synthetic answer, say), which the caller wraps as stored blocks.
 */
export type IncludeRunner = (inc: EsiInclude, pieces: boolean) => AsyncIterable<Buffer | Piece>;

async function whole(input: Body): Promise<Buffer> {
  const seen: Buffer[] = [];
  for await (const chunk of input) seen.push(chunk);
  return seen.length === 1 ? seen[0] : Buffer.concat(seen);
}

const isPiece = (x: Buffer | Piece): x is Piece => !Buffer.isBuffer(x);

/** An ESI page as plain bytes. */
export async function* esiPlain(input: Body, info: BodyInfo, gzipped: boolean, includes: IncludeRunner): AsyncGenerator<Buffer> {
  let body = await whole(input);
  if (gzipped) body = await gunzipAsync(body);
  const list = info.esi;
  if (list === null) {
    yield body;
    return;
  }
  for (const ins of list) {
    if (ins.kind === 'verbatim') {
      if (ins.end > ins.start) yield body.subarray(ins.start, ins.end);
      continue;
    }
    // Asked for plain bytes, an include gives nothing else.
    for await (const part of includes(ins, false)) if (!isPiece(part)) yield part;
  }
}

/** An ESI page as gzip pieces: stored deflate ranges where the body has them. */
export async function* esiPieces(input: Body, info: BodyInfo, gzipped: boolean, includes: IncludeRunner): AsyncGenerator<Piece> {
  const body = await whole(input);
  const list = info.esi;
  if (list === null) {
    yield await bodyPiece(body, gzipped);
    return;
  }
  let plain: Buffer | null = gzipped ? null : body;
  for (const ins of list) {
    if (ins.kind === 'verbatim') {
      if (ins.end <= ins.start) continue;
      if (gzipped && ins.gz !== undefined) {
        yield { bytes: body.subarray(ins.gz.start, ins.gz.end), crc: ins.gz.crc, len: ins.end - ins.start };
        continue;
      }
      plain ??= await gunzipAsync(body);
      yield storedPiece(plain.subarray(ins.start, ins.end));
      continue;
    }
    for await (const part of includes(ins, true)) yield isPiece(part) ? part : storedPiece(part);
  }
}

/** A whole body that is not ESI as one piece: its own deflate data when it can be stitched. */
export async function bodyPiece(body: Buffer, gzipped: boolean): Promise<Piece> {
  if (!gzipped) return storedPiece(body);
  return stitchable(body) ?? storedPiece(await gunzipAsync(body));
}

/** The stored body (ESI or not) as pieces, for an include inside a gzip page. */
export async function* piecesOf(input: Body, info: BodyInfo, gzipped: boolean, esi: boolean, includes: IncludeRunner): AsyncGenerator<Piece> {
  if (esi && info.esiOpen) {
    yield* esiPieces(input, info, gzipped, includes);
    return;
  }
  yield await bodyPiece(await whole(input), gzipped);
}
