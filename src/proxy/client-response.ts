// What the client side writes a response to: the HTTP/1 layer's response on a connection
// (src/http1/response.ts), or, for an ESI include, the collector that hands what the include
// delivers to its parent page (src/proxy/esi-include.ts). deliver.ts and the client state
// machine use nothing else.

import type { HeaderList, StoredSource } from '../http1/response.ts';

export interface ClientResponse {
  statusCode: number;
  statusMessage: string;
  readonly headersSent: boolean;
  /** The response ended (end(), endAll() or destroy()). */
  readonly finished: boolean;
  readonly destroyed: boolean;
  /** Close the connection after this response. */
  close: boolean;
  /** Sets the head: `raw` holds name, value, name, value, …; `unknownLength`: no Content-Length. */
  writeHead(status: number, reason: string, raw: readonly string[], unknownLength?: boolean): void;
  /** Sends the head now, before the body's first bytes (which may be slow to come). */
  flushHead(): void;
  /** Writes body bytes; false when the reader's buffer is full (wait with drained()). */
  write(chunk: Uint8Array | string): boolean;
  end(chunk?: Uint8Array | string): void;
  /** Ends the response with a body in pieces. */
  endAll(chunks: readonly Uint8Array[]): void;
  /**
   * Writes a whole response whose head is a stored block (a cache hit, stored-head.ts): the
   * block (`head`, or that many bytes of the object's own), the lines of `lines` from `from` on,
   * Content-Length, the Connection line, then the body (copied from `src`, or `large`'s pieces).
   * Only the HTTP/1 layer's response has it; an ESI include's collector takes the general way.
   */
  endStored?(status: number, reason: string, head: Buffer | number, lines: HeaderList, from: number, src: StoredSource, large: readonly Uint8Array[] | null): void;
  /**
   * Calls `done` once what was handed over so far has been written out (or the reader is
   * gone), so that a body may be given as views of a storage's memory. Only the HTTP/1 layer's
   * response has it; an ESI include's collector keeps what it is given, and gets copies.
   */
  whenWritten?(done: () => void): void;
  /** Cuts the response: what was sent must not look whole. */
  destroy(): void;
  /** Resolves when the reader takes more bytes, or is gone. */
  drained(): Promise<void>;
}
