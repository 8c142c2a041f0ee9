// The response side of one request: a head written by hand (status line, the headers given,
// then Connection: close or keep-alive, as varnishd 7.1 writes), then the body. The head waits
// for the first body bytes so that a small response leaves in one write: a cache hit is one
// syscall. A body of unknown length goes chunked to an HTTP/1.1 client and to the end of the
// connection for an HTTP/1.0 one, as Varnish delivers it.

import type { Socket } from 'node:net';
import type { Http1Connection } from './connection.ts';
import { flushPending, outputFor, writeOut } from './turn-writes.ts';

/** Past this size a body is not copied next to its head: the two go out corked. */
export const JOIN_LIMIT = 64 * 1024;
const CONTENT_LENGTH = 'Content-Length: ';
const CLOSE_LINE = 'Connection: close\r\n\r\n';
const KEEP_ALIVE_LINE = 'Connection: keep-alive\r\n\r\n';
/** Past this length a string is copied by Buffer's own latin1 writer rather than char by char. */
const SHORT_TEXT = 48;

/** Header lines by index (a VCL resp is one): what endStored writes after the stored block. */
export interface HeaderList {
  readonly count: number;
  nameAt(i: number): string;
  valueAt(i: number): string;
}

/** Where a stored response's bytes are kept (a cache object): endStored copies them out. */
export interface StoredSource {
  readonly bodyBytes: number;
  /** Copies the first `length` bytes of its stored head block to `out` at `at`. */
  copyHead(length: number, out: Uint8Array, at: number): void;
  /** Copies its whole body (of JOIN_LIMIT bytes or less) to `out` at `at`. */
  copyBody(out: Uint8Array, at: number): void;
}

/** Writes `s` as Latin-1 at `at`; returns where it ends. Short strings (most header parts) cost less copied here than through a native call. */
function putLatin1(out: Buffer, at: number, s: string): number {
  const n = s.length;
  if (n > SHORT_TEXT) return at + out.write(s, at, 'latin1');
  for (let i = 0; i < n; i++) out[at + i] = s.charCodeAt(i);
  return at + n;
}
const EMPTY = Buffer.alloc(0);

export class Http1Response {
  statusCode = 200;
  statusMessage = '';
  headersSent = false;
  /** end() was called. */
  finished = false;
  /** Close the connection after this response (Connection: close is written). */
  close: boolean;
  readonly #conn: Http1Connection;
  readonly #sock: Socket;
  readonly #http11: boolean;
  #head: string | null = null;
  #chunked = false;

  constructor(conn: Http1Connection, sock: Socket, close: boolean, http11: boolean) {
    this.#conn = conn;
    this.#sock = sock;
    this.close = close;
    this.#http11 = http11;
  }

  /** The socket is gone (the client left, or the response was cut off). */
  get destroyed(): boolean {
    return this.#sock.destroyed;
  }

