// One health probe exchange, as Varnish does it: open a connection, send the probe's request,
// read until the backend closes, and look only at the status line. The whole exchange must fit
// in the probe's timeout. What happened at each stage is reported, because the probe's bitmaps
// (and Varnish's log letters) record each stage apart.

import { connect, type Socket } from 'node:net';
import type { BackendAddress } from './address.ts';

export interface PokeResult {
  /** The connection was opened. */
  readonly connected: boolean;
  /** The request was written (false with `connected` means writing failed). */
  readonly sent: boolean;
  /** A response arrived and the connection was closed within the timeout. */
  readonly received: boolean;
  /** Reading failed or timed out. */
  readonly recvError: boolean;
  /** The response's status was the expected one. */
  readonly happy: boolean;
  /** The response's first line, or what went wrong. */
  readonly message: string;
  /** Seconds from start to the end of the response. */
  readonly seconds: number;
}

/** Only the status line matters; a probe never keeps more than this much of a response. */
const KEEP_BYTES = 128;

/** The request a probe sends: `.request` lines, or a GET of `.url` that closes the connection. */
export function probeRequestText(url: string | undefined, request: readonly string[] | undefined, hostHeader: string | undefined): string {
  if (request !== undefined) return `${request.map((line) => `${line}\r\n`).join('')}\r\n`;
  const host = hostHeader !== undefined ? `Host: ${hostHeader}\r\n` : '';
  return `GET ${url ?? '/'} HTTP/1.1\r\n${host}Connection: close\r\n\r\n`;
}

/** Runs one probe exchange; never rejects. */
export function poke(address: BackendAddress | null, request: string, expected: number, timeoutMs: number): Promise<PokeResult> {
  if (address === null) {
    const nothing = { connected: false, sent: false, received: false, recvError: false, happy: false, seconds: 0 };
    return Promise.resolve({ ...nothing, message: 'Address not resolved' });
  }
  return new Promise((resolve) => {
    const start = performance.now();
    let connected = false;
    let sent = false;
    let kept = Buffer.alloc(0);
    let total = 0;
    let settled = false;
    const socket: Socket = address.kind === 'unix' ? connect({ path: address.path }) : connect({ host: address.ip, port: address.port, family: address.family });

    const finish = (outcome: 'end' | 'error' | 'timeout', detail?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      const seconds = (performance.now() - start) / 1000;
      if (outcome !== 'end') {
        const message = outcome === 'timeout' ? 'Timed out' : (detail ?? 'error');
        resolve({ connected, sent, received: false, recvError: sent, happy: false, message, seconds });
        return;
      }
      if (total === 0) {
        resolve({ connected, sent, received: false, recvError: false, happy: false, message: 'Empty response', seconds });
        return;
      }
      const line = firstLine(kept);
      resolve({ connected, sent, received: true, recvError: false, happy: statusOf(line) === expected, message: line, seconds });
    };

    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.on('connect', () => {
      connected = true;
      socket.write(request, 'latin1', (err) => {
        if (err) finish('error', `Write error: ${err.message}`);
        else sent = true;
      });
    });
    socket.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (kept.length < KEEP_BYTES) kept = Buffer.concat([kept, chunk]).subarray(0, KEEP_BYTES);
    });
    socket.on('end', () => finish('end'));
    socket.on('error', (err) => finish('error', connected ? `Read error: ${err.message}` : `Connect error: ${err.message}`));
    socket.on('close', () => finish('end'));
  });
}

function firstLine(buf: Buffer): string {
  const text = buf.toString('latin1');
  const end = text.search(/[\r\n]/);
  return end < 0 ? text : text.slice(0, end);
}

/** The status of an `HTTP/x.y NNN ...` line, or 0. */
function statusOf(line: string): number {
  const m = /^HTTP\/\d+(?:\.\d+)? +(\d+)/.exec(line);
  return m ? Number(m[1]) : 0;
}
