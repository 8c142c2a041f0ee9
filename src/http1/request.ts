// One request as the HTTP/1 layer hands it to the proxy: the head (fields and headers as
// sent, Expect taken off, an absolute URL's authority moved into Host), its body as a stream,
// and the few things only the connection can do: answer 100-continue, give its socket away
// (pipe), and say the request is over so that the next one is read.

import type { Socket } from 'node:net';
import { BodyError, readBody } from './body.ts';
import type { CloseReason } from './close-reasons.ts';
import type { ProxyInfo } from './proxy-protocol.ts';
import type { Http1Connection } from './connection.ts';
import type { RequestHead } from './framing.ts';
import type { Http1Response } from './response.ts';
import { flushPending } from './turn-writes.ts';

export class Http1Request {
  readonly head: RequestHead;
  readonly res: Http1Response;
  readonly socket: Socket;
  /** Bytes of the head, from the method to the empty line. */
  readonly headBytes: number;
  /** A 100 Continue is owed before the body is read (HTTP/1.1, and no body bytes came yet). */
  want100: boolean;
  /** 'unread', being read, read to its end, or broken (the connection cannot go on). */
  bodyState: 'unread' | 'reading' | 'done' | 'failed';
  readonly #conn: Http1Connection;

  constructor(conn: Http1Connection, socket: Socket, head: RequestHead, res: Http1Response, headBytes: number, want100: boolean) {
    this.#conn = conn;
    this.socket = socket;
    this.head = head;
    this.res = res;
    this.headBytes = headBytes;
    this.want100 = want100;
    this.bodyState = head.body.kind === 'none' ? 'done' : 'unread';
  }

  /** The listener it came in on: its name and address (local.socket, local.endpoint). */
  get listener(): { readonly name: string; readonly endpoint: string } | null {
    return this.#conn.listener;
  }

  /** What the connection's PROXY header said (PROXY listeners only). */
  get proxied(): ProxyInfo | null {
    return this.#conn.proxied;
  }

  get hasBody(): boolean {
    return this.head.body.kind !== 'none';
  }

  /** Sends `HTTP/1.1 100 Continue` if it is owed, once. */
  send100(): void {
    if (!this.want100) return;
    this.want100 = false;
    flushPending(this.#conn);
    if (!this.socket.destroyed) this.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
  }

  /**
   * The body's bytes as they come, once. A broken framing or a client gone mid-body throws a
   * BodyError, and the connection closes after the response.
   */
  async *body(): AsyncGenerator<Buffer> {
    if (this.bodyState !== 'unread') {
      if (this.bodyState === 'failed') throw new BodyError('request body already failed');
      return;
    }
    this.bodyState = 'reading';
    this.send100();
    try {
      for await (const piece of readBody(this.#conn, this.head.body)) yield piece;
      this.bodyState = 'done';
    } catch (e) {
      this.bodyState = 'failed';
      this.res.close = true;
      this.#conn.closeReason('rx_body');
      throw e;
    } finally {
      if (this.bodyState === 'reading') {
        // The reader stopped before the end: what is left cannot be framed any more.
        this.bodyState = 'failed';
        this.res.close = true;
      }
    }
  }

  /**
   * Reads and drops a body nobody read, before a response that does not need it (a hit, a
   * synth), as Varnish's VRB_Ignore: undefined when there is none. When it cannot be read to
   * its end (broken, or timeout_idle without a byte) the response closes the connection.
   */
  discardBody(): Promise<void> | undefined {
    if (this.bodyState !== 'unread') return undefined;
    return (async () => {
      try {
        for await (const _ of this.body()) {
          // dropped
        }
      } catch {
        // body() marked the connection to close
      }
    })();
  }

  /**
   * Hands the socket over (pipe): the connection stops reading requests from it. Returns what
   * the client sent after the head and was read already, to be forwarded first.
   */
  takeOver(): { socket: Socket; buffered: Buffer } {
    return { socket: this.socket, buffered: this.#conn.takeOver() };
  }

  /** Closes the connection after the response, for this reason (MAIN.sc_*). */
  closeAfter(reason: CloseReason): void {
    this.res.close = true;
    this.#conn.closeReason(reason);
  }

  /** The proxy is done with this request: the next one on the connection may start. */
  done(): void {
    this.#conn.requestDone(this);
  }
}
