// A request body read from the connection, as Varnish 7.1 reads one (cache_http1_vfp.c):
// - Content-Length: exactly that many bytes; the client closing first is an error;
// - chunked: a size line is optional SP/TAB, hex digits (at most 19 after leading zeros),
//   optional SP/TAB, then CR LF or a bare LF; no chunk extensions; each chunk's data is
//   followed by CR LF or LF; the last chunk (size 0) by CR LF or LF at once (no trailers).
// Anything else fails the body, and with it the fetch it feeds and the connection.

import { BYTE_CLASS, CR, HEX, LF, SP } from './bytes.ts';
import type { BodyFraming } from './framing.ts';

/** Where a body's bytes come from: the connection's buffer, refilled as the socket reads. */
export interface ByteSource {
  /** The bytes received and not yet taken (a view of buffers that are never written again). */
  peek(): Buffer;
  take(n: number): void;
  /** Resolves true when more bytes came, false when none ever will (end of stream, closed). */
  more(): Promise<boolean>;
}

export class BodyError extends Error {
  override readonly name = 'BodyError';
}

/** The body's bytes, in pieces as they come; throws a BodyError when the framing breaks. */
export async function* readBody(src: ByteSource, framing: BodyFraming): AsyncGenerator<Buffer> {
  if (framing.kind === 'length') yield* readLength(src, framing.length);
  else if (framing.kind === 'chunked') yield* readChunked(src);
}

async function* readLength(src: ByteSource, length: number): AsyncGenerator<Buffer> {
  let left = length;
  while (left > 0) {
    let buf = src.peek();
    if (buf.length === 0) {
      if (!(await src.more())) throw new BodyError(`body ended ${left} bytes short of Content-Length`);
      buf = src.peek();
    }
    const n = Math.min(left, buf.length);
    // A view is safe to hand out: the connection never writes into a buffer it has received.
    const piece = buf.subarray(0, n);
    src.take(n);
    left -= n;
    yield piece;
  }
}

async function* readChunked(src: ByteSource): AsyncGenerator<Buffer> {
  for (;;) {
    const size = await chunkSize(src);
    if (size > 0) yield* readLength(src, size);
    await lineEnd(src, size === 0 ? 'last chunk' : 'chunk data');
    if (size === 0) return;
  }
}

/** The next byte, waiting for it if need be; -1 at the end of the stream. */
async function nextByte(src: ByteSource): Promise<number> {
  let buf = src.peek();
  if (buf.length === 0) {
    if (!(await src.more())) return -1;
    buf = src.peek();
  }
  const b = buf[0];
  src.take(1);
  return b;
}

async function chunkSize(src: ByteSource): Promise<number> {
  let b = await nextByte(src);
  while (b >= 0 && (BYTE_CLASS[b] & SP) !== 0) b = await nextByte(src);
  if (b < 0 || (BYTE_CLASS[b] & HEX) === 0) throw new BodyError(b < 0 ? 'body ended in a chunk size' : 'chunk size is not hex');
  // Leading zeros do not count towards the 19 digits.
  while (b === 0x30) b = await nextByte(src);
  let digits = '';
  while (b >= 0 && (BYTE_CLASS[b] & HEX) !== 0) {
    digits += String.fromCharCode(b);
    if (digits.length > 19) throw new BodyError('chunk size too long');
    b = await nextByte(src);
  }
  while (b >= 0 && (BYTE_CLASS[b] & SP) !== 0) b = await nextByte(src);
  if (b === CR) b = await nextByte(src);
  if (b !== LF) throw new BodyError(b < 0 ? 'body ended in a chunk size line' : 'chunk size line with more than a size');
  const size = digits === '' ? 0 : Number.parseInt(digits, 16);
  if (!Number.isSafeInteger(size)) throw new BodyError('chunk size too large');
  return size;
}

async function lineEnd(src: ByteSource, what: string): Promise<void> {
  let b = await nextByte(src);
  if (b === CR) b = await nextByte(src);
  if (b !== LF) throw new BodyError(`no line end after the ${what}`);
}
