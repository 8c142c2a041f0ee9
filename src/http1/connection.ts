// One client connection: reads a head, hands the request over, and reads the next head only
// when that request is done, as Varnish's HTTP/1 session does. Bytes that come early (a
// pipelined request, even half of one) wait in the buffer: MAIN.sess_readahead counts the
// requests that find bytes there. A refused head gets its 400 (or 417) and the connection is
// closed: nothing after it is ever read as a request. timeout_idle bounds the wait for a
// complete head (the first timeout_linger of it counted as Varnish counts its linger); a
// client that half-closes still gets its answers.

import type { Socket } from 'node:net';
import type { ByteSource } from './body.ts';
import { CLOSE_REASONS, type CloseReason, type Http1Counters } from './close-reasons.ts';
import { type Framed, frameRequest, type Refusal } from './framing.ts';
import { type LinesMemo, newLinesMemo, parseHead, scanHead } from './head.ts';
import { type ProxyInfo, parseProxyHeader } from './proxy-protocol.ts';
import { Http1Request } from './request.ts';
import { ReceiveBuffer } from './receive-buffer.ts';
import { Http1Response } from './response.ts';
import { flushPending, type TurnWriter } from './turn-writes.ts';

/** The parameters the layer reads, live (param.set applies to the next request). */
export interface Http1Settings {
  readonly http_req_size: number;
  readonly http_req_hdr_len: number;
  readonly http_max_hdr: number;
  readonly timeout_idle: number;
  readonly timeout_linger: number;
  readonly send_timeout: number;
  readonly idle_send_timeout: number;
}

export interface Http1Handler {
  /** A well-formed request; the handler answers through req.res and calls req.done(). */
  request(req: Http1Request): void;
  /** A head refused before any VCL (or a connection closed for a reason worth a log line). */
  refused(reason: string, status: number): void;
}

export interface Http1Context {
  readonly settings: Http1Settings;
  /** The listener was declared `,PROXY`: each connection starts with a PROXY header. */
  readonly proxy?: boolean;
  /** The listener's name and bound address (local.socket, local.endpoint), once it listens. */
  readonly listener?: { readonly name: string; endpoint: string };
  readonly httpsScheme: () => boolean;
  readonly counters: Http1Counters;
  readonly handler: Http1Handler;
}

/** Bytes buffered ahead of a busy request past which the socket stops reading. */
const READ_AHEAD_LIMIT = 256 * 1024;
/** Bytes of answers waiting for a client to read past which its next request waits (see #afterBody). */
const SEND_AHEAD_LIMIT = 256 * 1024;
/** Pipelined requests served in one go before the others' turn (see #pump). */
const PIPELINE_RUN = 32;
/** How long a closing connection waits for the client to close its side (see #finish). */
const LINGER_MS = 2000;

export class Http1Connection implements ByteSource, TurnWriter {
  readonly socket: Socket;
  readonly listener: { readonly name: string; readonly endpoint: string } | null;
  readonly counters: Http1Counters;
  readonly #ctx: Http1Context;
  readonly #in = new ReceiveBuffer();
  #eof = false;
  #state: 'proxy' | 'head' | 'busy' | 'taken' | 'closing';
  /** What the PROXY header said, on a PROXY listener. */
  proxied: ProxyInfo | null = null;
  #current: Http1Request | null = null;
  #reason: CloseReason | null = null;
  #wake: ((more: boolean) => void) | null = null;
  #idle: NodeJS.Timeout | null = null;
  #idleMs = 0;
  /** The idle timer runs timeout_linger's part of the wait (see #armIdle). */
  #lingering = false;
  #pumping = false;
  #counted = false;
  #sendStarted = 0;
  /** The last header lines read here (head.ts): made at the second request. */
  #memo: LinesMemo | undefined = undefined;
  #heads = 0;
  /** An answer waiting for the end of this turn (turn-writes.ts). */
  pendingOut: Buffer | null = null;

