// A listener speaking Shellac's HTTP/1.1: a node:net server (TCP or a Unix socket) whose
// connections run Http1Connection. Half-open connections are allowed: a client may send its
// requests and shut its side, and still read the answers (and a pipe passes the half-close on).

import { createServer, type Server, type Socket } from 'node:net';
import { Http1Connection, type Http1Context } from './connection.ts';

export function createHttp1Server(ctx: Http1Context, onSocket?: (sock: Socket) => void): Server {
  const server = createServer({ allowHalfOpen: true, noDelay: true });
  server.on('connection', (sock: Socket) => {
    onSocket?.(sock);
    new Http1Connection(sock, ctx);
  });
  return server;
}
