// The zlib stages: gzip, gunzip and the check of a gzip body that is stored as it came.

import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import { constants, createGunzip, createGzip, deflateRaw, gunzipSync } from 'node:zlib';
import { type Body, through } from './stage.ts';

const deflateRawAsync = promisify(deflateRaw);

export interface GzipSettings {
  /** gzip_level, gzip_memlevel and gzip_buffer. */
  readonly level: number;
  readonly memLevel: number;
  readonly buffer: number;
}

export function gzipStage(s: GzipSettings): (input: Body) => Body {
  return (input) => gzipSynced(input, s);
}

/**
 * gzip whose deflate data ends on a sync flush before the (empty) final block, so that the
 * stored body can be stitched into an ESI page as it is (gzip-pieces.ts).
 */
async function* gzipSynced(input: Body, s: GzipSettings): AsyncGenerator<Buffer> {
  const z = createGzip({ level: s.level, memLevel: s.memLevel, chunkSize: Math.max(64, s.buffer) });
  const feed = (async () => {
    for await (const chunk of input) if (!z.write(chunk)) await once(z, 'drain');
    await new Promise<void>((resolve) => z.flush(constants.Z_SYNC_FLUSH, () => resolve()));
    z.end();
  })();
  feed.catch((e: Error) => z.destroy(e));
  for await (const chunk of z) yield chunk as Buffer;
  await feed;
}

/** Raw deflate of one piece, ended by a sync flush (non-final, byte-aligned). */
export function deflatePiece(plain: Buffer, s: GzipSettings): Promise<Buffer> {
  return deflateRawAsync(plain, { level: s.level, memLevel: s.memLevel, finishFlush: constants.Z_SYNC_FLUSH });
}

export function gunzipStage(input: Body): Body {
  return through(input, createGunzip());
}

/**
 * A backend's gzip body must be one member with nothing after it, as Varnish's inflate has it
 * (FetchError "Junk after gzip data"). node's gunzip reads on past the first member (a second
 * member, or zero bytes as padding), so the check is the trailer's: the last four bytes are the
 * length of everything inflated (mod 2^32), which holds for one member and not for more.
 * Without it a stored body's trailer would announce a Content-Length its inflated bytes do not
 * have.
 */
class OneMember {
  #tail: Buffer = Buffer.alloc(0);
  #inflated = 0;

  input(chunk: Buffer): void {
    this.#tail = chunk.length >= 4 ? chunk.subarray(chunk.length - 4) : Buffer.concat([this.#tail, chunk]).subarray(-4);
  }

  output(bytes: number): void {
    this.#inflated += bytes;
  }

  /** Throws when the body was not exactly one gzip member. */
  check(): void {
    if (this.#tail.length < 4 || this.#tail.readUInt32LE(0) !== this.#inflated % 2 ** 32) throw new Error('Junk after gzip data');
  }
}

/** The fetch's gunzip (do_gunzip): a body of more than one gzip member fails the fetch. */
export async function* gunzipFetchStage(input: Body): AsyncGenerator<Buffer> {
  const member = new OneMember();
  async function* watched(): AsyncGenerator<Buffer> {
    for await (const chunk of input) {
      member.input(chunk);
      yield chunk;
    }
  }
  for await (const chunk of through(watched(), createGunzip())) {
    member.output(chunk.length);
    yield chunk;
  }
  member.check();
}

/**
 * Bodies up to this size that are complete are gunzipped in one call on delivery: inflating
 * 128 KB takes well under a millisecond, far less than a stream's per-request machinery costs.
 */
export const WHOLE_GUNZIP_MAX = 128 * 1024;

/** gunzip of a small complete body in one call. */
export async function* gunzipWholeStage(input: Body): AsyncGenerator<Buffer> {
  const seen: Buffer[] = [];
  for await (const chunk of input) seen.push(chunk);
  yield gunzipWhole(seen);
}

/**
 * A complete gzip body (up to WHOLE_GUNZIP_MAX) inflated in one synchronous call, into one
 * output buffer the size its trailer announces (capped: the trailer is the backend's word), so
 * zlib does not gather 16 KB pieces and join them. Throws on invalid gzip.
 */
export function gunzipWhole(chunks: readonly Buffer[]): Buffer {
  const body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
  const size = body.length >= 18 ? body.readUInt32LE(body.length - 4) : 0;
  return gunzipSync(body, { chunkSize: Math.min(Math.max(size + 64, 1024), 4 * WHOLE_GUNZIP_MAX) });
}

/** The bytes unchanged, fed to a gunzip on the side: invalid gzip fails the body at its end. */
export async function* testGunzipStage(input: Body): AsyncGenerator<Buffer> {
  const z = createGunzip();
  const member = new OneMember();
  const ended = finished(z);
  ended.catch(() => {});
  let failure: Error | null = null;
  z.on('error', (e) => {
    failure = e;
  });
  z.on('data', (d: Buffer) => member.output(d.length));
  for await (const chunk of input) {
    if (failure !== null) throw failure;
    member.input(chunk);
    z.write(chunk);
    yield chunk;
  }
  z.end();
  await ended;
  if (failure !== null) throw failure;
  member.check();
}

/** The uncompressed length a whole gzip body says it has (its trailer's ISIZE), or undefined. */
export function gunzippedLength(chunks: readonly Buffer[], total: number): number | undefined {
  if (total < 18) return undefined;
  const tail = Buffer.alloc(4);
  let need = 4;
  for (let i = chunks.length - 1; i >= 0 && need > 0; i--) {
    const c = chunks[i];
    const n = Math.min(need, c.length);
    c.copy(tail, need - n, c.length - n);
    need -= n;
  }
  return tail.readUInt32LE(0);
}
