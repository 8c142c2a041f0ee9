// ESI assembly on delivery: walks the instruction list the fetch stores, sending the verbatim
// ranges of the stored body and, in their place, each include's body. The walk streams: a page
// still being fetched is walked as its bytes and instructions arrive (body-window.ts), and each
// range goes out as soon as its bytes are there. Includes run as sub-requests through the
// client state machine (the proxy's IncludeRunner). A page goes out in one of two forms: plain
// bytes, or gzip pieces (gzip-pieces.ts) that the top request lays out as one gzip stream, its
// stored deflate bytes untouched.

import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { BodyInfo } from './body-info.ts';
import type { EsiInclude, EsiInstruction } from './esi-parse.ts';
import { type Piece, stitchable, storedPiece } from './gzip-pieces.ts';
import { BodyWindow } from './body-window.ts';
import type { Body } from './stage.ts';
import { gunzipStage } from './zlib-stages.ts';

const gunzipAsync = promisify(gunzip);

/**
 * Runs one include and gives what it delivers: plain bytes, or (asked for pieces) gzip pieces
 * and plain bytes mixed (a synthetic answer, say), which the caller wraps as stored blocks.
 */
export type IncludeRunner = (inc: EsiInclude, pieces: boolean) => IncludeBody;

/** What an include gives: its parts as they come, or all of them at once when it is already over. */
export type IncludeBody = AsyncIterable<Buffer | Piece> | readonly (Buffer | Piece)[];

/** How a page runs its includes: one after another as delivery reaches them (Varnish), or all at once. */
export interface Includes {
  readonly run: IncludeRunner;
  readonly parallel: boolean;
  /** Shared by a top request and all its includes, at every depth. */
  readonly budget: IncludeBudget;
}

/**
 * How many includes of one top request may run ahead of delivery at once. A page whose
 * includes include themselves (up to max_esi_depth) would otherwise start a number of requests
 * exponential in the depth, each buffering its body; past the bound, an include waits until
 * one finishes or until delivery reaches it, as with Varnish.
 */
export interface IncludeBudget {
  inFlight: number;
  readonly max: number;
}

/** Includes started ahead of delivery, per top request. */
export const INCLUDES_AHEAD_MAX = 64;

/**
 * The includes of a page: each started when delivery reaches it, or, in parallel, each started
 * as soon as the page's list names it, read into a buffer as it comes, so a page of slow
 * fragments takes as long as the slowest, and still delivered in page order.
 */
class IncludeStarts {
  readonly #inc: Includes;
  readonly #pieces: boolean;
  readonly #started = new Map<EsiInclude, IncludeBody>();
  #seen = 0;

  constructor(inc: Includes, pieces: boolean) {
    this.#inc = inc;
    this.#pieces = pieces;
  }

  /** Starts the includes the list gained since the last call (when parallel), within the budget. */
  catchUp(list: readonly EsiInstruction[] | null): void {
    const inc = this.#inc;
    if (!inc.parallel || list === null) return;
    const budget = inc.budget;
    for (; this.#seen < list.length; this.#seen++) {
      const ins = list[this.#seen];
      if (ins.kind !== 'include') continue;
      // Full: this one and the rest are tried again at the next step of delivery.
      if (budget.inFlight >= budget.max) return;
      budget.inFlight++;
      this.#started.set(ins, buffered(inc.run(ins, this.#pieces), () => budget.inFlight--));
    }
  }

  body(ins: EsiInclude): IncludeBody {
    return this.#started.get(ins) ?? this.#inc.run(ins, this.#pieces);
  }
}

/**
 * Reads a source to its end now, whatever the reader's pace; the reader gets it all in order.
 * `ended` is called once the source is read out (or failed).
 */
function buffered<T>(source: AsyncIterable<T> | readonly T[], ended: () => void): AsyncIterable<T> | readonly T[] {
  if (isArray(source)) {
    ended();
    return source;
  }
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
      ended();
      poke();
    }
  })();
  const waitMore = (): Promise<void> =>
    new Promise<void>((resolve) => {
      wake = resolve;
    });
  // A plain iterator, not a generator: one less layer for each part of each include.
  return {
    [Symbol.asyncIterator]: () => {
      let i = 0;
      return {
        async next(): Promise<IteratorResult<T>> {
          for (;;) {
            if (i < items.length) return { value: items[i++], done: false };
            if (failure !== null) throw failure.error;
            if (done) return { value: undefined, done: true };
            await waitMore();
          }
        },
      };
    },
  };
}

