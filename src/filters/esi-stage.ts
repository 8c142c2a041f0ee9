// The ESI fetch stages. `esi`: the bytes pass unchanged (the stored body is what the backend
// sent, gunzipped first if need be) and are parsed once whole, at the end; the instruction
// list goes to the object's body info. `esi_gzip`: the same parse, then the body is stored as
// gzip cut at every instruction boundary (each range deflated and sync-flushed on its own), so
// delivery to a gzip client sends each verbatim range's deflate bytes as they are stored.
// Either way an ESI body is complete before delivery walks it.

import { crc32 } from 'node:zlib';
import { type EsiInstruction, type EsiReport, parseEsi } from './esi-parse.ts';
import type { FetchFilterContext } from './fetch-filters.ts';
import { GZIP_HEADER } from './gzip-pieces.ts';
import type { Body, Stage } from './stage.ts';
import { deflatePiece, type GzipSettings } from './zlib-stages.ts';

function countedReport(c: FetchFilterContext): EsiReport {
  return {
    error(m) {
      c.counters.esi_errors++;
      c.report.error(m);
    },
    warning(m) {
      c.counters.esi_warnings++;
      c.report.warning(m);
    },
  };
}

export function esiParseStage(c: FetchFilterContext): Stage {
  c.info.esiOpen = true;
  return async function* parsing(input: Body): AsyncGenerator<Buffer> {
    const seen: Buffer[] = [];
    for await (const chunk of input) {
      seen.push(chunk);
      yield chunk;
    }
    c.info.esi = parseEsi(Buffer.concat(seen).toString('latin1'), c.esi, countedReport(c));
  };
}

export function esiGzipStage(c: FetchFilterContext): Stage {
  c.info.esiOpen = true;
  return async function* parsingGzip(input: Body): AsyncGenerator<Buffer> {
    const seen: Buffer[] = [];
    for await (const chunk of input) seen.push(chunk);
    const body = Buffer.concat(seen);
    const list = parseEsi(body.toString('latin1'), c.esi, countedReport(c));
    const stored = await gzipBySegment(body, list, c.gzip);
    c.info.esi = stored.list;
    yield* stored.chunks;
  };
}

/** Cuts points of a body: every verbatim range's ends (the rest is skipped or an include). */
function cuts(length: number, list: readonly EsiInstruction[] | null): number[] {
  const at = new Set<number>([0, length]);
  for (const ins of list ?? []) {
    if (ins.kind !== 'verbatim') continue;
    at.add(ins.start);
    at.add(ins.end);
  }
  return [...at].sort((a, b) => a - b);
}

async function gzipBySegment(body: Buffer, list: EsiInstruction[] | null, s: GzipSettings): Promise<{ chunks: Buffer[]; list: EsiInstruction[] | null }> {
  const points = cuts(body.length, list);
  const chunks: Buffer[] = [GZIP_HEADER];
  let offset = GZIP_HEADER.length;
  const where = new Map<number, { start: number; end: number; crc: number }>();
  for (let i = 0; i + 1 < points.length; i++) {
    const plain = body.subarray(points[i], points[i + 1]);
    const deflated = await deflatePiece(plain, s);
    chunks.push(deflated);
    where.set(points[i], { start: offset, end: offset + deflated.length, crc: crc32(plain) });
    offset += deflated.length;
  }
  // An empty final block (fixed codes) and the trailer of the whole body.
  const tail = Buffer.allocUnsafe(10);
  tail[0] = 0x03;
  tail[1] = 0x00;
  tail.writeUInt32LE(crc32(body), 2);
  tail.writeUInt32LE(body.length >>> 0, 6);
  chunks.push(tail);
  const withGz = list?.map((ins) => (ins.kind === 'verbatim' ? { ...ins, gz: where.get(ins.start) } : ins)) ?? null;
  return { chunks, list: withGz };
}
