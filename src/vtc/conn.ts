// One test connection: a socket with a receive buffer read exactly (bytes not yet asked for
// stay for the next command, as varnishtest's byte-by-byte reads leave them in the kernel),
// reads that give up after an inactivity timeout, and writes that finish when the kernel
// has the data. Everything is latin1 strings or Buffers: bytes, not text.

import type { Socket } from 'node:net';
import { abortable } from './context.ts';

export type FillResult = 'ok' | 'eof' | 'timeout' | 'error';

/** Above this, stop reading from the socket until the test consumes the buffer. */
const HIGH_WATER = 4 << 20;

export class Conn {
  readonly socket: Socket;
  readonly #signal: AbortSignal;
  #buf: Buffer = Buffer.alloc(0);
  #eof = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(socket: Socket, signal: AbortSignal) {
    this.socket = socket;
    this.#signal = signal;
    socket.on('data', (chunk: Buffer) => {
      this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
      if (this.#buf.length > HIGH_WATER) socket.pause();
      this.#wake?.();
    });
    socket.on('end', () => {
      this.#eof = true;
      this.#wake?.();
    });
    socket.on('close', () => {
      this.#eof = true;
      this.#wake?.();
    });
    socket.on('error', (e) => {
      this.#error = e;
      this.#wake?.();
    });
  }

  get buffered(): number {
    return this.#buf.length;
  }

  get error(): Error | undefined {
    return this.#error;
  }

  /**
   * Waits until `n` bytes are buffered. The timeout counts from the last byte received, as a
   * poll() before each read does. Gives 'eof' or 'error' when the peer is gone first.
   */
  async fill(n: number, timeoutMs: number): Promise<FillResult> {
    while (this.#buf.length < n) {
      if (this.#error) return 'error';
      if (this.#eof) return 'eof';
      const r = await this.#waitData(timeoutMs);
      if (r === 'timeout') return 'timeout';
    }
    return 'ok';
  }

  /** Removes and returns the first `n` buffered bytes (n ≤ buffered). */
  take(n: number): Buffer {
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    if (this.socket.isPaused() && this.#buf.length < HIGH_WATER) this.socket.resume();
    return out;
  }

  /** The byte at `i` of the buffer without consuming it. */
  at(i: number): number {
    return this.#buf[i];
  }

  indexOf(byte: number, from: number): number {
    return this.#buf.indexOf(byte, from);
  }

  /**
   * Waits for the peer to close, skipping blank bytes. Gives 'eof' on a close or reset,
   * 'timeout', or 'data' with the first unexpected byte.
   */
  async waitClose(timeoutMs: number): Promise<{ kind: 'eof' | 'timeout' } | { kind: 'data'; byte: number }> {
    for (;;) {
      while (this.#buf.length > 0) {
        const b = this.#buf[0];
        if (b === 0x20 || b === 0x09 || b === 0x0d || b === 0x0a) this.take(1);
        else return { kind: 'data', byte: b };
      }
      if (this.#eof || this.#error) return { kind: 'eof' };
      if ((await this.#waitData(timeoutMs)) === 'timeout') return { kind: 'timeout' };
    }
  }

  /** Writes and waits until the data is handed to the kernel; rejects on a socket error. */
  write(data: Buffer | string): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    if (this.socket.destroyed || !this.socket.writable) {
      return Promise.reject(this.#error ?? new Error('connection closed'));
    }
    return abortable(this.#signal, (resolve, reject) => {
      this.socket.write(buf, (err) => (err ? reject(err) : resolve()));
      return () => {};
    });
  }

  /** Sends FIN, keeps reading. */
  shutdownWrite(): void {
    if (!this.socket.destroyed) this.socket.end();
  }

  /** Closes the socket at once. */
  close(): void {
    this.socket.destroy();
  }

  #waitData(timeoutMs: number): Promise<'data' | 'timeout'> {
    return abortable(this.#signal, (resolve) => {
      const t = setTimeout(() => resolve('timeout'), Math.max(0, timeoutMs));
      this.#wake = () => resolve('data');
      return () => {
        clearTimeout(t);
        this.#wake = undefined;
      };
    });
  }
}
