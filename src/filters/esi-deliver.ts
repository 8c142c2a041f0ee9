// ESI assembly on delivery: walks the instruction list the fetch stored, sending the verbatim
// ranges of the stored body and, in their place, each include's body. Includes run as
// sub-requests through the client state machine (the proxy's IncludeRunner). A page goes out
// in one of two forms: plain bytes, or gzip pieces (gzip-pieces.ts) that the top request lays
// out as one gzip stream, its stored deflate bytes untouched.

import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { BodyInfo } from './body-info.ts';
import type { EsiInclude, EsiInstruction } from './esi-parse.ts';
import { type Piece, stitchable, storedPiece } from './gzip-pieces.ts';
import type { Body } from './stage.ts';

const gunzipAsync = promisify(gunzip);

/**
 * Runs one include and gives what it delivers: plain bytes, or (asked for pieces) gzip pieces
 * and plain bytes mixed (a synthetic answer, say), which the caller wraps as stored blocks.
 */
export type IncludeRunner = (inc: EsiInclude, pieces: boolean) => AsyncIterable<Buffer | Piece>;

/** How a page runs its includes: one after another as delivery reaches them (Varnish), or all at once. */
export interface Includes {
  readonly run: IncludeRunner;
  readonly parallel: boolean;
}

/**
 * The includes of a page, each started when delivery reaches it; or, in parallel, all started
 * now and read into buffers as they come, so a page of slow fragments takes as long as the
 * slowest, and still delivered in page order.
 */
function includesOf(list: readonly EsiInstruction[], inc: Includes, pieces: boolean): (ins: EsiInclude) => AsyncIterable<Buffer | Piece> {
  if (!inc.parallel) return (ins) => inc.run(ins, pieces);
  const started = new Map<EsiInclude, AsyncIterable<Buffer | Piece>>();
  for (const ins of list) if (ins.kind === 'include') started.set(ins, buffered(inc.run(ins, pieces)));
  return (ins) => started.get(ins)!;
}

/** Reads a source to its end now, whatever the reader's pace; the reader gets it all in order. */
function buffered<T>(source: AsyncIterable<T>): AsyncIterable<T> {
  const items: T[] = [];
  let done = false;
  let failure: { error: unknown } | null = null;
  let wake: (() => void) | null = null;
  const poke = (): void => {
    const w = wake;
    wake = null;
    w?.();
  };
  void (async () => {
    try {
      for await (const x of source) {
        items.push(x);
        poke();
      }
    } catch (error) {
      failure = { error };
    } finally {
      done = true;
      poke();
    }
  })();
  return (async function* () {
    let i = 0;
    for (;;) {
      while (i < items.length) yield items[i++];
      if (failure !== null) throw (failure as { error: unknown }).error;
      if (done) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  })();
}

async function whole(input: Body): Promise<Buffer> {
  const seen: Buffer[] = [];
  for await (const chunk of input) seen.push(chunk);
  return seen.length === 1 ? seen[0] : Buffer.concat(seen);
}

const isPiece = (x: Buffer | Piece): x is Piece => !Buffer.isBuffer(x);

/** An ESI page as plain bytes. */
export async function* esiPlain(input: Body, info: BodyInfo, gzipped: boolean, inc: Includes): AsyncGenerator<Buffer> {
  let body = await whole(input);
  if (gzipped) body = await gunzipAsync(body);
  const list = info.esi;
  if (list === null) {
    yield body;
    return;
  }
  const includes = includesOf(list, inc, false);
  for (const ins of list) {
    if (ins.kind === 'verbatim') {
      if (ins.end > ins.start) yield body.subarray(ins.start, ins.end);
      continue;
    }
    // Asked for plain bytes, an include gives nothing else.
    for await (const part of includes(ins)) if (!isPiece(part)) yield part;
  }
}

/** An ESI page as gzip pieces: stored deflate ranges where the body has them. */
export async function* esiPieces(input: Body, info: BodyInfo, gzipped: boolean, inc: Includes): AsyncGenerator<Piece> {
  const body = await whole(input);
  const list = info.esi;
  if (list === null) {
    yield await bodyPiece(body, gzipped);
    return;
  }
  let plain: Buffer | null = gzipped ? null : body;
  const includes = includesOf(list, inc, true);
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
    for await (const part of includes(ins)) yield isPiece(part) ? part : storedPiece(part);
  }
}

/** A whole body that is not ESI as one piece: its own deflate data when it can be stitched. */
export async function bodyPiece(body: Buffer, gzipped: boolean): Promise<Piece> {
  if (!gzipped) return storedPiece(body);
  return stitchable(body) ?? storedPiece(await gunzipAsync(body));
}

/** The stored body (ESI or not) as pieces, for an include inside a gzip page. */
export async function* piecesOf(input: Body, info: BodyInfo, gzipped: boolean, esi: boolean, includes: Includes): AsyncGenerator<Piece> {
  if (esi && info.esiOpen) {
    yield* esiPieces(input, info, gzipped, includes);
    return;
  }
  yield await bodyPiece(await whole(input), gzipped);
}
