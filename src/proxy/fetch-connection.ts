// Which backend connection a fetch went out on, for its transaction record's BackendOpen line
// (`shellac log`, `shellac top -i BackendOpen`): the descriptor, both ends and whether the
// connection was opened for it or reused. The backend client announces each request it writes
// on a diagnostics channel (SEND_HEADERS_CHANNEL), with the socket and the head's text; the
// head carries the fetch's X-Varnish (unless VCL took it off: then there is no BackendOpen
// line). The channel is
// listened to only while a fetch whose record is kept waits for its connection, so a fetch
// nobody logs costs nothing.

import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { SEND_HEADERS_CHANNEL } from './backend/fetch.ts';

export interface BackendConnection {
  /** The socket's file descriptor (-1 when node does not tell). */
  readonly fd: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Varnish's last field: `connect` for a new connection, `reuse` for a kept-alive one. */
  readonly how: 'connect' | 'reuse';
}

const CHANNEL = SEND_HEADERS_CHANNEL;
const X_VARNISH = /(?:^|\r\n)x-varnish: *(\d+)\r\n/i;

/** Fetches waiting for their connection, by xid. */
const waiting = new Map<number, (c: BackendConnection) => void>();

function onSendHeaders(message: unknown): void {
  const { headers, socket } = message as { headers?: unknown; socket?: Socket };
  if (typeof headers !== 'string' || socket == null) return;
  const m = X_VARNISH.exec(headers);
  const tell = m === null ? undefined : waiting.get(Number(m[1]));
  if (tell === undefined) return;
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  tell({
    fd: typeof fd === 'number' ? fd : -1,
    // A Unix socket has no addresses: Varnish names both ends 0.0.0.0 0.
    remoteAddress: socket.remoteAddress ?? '0.0.0.0',
    remotePort: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '0.0.0.0',
    localPort: socket.localPort ?? 0,
    // A kept-alive connection has read an earlier response; a new one has read nothing yet.
    how: socket.bytesRead > 0 ? 'reuse' : 'connect',
  });
}

/** Tells `onConnection` which connection the request with `X-Varnish: xid` is written on; returns the end of the watch. */
export function watchConnection(xid: number, onConnection: (c: BackendConnection) => void): () => void {
  if (waiting.size === 0) subscribe(CHANNEL, onSendHeaders);
  waiting.set(xid, onConnection);
  return () => {
    if (waiting.get(xid) !== onConnection) return;
    waiting.delete(xid);
    if (waiting.size === 0) unsubscribe(CHANNEL, onSendHeaders);
  };
}
