// The ESI fetch stages: the body is parsed as it arrives (esi-parse.ts's EsiParser) and each
// settled instruction goes to the object's body info before the bytes it names are stored, so
// delivery can walk a page while it is still being fetched. `esi`: the bytes are stored as they
// came (gunzipped first if need be). `esi_gzip`: the body is stored as gzip cut at every
// instruction boundary (each range deflated and sync-flushed on its own, with its CRC), so
// delivery to a gzip client sends each verbatim range's deflate bytes as they are stored.

import { crc32 } from 'node:zlib';
import { type EsiInstruction, EsiParser, type EsiReport } from './esi-parse.ts';
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

/** Starts the object's instruction list; what the parser settles is added to it. */
function openList(c: FetchFilterContext): { parser: EsiParser; settle: (list: readonly EsiInstruction[]) => void } {
  const info = c.info;
  info.esiOpen = true;
  info.esi = [];
  const parser = new EsiParser(c.esi, countedReport(c));
  return {
    parser,
    settle(list) {
      if (parser.xml === false) info.esi = null;
      else if (list.length > 0) info.esi?.push(...list);
    },
  };
}

export function esiParseStage(c: FetchFilterContext): Stage {
  const { parser, settle } = openList(c);
  return async function* parsing(input: Body): AsyncGenerator<Buffer> {
    for await (const chunk of input) {
      settle(parser.feed(chunk));
      yield chunk;
    }
    settle(parser.end());
  };
}

export function esiGzipStage(c: FetchFilterContext): Stage {
  const { parser, settle } = openList(c);
  c.info.esiGzip = true;
  return async function* parsingGzip(input: Body): AsyncGenerator<Buffer> {
    const out = new SegmentGzip(c.gzip);
    yield GZIP_HEADER;
    for await (const chunk of input) {
      out.add(chunk);
      const list = parser.feed(chunk);
      const deflated = await out.upTo(parser.settled, list);
      settle(list);
      if (deflated.length > 0) yield* deflated;
    }
    const list = parser.end();
    const deflated = await out.upTo(parser.settled, list);
    settle(list);
    yield* deflated;
    yield out.trailer();
  };
}

/**
 * A body deflated in segments as its instructions settle: cut at every verbatim range's ends
 * (the rest is skipped or an include), each segment deflated and sync-flushed on its own, so a
 * verbatim range's deflate bytes can be sent alone; its place in the stored body goes on it.
 */
class SegmentGzip {
  readonly #s: GzipSettings;
  /** Plain bytes not yet deflated, from #from. */
  #pending: Buffer[] = [];
  #from = 0;
  /** Stored bytes so far (the gzip header included). */
  #stored = GZIP_HEADER.length;
  #crc = 0;
  #length = 0;

  constructor(s: GzipSettings) {
    this.#s = s;
  }

  add(chunk: Buffer): void {
    this.#pending.push(chunk);
    this.#crc = crc32(chunk, this.#crc);
    this.#length += chunk.length;
  }

  /** Deflates up to `settled`, cut at the ranges of `list` (which gain their gz places). */
  async upTo(settled: number, list: EsiInstruction[]): Promise<Buffer[]> {
    if (settled <= this.#from) return [];
    const plain = Buffer.concat(this.#pending);
    const base = this.#from;
    const cuts = new Set<number>([settled]);
    for (const ins of list) if (ins.kind === 'verbatim') cuts.add(ins.start).add(ins.end);
    const points = [...cuts].filter((p) => p > base && p <= settled).sort((a, b) => a - b);
    const out: Buffer[] = [];
    const where = new Map<number, { start: number; end: number; crc: number }>();
    let at = base;
    for (const p of points) {
      const piece = plain.subarray(at - base, p - base);
      const deflated = await deflatePiece(piece, this.#s);
      out.push(deflated);
      where.set(at, { start: this.#stored, end: this.#stored + deflated.length, crc: crc32(piece) });
      this.#stored += deflated.length;
      at = p;
    }
    for (let i = 0; i < list.length; i++) {
      const ins = list[i];
      if (ins.kind === 'verbatim') list[i] = { ...ins, gz: where.get(ins.start) };
    }
    this.#pending = settled - base < plain.length ? [plain.subarray(settled - base)] : [];
    this.#from = settled;
    return out;
  }

  /** An empty final block (fixed codes) and the trailer of the whole body. */
  trailer(): Buffer {
    const tail = Buffer.allocUnsafe(10);
    tail[0] = 0x03;
    tail[1] = 0x00;
    tail.writeUInt32LE(this.#crc >>> 0, 2);
    tail.writeUInt32LE(this.#length >>> 0, 6);
    return tail;
  }
}