/**
 * The page's instructions as they settle, reading the body as far as it takes (the fetch adds
 * an instruction before the bytes it names are stored); null, once, when the body turns out not
 * to be XML: then the whole body goes as it is.
 */
async function* settled(w: BodyWindow, info: BodyInfo, starts: IncludeStarts): AsyncGenerator<EsiInstruction | null> {
  let i = 0;
  for (;;) {
    const list = info.esi;
    starts.catchUp(list);
    if (list === null) {
      yield null;
      return;
    }
    if (i < list.length) {
      yield list[i++];
      continue;
    }
    // Once the body has ended, the list is whole.
    if (w.ended) return;
    await w.more();
  }
}

/** Bytes [start, end) of the body as they arrive. */
async function* range(w: BodyWindow, start: number, end: number): AsyncGenerator<Buffer> {
  let from = start;
  for (;;) {
    const to = Math.min(w.received, end);
    if (to > from) {
      yield* w.views(from, to);
      from = to;
    }
    if (from >= end) break;
    if (!(await w.more())) {
      if (end === Infinity) break;
      throw new Error('the ESI body ended before its instructions did');
    }
  }
  w.drop(from);
}

const isArray = <T>(x: AsyncIterable<T> | readonly T[]): x is readonly T[] => Array.isArray(x);
const isPiece = (x: Buffer | Piece): x is Piece => !Buffer.isBuffer(x);
const plainOnly = (x: Buffer | Piece): Buffer | null => (isPiece(x) ? null : x);
const asPiece = (x: Buffer | Piece): Piece => (isPiece(x) ? x : storedPiece(x));

/**
 * An ESI page over its plain body, as the body and its instructions arrive: verbatim bytes as
 * they come, each include's output (bytes, or pieces in a gzip page) in its place, each part
 * shaped by `shape` (null drops it). A range whose bytes are all there goes as one part.
 */
async function* walkPlain<T>(w: BodyWindow, info: BodyInfo, starts: IncludeStarts, shape: (part: Buffer | Piece) => T | null): AsyncGenerator<T> {
  try {
    let i = 0;
    for (;;) {
      const list = info.esi;
      starts.catchUp(list);
      if (list === null) {
        // Not XML: the body as it is (nothing was sent of it yet).
        for await (const b of range(w, 0, Infinity)) yield shape(b)!;
        return;
      }
      if (i >= list.length) {
        // Once the body has ended, the list is whole.
        if (w.ended) return;
        await w.more();
        continue;
      }
      const ins = list[i++];
      if (ins.kind === 'include') {
        for await (const part of starts.body(ins)) {
          const x = shape(part);
          if (x !== null) yield x;
        }
      } else if (w.received >= ins.end) {
        yield shape(w.slice(ins.start, ins.end))!;
        w.drop(ins.end);
      } else {
        for await (const b of range(w, ins.start, ins.end)) yield shape(b)!;
      }
    }
  } finally {
    await w.close();
  }
}

/** An ESI page as plain bytes. */
export function esiPlain(input: Body, info: BodyInfo, gzipped: boolean, inc: Includes): AsyncGenerator<Buffer> {
  const w = new BodyWindow(gzipped ? gunzipStage(input) : input);
  // Asked for plain bytes, an include gives nothing else.
  return walkPlain(w, info, new IncludeStarts(inc, false), plainOnly);
}

/** An ESI page as gzip pieces: the stored deflate bytes of its ranges where esi_gzip stored them. */
export async function* esiPieces(input: Body, info: BodyInfo, gzipped: boolean, inc: Includes): AsyncGenerator<Piece> {
  const starts = new IncludeStarts(inc, true);
  if (!gzipped || !info.esiGzip) {
    yield* walkPlain(new BodyWindow(gzipped ? gunzipStage(input) : input), info, starts, asPiece);
    return;
  }
  const w = new BodyWindow(input);
  try {
    for await (const ins of settled(w, info, starts)) {
      if (ins === null) {
        // Not XML: the body as one piece.
        await w.until(Infinity);
        yield await bodyPiece(w.slice(0, w.received), true);
      } else if (ins.kind === 'include') {
        for await (const part of starts.body(ins)) yield asPiece(part);
      } else {
        const gz = ins.gz!;
        if (!(await w.until(gz.end))) throw new Error('the ESI body ended before its instructions did');
        yield { bytes: w.slice(gz.start, gz.end), crc: gz.crc, len: ins.end - ins.start };
        w.drop(gz.end);
      }
    }
  } finally {
    await w.close();
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
  const seen: Buffer[] = [];
  for await (const chunk of input) seen.push(chunk);
  yield await bodyPiece(Buffer.concat(seen), gzipped);
}
