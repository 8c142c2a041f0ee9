// Opening a connection to a backend, for fetches and pipes, with its connect timeout on a
// native timer (VCL asks for timeouts like 300ms).

import { connect, type Socket } from 'node:net';
import type { BackendAddress } from './address.ts';

export type ConnectCallback = (err: Error | null, socket: Socket | null) => void;

/** Connects to the address; `done` is called once, with the socket or the reason it failed. */
export function connectBackend(address: BackendAddress, timeoutMs: number, allowHalfOpen: boolean, done: ConnectCallback): Socket {
  const socket =
    address.kind === 'unix'
      ? connect({ path: address.path, allowHalfOpen })
      : connect({ host: address.ip, port: address.port, family: address.family, allowHalfOpen, noDelay: true });
  let settled = false;
  const finish = (err: Error | null): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.removeListener('error', finish);
    if (err) {
      socket.destroy();
      done(err, null);
    } else {
      done(null, socket);
    }
  };
  const timer = setTimeout(() => finish(connectTimeoutError(timeoutMs)), timeoutMs);
  socket.once('connect', () => finish(null));
  socket.once('error', finish);
  return socket;
}

function connectTimeoutError(ms: number): Error {
  return Object.assign(new Error(`connect timeout after ${ms} ms`), { code: 'ETIMEDOUT' });
}