  constructor(socket: Socket, ctx: Http1Context) {
    this.socket = socket;
    this.#ctx = ctx;
    this.counters = ctx.counters;
    this.listener = ctx.listener ?? null;
    this.#state = ctx.proxy === true ? 'proxy' : 'head';
    ctx.counters.sess_conn++;
    ctx.counters.s_sess++;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', () => this.closeReason(this.#state === 'busy' ? 'tx_error' : 'rem_close'));
    socket.on('close', () => this.#onClose());
    this.#armIdle();
  }

  // ---- ByteSource: what a request body reads ----

  peek(): Buffer {
    return this.#in.peek();
  }

  take(n: number): void {
    this.#in.take(n);
  }

  /** Waits for body bytes; timeout_idle without any ends the body, as Varnish reads one. */
  more(): Promise<boolean> {
    if (this.#eof || this.socket.destroyed || this.#state === 'taken') return Promise.resolve(false);
    if (this.socket.isPaused()) this.socket.resume();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve(false);
      }, Math.max(1, this.#ctx.settings.timeout_idle * 1000));
      this.#wake = (more) => {
        clearTimeout(timer);
        resolve(more);
      };
    });
  }

  // ---- what a request and its response call ----

  /** Notes why the connection will close (the first reason stays). */
  closeReason(reason: CloseReason): void {
    this.#reason ??= reason;
  }

  responseEnded(res: Http1Response): void {
    if (res.close) this.closeReason(this.#current?.head.close ? (this.#current.head.protover < 11 ? 'req_http10' : 'req_close') : 'resp_close');
  }

  requestDone(req: Http1Request): void {
    if (req !== this.#current || this.#state !== 'busy') return;
    this.#current = null;
    const res = req.res;
    if (!res.finished) {
      // The proxy gave up on a response it began: cut it rather than leave it looking whole.
      this.destroy('tx_error');
      return;
    }
    if (res.close) {
      this.#finish(null);
      return;
    }
    const discarding = req.discardBody();
    if (discarding !== undefined) {
      // An unread body stands between this request and the next: read it and drop it (the
      // state stays busy, so that its bytes keep coming in).
      void discarding.then(() => this.#afterBody(req));
      return;
    }
    this.#afterBody(req);
  }

  /** The next request, once the body before it is read to its end; else the close. */
  #afterBody(req: Http1Request): void {
    if (this.socket.destroyed || this.#state !== 'busy') return;
    // A body still being read (a backend answered before taking it all) or broken cannot be
    // told apart from the next request: the connection ends here.
    if (req.bodyState !== 'done') this.#finish('rx_body');
    else if (this.socket.writableLength > SEND_AHEAD_LIMIT) {
      // The client is not reading what it was sent: its next request waits until it does (or
      // until send_timeout / idle_send_timeout cut it), so that a client pipelining requests
      // it never reads cannot make the answers pile up in memory.
      void this.drained().then(() => {
        if (this.#state === 'busy' && !this.socket.destroyed) this.#next();
      });
    } else this.#next();
  }

  /** Takes the socket away from request reading (pipe); returns the bytes read ahead. */
  takeOver(): Buffer {
    flushPending(this);
    const rest = this.peek();
    this.#in.clear();
    this.#state = 'taken';
    this.#current = null;
    this.#clearIdle();
    this.socket.pause();
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('end');
    this.#wake?.(false);
    this.#wake = null;
    return rest;
  }

  destroy(reason: CloseReason): void {
    this.pendingOut = null;
    this.closeReason(reason);
    this.#state = 'closing';
    this.#count();
    this.socket.destroy();
  }

  /** Counts the close once, when it is decided (or when the socket goes, for the client's). */
  #count(): void {
    if (this.#counted) return;
    this.#counted = true;
    const c = this.counters;
    const reason = this.#reason ?? (this.#state === 'taken' ? 'tx_pipe' : 'rem_close');
    c.sess_closed++;
    if (CLOSE_REASONS[reason]) c.sess_closed_err++;
    c[`sc_${reason}`]++;
  }

  /** A response starts: send_timeout counts from here. */
  sending(): void {
    this.#sendStarted = Date.now();
  }

  /** send_timeout has passed since the response started: the caller cuts the connection. */
  sendExpired(): boolean {
    const t = this.#ctx.settings.send_timeout;
    return t > 0 && Date.now() - this.#sendStarted > t * 1000;
  }

  /** Resolves when the socket drains or closes; enforces send_timeout and idle_send_timeout. */
  drained(): Promise<void> {
    const sock = this.socket;
    // Gone already: 'close' will not come again.
    if (sock.destroyed) return Promise.resolve();
    const s = this.#ctx.settings;
    const left = s.send_timeout > 0 ? s.send_timeout * 1000 - (Date.now() - this.#sendStarted) : Number.POSITIVE_INFINITY;
    const wait = Math.min(left, s.idle_send_timeout > 0 ? s.idle_send_timeout * 1000 : Number.POSITIVE_INFINITY);
    return new Promise((resolve) => {
      const done = (): void => {
        sock.off('drain', done);
        sock.off('close', done);
        if (timer !== null) clearTimeout(timer);
        resolve();
      };
      const timer = Number.isFinite(wait) ? setTimeout(() => this.destroy('tx_error'), Math.max(0, wait)) : null;
      sock.on('drain', done);
      sock.on('close', done);
    });
  }

  // ---- the loop ----

  #onData(chunk: Buffer): void {
    if (this.#state === 'closing') return;
    this.#in.append(chunk);
    const wake = this.#wake;
    if (wake !== null) {
      this.#wake = null;
      wake(true);
    }
    if (this.#state === 'head' || this.#state === 'proxy') this.#pump();
    else if (this.#in.size > READ_AHEAD_LIMIT) this.socket.pause();
  }

  #onEnd(): void {
    this.#eof = true;
    const wake = this.#wake;
    this.#wake = null;
    wake?.(false);
    if (this.#state === 'head' || this.#state === 'proxy') this.#pump();
    else if (this.#state === 'closing' && this.#current === null) this.socket.destroy();
  }

  #onClose(): void {
    this.#clearIdle();
    this.#count();
    const wake = this.#wake;
    this.#wake = null;
    wake?.(false);
  }

  /** After a request: the next head, at once when its bytes came ahead. */
  #next(): void {
    this.#state = 'head';
    if (this.#in.size > 0) this.counters.sess_readahead++;
    this.#armIdle();
    if (!this.#pumping) this.#pump();
  }

  /**
   * Reads heads and hands requests over while requests finish at once (a run of hits). When
   * pipelined heads wait behind the first, the socket is corked until the run ends, so that
   * their answers leave in one writev rather than one write each; after PIPELINE_RUN requests
   * the rest waits for the next turn of the event loop, so that one client's long pipeline
   * does not hold back every other connection's requests (their latency, p99).
   */
  #pump(): void {
    this.#pumping = true;
    let served = 0;
    let corked = false;
    try {
      if (this.#state === 'proxy' && !this.#readProxy()) return;
      while (this.#state === 'head') {
        if (!this.#readHead()) break;
        if (this.#in.size === 0) continue;
        if (!corked && !this.socket.destroyed) {
          this.socket.cork();
          corked = true;
        }
        if (++served >= PIPELINE_RUN && this.#state === 'head') {
          setImmediate(this.#resume);
          break;
        }
      }
    } finally {
      this.#pumping = false;
      if (corked) this.socket.uncork();
    }
  }

  /** The rest of a pipeline, a turn later (see #pump). */
  readonly #resume = (): void => {
    if (this.#state === 'head' && !this.#pumping) this.#pump();
  };

  /** The PROXY header; false while it is incomplete, or when it was refused. */
  #readProxy(): boolean {
    const r = parseProxyHeader(this.peek());
    if (r.kind === 'more') {
      if (this.#eof) this.#finish('rem_close');
      return false;
    }
    if (r.kind === 'bad') {
      this.#ctx.handler.refused(r.reason, 0);
      this.#finish('rx_junk');
      return false;
    }
    this.take(r.length);
    this.proxied = r.info;
    this.#state = 'head';
    return true;
  }

  /** One head from the buffer; false when there is none yet (or the connection is over). */
  #readHead(): boolean {
    const s = this.#ctx.settings;
    const input = this.#in;
    const buf = input.bytes;
    const scan = scanHead(buf, input.start, input.end, s.http_req_size, input.start + input.scanned);
    switch (scan.kind) {
      case 'empty':
        input.take(scan.skip - input.start);
        if (this.#eof) this.#finish('rem_close');
        return false;
      case 'more':
        if (scan.skip > input.start) input.take(scan.skip - input.start);
        // The end of a head is at most 3 bytes long: the next search starts just before here.
        input.scanned = Math.max(0, input.size - 3);
        if (this.#eof) this.#finish('rem_close');
        return false;
      case 'overflow':
        // Past http_req_size: varnishd closes without a word.
        this.#ctx.handler.refused('request head larger than http_req_size', 0);
        this.#finish('rx_overflow');
        return false;
      case 'complete':
        break;
    }
    const { start, end } = scan;
    this.counters.s_req_hdrbytes += end - start;
    if (isH2Preface(buf, start, end)) {
      this.#finish('req_http20');
      return false;
    }
    // A connection that came back for a second request is likely to send the same lines again.
    if (++this.#heads === 2) this.#memo = newLinesMemo();
    const parsed = parseHead(buf, start, end, s, this.#memo);
    const framed: Framed = typeof parsed !== 'string' ? frameRequest(parsed, this.#ctx.httpsScheme) : { ok: false, status: 400, reason: parsed, close: 'rx_junk' };
    if (!framed.ok) {
      this.refuse(framed);
      return false;
    }
    input.take(end - input.start);
    // The idle timer keeps running while the request is served (it finds the connection busy
    // and does nothing); re-arming it for the next head is then one refresh, no new timer.
    const head = framed;
    const want100 = head.expect100 && head.protover >= 11 && input.size === 0;
    const res = new Http1Response(this, this.socket, head.close, head.protover >= 11);
    const req = new Http1Request(this, this.socket, head, res, end - start, want100);
    this.#state = 'busy';
    this.#current = req;
    try {
      this.#ctx.handler.request(req);
    } catch (e) {
      // A bug on the proxy side ends this connection, not the process.
      this.#ctx.handler.refused(`request handler failed: ${e instanceof Error ? e.message : String(e)}`, 500);
      this.destroy('tx_error');
      return false;
    }
    return true;
  }

  /**
   * Refuses a request with a bare status line, as varnishd does, and closes: the bytes after
   * it (a smuggled request, a body) are never read.
   */
  refuse(r: Refusal): void {
    const c = this.counters;
    if (r.status === 417) c.client_req_417++;
    else c.client_req_400++;
    this.#ctx.handler.refused(r.reason, r.status);
    flushPending(this);
    if (!this.socket.destroyed) this.socket.write(r.status === 417 ? 'HTTP/1.1 417 Expectation Failed\r\n\r\n' : 'HTTP/1.1 400 Bad Request\r\n\r\n', 'latin1');
    this.#current = null;
    this.#finish(r.close);
  }

  /**
   * Stops reading requests and closes: our side ends after what was written, and the socket
   * goes when the client closes its side (or LINGER_MS later). Closing at once with unread
   * bytes would reset the connection, and the client could lose the answer it was sent.
   */
  #finish(reason: CloseReason | null): void {
    if (reason !== null) this.closeReason(reason);
    this.#state = 'closing';
    this.#count();
    this.#clearIdle();
    this.#in.clear();
    const sock = this.socket;
    flushPending(this);
    if (sock.destroyed) return;
    sock.end();
    if (this.#eof) return;
    sock.resume();
    setTimeout(() => sock.destroy(), LINGER_MS).unref();
  }

  /**
   * Starts the wait for a head: timeout_linger first, then the rest of timeout_idle. Varnish's
   * worker thread lingers that long on the connection before it hands it to the waiter
   * (MAIN.sess_herd); Shellac has no thread to give back, so the end of the linger is only
   * counted as Varnish counts it, and the whole wait stays timeout_idle. While requests come
   * within the linger (a busy keep-alive connection), re-arming is one refresh of one timer.
   */
  #armIdle(): void {
    const s = this.#ctx.settings;
    const idle = Math.max(1, s.timeout_idle * 1000);
    const linger = s.timeout_linger * 1000;
    this.#lingering = linger > 0 && linger < idle;
    // No linger at all: the connection is handed over at once unless bytes are waiting.
    if (linger <= 0 && this.#in.size === 0) this.counters.sess_herd++;
    this.#setTimer(this.#lingering ? linger : idle);
  }

  #setTimer(ms: number): void {
    if (this.#idle !== null && ms === this.#idleMs) {
      this.#idle.refresh();
      return;
    }
    if (this.#idle !== null) clearTimeout(this.#idle);
    this.#idleMs = ms;
    this.#idle = setTimeout(() => this.#idleFired(), ms);
    this.#idle.unref();
  }

  #clearIdle(): void {
    if (this.#idle !== null) {
      clearTimeout(this.#idle);
      this.#idle = null;
    }
  }

  #idleFired(): void {
    // Busy: a refresh when the request is done starts the wait again.
    if (this.#state === 'busy') return;
    this.#idle = null;
    if (this.#state !== 'head' && this.#state !== 'proxy') return;
    if (this.#lingering) {
      // The linger is over: with no byte of a next request, Varnish would herd it now.
      this.#lingering = false;
      if (this.#in.size === 0) this.counters.sess_herd++;
      const s = this.#ctx.settings;
      this.#setTimer(Math.max(1, (s.timeout_idle - s.timeout_linger) * 1000));
      return;
    }
    // Bytes of a head that never completed, or nothing at all since the last request.
    this.#finish(this.#in.size > 0 ? 'rx_timeout' : 'rx_close_idle');
    this.socket.destroy();
  }
}

const PRI = Buffer.from('PRI * HTTP/2.0\r\n\r\n', 'latin1');

/** HTTP/2's connection preface: varnishd without the http2 feature closes without answering. */
function isH2Preface(buf: Buffer, start: number, end: number): boolean {
  return end - start === PRI.length && buf.compare(PRI, 0, PRI.length, start, end) === 0;
}
