// The state of one client or server connection while its spec runs, and the receive side of
// HTTP/1 as varnishtest does it: headers up to the blank line, split into the first line's
// three fields and raw "Name: value" lines; bodies by chunked encoding, Content-Length, or
// (for responses that may have one) until EOF; `bodylen` is text and reads "<undef>" until a
// body was read. Errors of the connection fail the test, unless `non_fatal` made them end
// only this connection's spec.

import type { Conn } from './conn.ts';
import { sleep, type TestContext } from './context.ts';
import type { Env } from './spec.ts';

/** Ends a spec run quietly after an I/O error under `non_fatal`. */
export class SessionEnded extends Error {
  override name = 'SessionEnded';
}

export interface SessionPeer {
  readonly ip: string;
  readonly port: string;
  readonly path: string | undefined;
}

export class HttpSession {
  readonly env: Env;
  readonly ctx: TestContext;
  readonly id: string;
  readonly isServer: boolean;
  conn: Conn | undefined;
  /** Accepts the next connection; servers only (the `accept` command). */
  readonly accept: (() => Promise<Conn>) | undefined;
  peer: SessionPeer;
  timeoutMs: number;
  fatal = true;
  /** Request and response: [method|proto, url|status, proto|reason, ...header lines]. */
  req: (string | undefined)[] = [];
  resp: (string | undefined)[] = [];
  body: string | undefined;
  bodylen = '';
  chunklen = '';
  headMethod = false;
  gzipLevel = 0;

  constructor(env: Env, conn: Conn, peer: SessionPeer, isServer: boolean, accept?: () => Promise<Conn>) {
    this.env = env;
    this.ctx = env.ctx;
    this.id = env.id;
    this.conn = conn;
    this.peer = peer;
    this.isServer = isServer;
    this.accept = accept;
    this.timeoutMs = env.ctx.ioTimeoutMs;
  }

  log(level: number, msg: string): void {
    this.ctx.log.emit(this.id, level, msg);
  }

  /** A failure of the connection: fails the test, or under non_fatal ends this spec run. */
  ioError(msg: string): never {
    if (this.fatal) this.ctx.fail(this.id, msg);
    this.log(1, `${msg} (non_fatal)`);
    throw new SessionEnded(msg);
  }

  /** The connection to write to; writing after `close` fails at once, as on a closed fd. */
  get c(): Conn {
    if (!this.conn) this.ioError('Write failed: no connection (it was closed)');
    return this.conn;
  }

  /**
   * The connection to read from. After `close` there is none: varnishtest then polls a closed
   * descriptor, which waits out the timeout and fails; so do we (a test may end meanwhile).
   */
  async rc(): Promise<Conn> {
    if (this.conn) return this.conn;
    await sleep(this.env.signal, this.timeoutMs);
    return this.ioError(`HTTP rx timeout (${this.timeoutMs} ms, no connection)`);
  }

  /** Reads exactly n bytes. */
  async rx(n: number): Promise<string> {
    const c = await this.rc();
    const r = await c.fill(n, this.timeoutMs);
    if (r === 'timeout') this.ioError(`HTTP rx timeout (${this.timeoutMs} ms)`);
    if (r === 'eof') this.ioError(`HTTP rx EOF (wanted ${n} bytes, got ${c.buffered})`);
    if (r === 'error') this.ioError(`HTTP rx failed (${c.error?.message})`);
    return c.take(n).toString('latin1');
  }

  /** Reads up to and including the next LF. */
  async rxLine(): Promise<string> {
    const c = await this.rc();
    for (;;) {
      const i = c.indexOf(0x0a, 0);
      if (i >= 0) return c.take(i + 1).toString('latin1');
      const r = await c.fill(c.buffered + 1, this.timeoutMs);
      if (r === 'timeout') this.ioError(`HTTP rx timeout (${this.timeoutMs} ms)`);
      if (r === 'eof') this.ioError('HTTP rx EOF');
      if (r === 'error') this.ioError(`HTTP rx failed (${c.error?.message})`);
    }
  }

  /** Reads the header block: everything up to CRLF CRLF (or LF LF). */
  async rxHeaders(): Promise<string> {
    this.body = undefined;
    this.bodylen = '<undef>';
    const c = await this.rc();
    for (;;) {
      const end = headerEnd(c);
      if (end > 0) {
        const hdr = c.take(end).toString('latin1');
        this.ctx.log.dump(this.id, 4, 'rxhdr', hdr);
        this.body = '';
        return hdr;
      }
      const r = await c.fill(c.buffered + 1, this.timeoutMs);
      if (r === 'timeout') this.ioError(`HTTP rx timeout (${this.timeoutMs} ms)`);
      if (r !== 'ok') {
        const got = c.take(c.buffered).toString('latin1');
        if (got.length > 0) this.ctx.log.dump(this.id, 4, 'rxhdr', got);
        this.ioError(r === 'eof' ? 'HTTP header is incomplete (EOF)' : `HTTP rx failed (${c.error?.message})`);
      }
    }
  }

  async rxReqHeaders(): Promise<void> {
    this.req = splitHeader(await this.rxHeaders());
    this.#checkContentLength(this.req);
  }

  async rxRespHeaders(): Promise<void> {
    this.resp = splitHeader(await this.rxHeaders());
    this.#checkContentLength(this.resp);
  }