  /**
   * Sets the head: `raw` holds name, value, name, value, … (never Connection, which is written
   * from `close`). Nothing is sent before the body's first bytes or end(). `unknownLength`: a
   * body follows without Content-Length.
   */
  writeHead(status: number, reason: string, raw: readonly string[], unknownLength = false): void {
    if (this.headersSent) return;
    this.statusCode = status;
    this.statusMessage = reason;
    let head = `HTTP/1.1 ${status} ${reason}\r\n`;
    for (let i = 0; i + 1 < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
    if (unknownLength) {
      if (this.#http11) {
        this.#chunked = true;
        head += 'Transfer-Encoding: chunked\r\n';
      } else this.close = true;
    }
    head += this.close ? CLOSE_LINE : KEEP_ALIVE_LINE;
    this.#head = head;
    this.headersSent = true;
    this.#conn.sending();
    this.#conn.counters.s_resp_hdrbytes += head.length;
  }

  /**
   * Sends the head now, before any body byte (a body whose first bytes may be slow to come: an
   * ESI page waiting for an include's fetch).
   */
  flushHead(): void {
    flushPending(this.#conn);
    const head = this.#head;
    if (head === null || this.#sock.destroyed) return;
    this.#head = null;
    this.#sock.write(head, 'latin1');
  }

  /** Writes body bytes; false when the socket's buffer is full (wait with drained()). */
  write(chunk: Uint8Array | string): boolean {
    const sock = this.#sock;
    if (sock.destroyed) return true;
    if (this.#head === null && this.#conn.sendExpired()) {
      // send_timeout: the whole response must be out by then, however the client reads.
      this.destroy();
      return true;
    }
    if (this.#chunked) {
      if (chunk.length === 0) return true;
      return this.#raw(chunk, `${chunk.length.toString(16)}\r\n`, true);
    }
    return this.#raw(chunk, '', false);
  }

  /**
   * Bytes after the head if it is still waiting (and `pre` and a line end around them for a
   * chunk): put together in one piece of output, which joins what the connection has waiting
   * for the end of the turn (turn-writes.ts), so that the pieces of a streamed or ESI body
   * made in one turn leave in one write. A large chunk goes as it is, corked with the rest.
   */
  #raw(chunk: Uint8Array | string, pre: string, crlf: boolean): boolean {
    const sock = this.#sock;
    const conn = this.#conn;
    const head = this.#head ?? '';
    this.#head = null;
    const first = head.length + pre.length;
    if (chunk.length > JOIN_LIMIT) {
      flushPending(conn);
      sock.cork();
      if (first > 0) sock.write(head + pre, 'latin1');
      let ok = typeof chunk === 'string' ? sock.write(chunk, 'latin1') : sock.write(chunk);
      if (crlf) ok = sock.write('\r\n', 'latin1');
      sock.uncork();
      return ok;
    }
    const n = first + chunk.length + (crlf ? 2 : 0);
    const out = outputFor(conn, sock, n);
    let at = putLatin1(out, putLatin1(out, 0, head), pre);
    if (typeof chunk === 'string') at = putLatin1(out, at, chunk);
    else {
      out.set(chunk, at);
      at += chunk.length;
    }
    if (crlf) {
      out[at++] = 0x0d;
      out[at] = 0x0a;
    }
    return writeOut(conn, sock, out);
  }

  /** Ends the response (with its last bytes); the connection goes on to the next request. */
  end(chunk?: Uint8Array | string): void {
    if (this.finished) return;
    this.finished = true;
    if (chunk !== undefined && chunk.length > 0) this.write(chunk);
    if (this.#sock.destroyed) {
      this.#head = null;
    } else if (this.#chunked) this.#raw('0\r\n\r\n', '', false);
    else if (this.#head !== null) this.#raw('', '', false);
    this.#conn.responseEnded(this);
  }

  /** Ends the response with a body in pieces, all handed to the socket in one go (writev). */
  endAll(chunks: readonly Uint8Array[]): void {
    const sock = this.#sock;
    flushPending(this.#conn);
    if (sock.destroyed || this.#chunked) {
      for (const c of chunks) this.write(c);
      this.end();
      return;
    }
    sock.cork();
    if (this.#head !== null) {
      sock.write(this.#head, 'latin1');
      this.#head = null;
    }
    for (const c of chunks) sock.write(c);
    sock.uncork();
    this.end();
  }

  /**
   * Writes a whole response whose head is mostly a stored block (a cache hit): `block` (the
   * status line and the stored header lines, encoded once per object), the lines of `lines`
   * from `from` on (what delivery added), Content-Length, the Connection line, then the body:
   * one write when the body fits beside the head, else one corked run of writes (writev). The
   * stored bytes are copied from where they are kept (`src`: no view or copy of them is made
   * on the way), and the added lines go straight into the output, with no string made of them.
   * `head` is the block itself or how many of `src`'s head bytes to write. A body larger than
   * JOIN_LIMIT is written as `large` gives it: its bytes must stay until written.
   */
  endStored(status: number, reason: string, head: Buffer | number, lines: HeaderList, from: number, src: StoredSource, large: readonly Uint8Array[] | null): void {
    if (this.headersSent) return;
    this.statusCode = status;
    this.statusMessage = reason;
    this.headersSent = true;
    this.finished = true;
    const last = this.close ? CLOSE_LINE : KEEP_ALIVE_LINE;
    const size = src.bodyBytes;
    const length = String(size);
    let tailBytes = CONTENT_LENGTH.length + length.length + 2 + last.length;
    const n = lines.count;
    for (let i = from; i < n; i++) tailBytes += lines.nameAt(i).length + lines.valueAt(i).length + 4;
    const blockBytes = typeof head === 'number' ? head : head.length;
    const headBytes = blockBytes + tailBytes;
    const conn = this.#conn;
    conn.counters.s_resp_hdrbytes += headBytes;
    const sock = this.#sock;
    if (!sock.destroyed) {
      const joined = large === null;
      const out = joined ? outputFor(conn, sock, headBytes + size) : Buffer.allocUnsafe(headBytes);
      if (typeof head === 'number') src.copyHead(head, out, 0);
      else head.copy(out, 0);
      let at = blockBytes;
      for (let i = from; i < n; i++) {
        at = putLatin1(out, at, lines.nameAt(i));
        out[at++] = 0x3a;
        out[at++] = 0x20;
        at = putLatin1(out, at, lines.valueAt(i));
        out[at++] = 0x0d;
        out[at++] = 0x0a;
      }
      at = putLatin1(out, at, CONTENT_LENGTH);
      at = putLatin1(out, at, length);
      out[at++] = 0x0d;
      out[at++] = 0x0a;
      at = putLatin1(out, at, last);
      if (joined) {
        src.copyBody(out, at);
        writeOut(conn, sock, out);
      } else {
        flushPending(conn);
        sock.cork();
        sock.write(out);
        for (let i = 0; i < large.length; i++) sock.write(large[i]);
        sock.uncork();
      }
    }
    // send_timeout counts only for bytes the socket still holds: most hits are gone already.
    if (sock.writableLength !== 0) conn.sending();
    conn.responseEnded(this);
  }

  /**
   * Calls `done` once the socket has written every byte handed to it so far, or is gone (a
   * socket only reads a buffer while it writes it): a body written as views of a storage's
   * memory keeps its object pinned until then. At once when nothing waits; after end() with
   * the connection closing, at its 'finish' or 'close'. An answer held for the end of the turn
   * (turn-writes.ts) is a copy, never a view: it does not count.
   */
  whenWritten(done: () => void): void {
    const sock = this.#sock;
    if (sock.destroyed || sock.writableLength === 0) {
      done();
      return;
    }
    if (!sock.writableEnded) {
      // An empty write's callback comes after those before it (or with an error once destroyed).
      sock.write(EMPTY, () => done());
      return;
    }
    const once = (): void => {
      sock.off('finish', once);
      sock.off('close', once);
      done();
    };
    sock.once('finish', once);
    sock.once('close', once);
  }

  /** Cuts the connection: a response that cannot be finished must not look whole. */
  destroy(): void {
    this.finished = true;
    this.#conn.destroy('tx_error');
  }

  /**
   * Resolves when the socket takes more bytes or goes away. send_timeout (the whole response)
   * and idle_send_timeout (this one wait) cut a client that does not read.
   */
  drained(): Promise<void> {
    return this.#conn.drained();
  }
}
