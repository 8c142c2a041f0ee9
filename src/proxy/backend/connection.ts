// One connection to a backend, as the response reader sees it: the bytes received and not yet
// used (a ReceiveBuffer, as on the client side) and a way to wait for more. The socket reads
// ahead at most READ_AHEAD bytes and is paused past that, so a response body nobody reads
// slows the backend instead of filling memory. A wait has a deadline (first_byte_timeout or
// between_bytes_timeout) that runs only while someone waits: a reader that holds back is not
// the backend's stall. While the connection idles in its pool, a byte or an end from the
// backend makes it unusable.

import type { Socket } from 'node:net';
import { ReceiveBuffer } from '../../http1/receive-buffer.ts';
import type { ByteSource } from '../../http1/body.ts';
import { flushPending, type TurnWriter } from '../../http1/turn-writes.ts';
import type { BackendFailureKind } from './failure.ts';

const READ_AHEAD = 64 * 1024;

/** Why a wait ended without bytes: the kind a fetch fails with. */
export interface ConnectionFault {
  readonly kind: BackendFailureKind;
  readonly message: string;
  readonly code: string | undefined;
}

export class BackendConnection implements ByteSource, TurnWriter {
  readonly socket: Socket;
  readonly buf = new ReceiveBuffer();
  /** Requests this connection has carried: more than 0 means it is a reused one. */
  requests = 0;
  /** Set once the backend ended, reset or timed out: no more bytes will come. */
  fault: ConnectionFault | null = null;
  /** The backend sent its end of stream (a clean end for a body read to the close). */
  ended = false;
  /** What a wait that runs out is (first byte or between bytes) and how long it may take. */
  waitKind: 'first_byte_timeout' | 'between_bytes_timeout' = 'first_byte_timeout';
  waitMs = 0;
  /** Bytes received on it, all exchanges together (a request that got none may be retried). */
  received = 0;
  /** When it was last parked in its pool (performance.now()). */
  parkedAt = 0;
  /** A request waiting for the end of this turn (turn-writes.ts). */
  pendingOut: Buffer | null = null;
  #wake: ((more: boolean) => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #idle: (() => void) | null = null;

  readonly #onDataBound = (chunk: Buffer): void => this.#onData(chunk);
  readonly #onEnd = (): void => {
    this.ended = true;
    this.#stop({ kind: 'reset', message: 'backend closed the connection', code: undefined });
  };
  readonly #onError = (err: NodeJS.ErrnoException): void => this.#stop({ kind: 'reset', message: err.message, code: err.code });
  readonly #onClose = (): void => this.#stop({ kind: 'reset', message: 'connection closed', code: undefined });

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', this.#onDataBound);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
  }

  /** Whether it can carry a request: open, nothing unread, nothing wrong. */
  get usable(): boolean {
    return this.fault === null && !this.socket.destroyed && this.buf.size === 0;
  }

  peek(): Buffer {
    return this.buf.peek();
  }

  take(n: number): void {
    this.buf.take(n);
    if (this.buf.size < READ_AHEAD && this.socket.isPaused() && this.#idle === null) this.socket.resume();
  }

  /** Resolves true when more bytes came, false when none will (see `fault`). */
  more(): Promise<boolean> {
    if (this.fault !== null) return Promise.resolve(false);
    this.socket.resume();
    return new Promise((resolve) => {
      this.#wake = resolve;
      if (this.waitMs > 0) {
        const kind = this.waitKind;
        const ms = this.waitMs;
        this.#timer = setTimeout(() => {
          this.#timer = null;
          const what = kind === 'first_byte_timeout' ? 'first byte' : 'between bytes';
          this.destroy({ kind, message: `${what} timeout (${ms / 1000}s)`, code: undefined });
        }, ms);
      }
    });
  }

  /** Closes it for good; a waiting reader sees `fault`. */
  destroy(fault: ConnectionFault = { kind: 'aborted', message: 'connection closed by Shellac', code: undefined }): void {
    this.#stop(fault);
    this.socket.destroy();
  }

  /** Parked in a pool: any byte or end from the backend now calls `onLost`. */
  idle(onLost: () => void): void {
    this.#idle = onLost;
    this.socket.resume();
  }

  /** Taken from the pool for a request. */
  busy(): void {
    this.#idle = null;
  }

  /** Handed to a pipe: it reads the socket itself from now on. */
  detach(): Socket {
    flushPending(this);
    this.#idle = null;
    const socket = this.socket;
    socket.off('data', this.#onDataBound);
    socket.off('end', this.#onEnd);
    socket.off('error', this.#onError);
    socket.off('close', this.#onClose);
    // Flowing still: the pipe's own 'data' listener, added before any I/O, gets what comes next.
    socket.resume();
    return socket;
  }

  #onData(chunk: Buffer): void {
    if (this.#idle !== null) {
      // Bytes nobody asked for: the connection cannot be trusted with a request.
      this.destroy({ kind: 'garbage', message: 'bytes from the backend on an idle connection', code: undefined });
      return;
    }
    this.received += chunk.length;
    this.buf.append(chunk);
    if (this.buf.size >= READ_AHEAD) this.socket.pause();
    this.#settle(true);
  }

  #stop(fault: ConnectionFault): void {
    if (this.fault === null) this.fault = fault;
    const lost = this.#idle;
    this.#idle = null;
    lost?.();
    this.#settle(false);
  }

  #settle(more: boolean): void {
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    const wake = this.#wake;
    if (wake !== null) {
      this.#wake = null;
      wake(more);
    }
  }
}