  #checkContentLength(h: readonly (string | undefined)[]): void {
    let n = 0;
    for (let i = 3; i < h.length; i++) if (headerName(h[i]!, 'content-length')) n++;
    if (n > 1) this.ctx.fail(this.id, 'Multiple Content-Length headers.');
  }

  /**
   * Reads a body as the headers say: chunked, Content-Length, until EOF when `toEof` (a 200
   * response), or none. `max` > 0 stops after that many bytes.
   */
  async swallowBody(hh: readonly (string | undefined)[], toEof: boolean, max = 0): Promise<void> {
    if (this.body === undefined) this.body = '';
    const have = this.body.length;
    const te = findHeader(hh, 'transfer-encoding');
    const cl = findHeader(hh, 'content-length');
    let how: string;
    if (te !== undefined && te.toLowerCase() === 'chunked') {
      if (cl !== undefined) this.ioError('Both C-E: Chunked and C-L');
      for (;;) {
        const n = await this.rxChunk();
        if (n <= 0) break;
        if (max && this.body.length - have >= max) break;
      }
      how = 'chunked';
    } else if (cl !== undefined) {
      let want = Number.parseInt(cl, 10) || 0;
      if (max && want > have + max) want = max;
      else want -= have;
      if (want > 0) this.body += await this.rx(want);
      how = 'c-l';
    } else if (toEof) {
      const c = await this.rc();
      for (;;) {
        const r = await c.fill(1, this.timeoutMs);
        if (r === 'timeout') this.ioError(`HTTP rx timeout (${this.timeoutMs} ms)`);
        if (r === 'error') this.ioError(`HTTP rx failed (${c.error?.message})`);
        if (r === 'eof') break;
        const take = max ? Math.min(c.buffered, max - (this.body.length - have)) : c.buffered;
        this.body += c.take(take).toString('latin1');
        if (max && this.body.length - have >= max) break;
      }
      how = 'eof';
    } else {
      how = 'none';
    }
    if (how !== 'none') this.ctx.log.dump(this.id, 4, how, this.body.slice(have));
    this.bodylen = String(this.body.length);
    this.log(4, `bodylen = ${this.bodylen}`);
  }

  /** Reads one chunk into the body; gives its length, 0 for the last one. */
  async rxChunk(): Promise<number> {
    const line = await this.rxLine();
    this.ctx.log.dump(this.id, 4, 'len', line);
    const m = /^([0-9a-fA-F]+)([ \t\r\n][\s\S]*)?$/.exec(line);
    if (!m) this.ioError(`Chunklen fail (${JSON.stringify(line)})`);
    const n = Number.parseInt(m[1], 16);
    this.chunklen = String(n);
    if (n > 0) {
      const data = await this.rx(n);
      this.ctx.log.dump(this.id, 4, 'chunk', data);
      this.body = (this.body ?? '') + data;
    }
    const crlf = await this.rx(2);
    if (crlf !== '\r\n') this.ioError('Chunklen without CRLF');
    return n;
  }

  /** Writes bytes, logging them under `tag`. */
  async tx(tag: string, data: string): Promise<void> {
    this.ctx.log.dump(this.id, 4, tag, data);
    try {
      await this.c.write(data);
    } catch (e) {
      if (e instanceof Error && e.name === 'VtcAborted') throw e;
      this.ioError(`Write failed: ${(e as Error).message}`);
    }
  }
}

/** Where the header block ends (just past the blank line), or 0 if it is not complete yet. */
function headerEnd(c: Conn): number {
  // As varnishtest: CR? LF, then CR? LF, ends the block.
  let s = 0;
  for (let k = 0; k < c.buffered; k++) {
    const b = c.at(k);
    if (s === 0 && b === 0x0d) s = 1;
    else if ((s === 0 || s === 1) && b === 0x0a) s = 2;
    else if (s === 2 && b === 0x0d) s = 3;
    else if ((s === 2 || s === 3) && b === 0x0a) return k + 1;
    else s = 0;
  }
  return 0;
}

/** Splits a header block into [first, second, third, ...header lines]; third may be unset. */
export function splitHeader(block: string): (string | undefined)[] {
  const lines = block.replace(/^[ \t\r\n]+/, '').split(/\r?\n/);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const first = lines.shift() ?? '';
  const m = /^[ \t]*(\S*)[ \t]*(\S*)(?:[ \t]+(.*))?$/.exec(first);
  // "HTTP/1.1 200 " has an empty third field; "HTTP/1.1 200" has none.
  const out: (string | undefined)[] = [m?.[1] ?? '', m?.[2] ?? '', m?.[3]];
  for (const l of lines) out.push(l);
  return out;
}

function headerName(line: string, lower: string): boolean {
  return line.length > lower.length && line[lower.length] === ':' && line.slice(0, lower.length).toLowerCase() === lower;
}

/** The value of the first header named `name` (blanks after the colon skipped), or undefined. */
export function findHeader(hh: readonly (string | undefined)[], name: string): string | undefined {
  const lower = name.toLowerCase();
  for (let i = 3; i < hh.length; i++) {
    const line = hh[i];
    if (line !== undefined && headerName(line, lower)) return line.slice(lower.length + 1).replace(/^[ \t]+/, '');
  }
  return undefined;
}
