// An origin that records the exact bytes it receives: each complete request (framed by its
// Content-Length or chunked body, as a backend reads it) and whatever a connection held when it
// closed before a request was complete. It answers every request `200 ok`, keeping the
// connection open. Tests use it to tell what reached the backend, byte for byte.

import { createServer, type Server, type Socket } from 'node:net';

export interface OriginRequest {
  /** The request's bytes, head and body, as received. */
  readonly raw: string;
  readonly method: string;
  readonly url: string;
  /** Header lines, names lower-cased, in order. */
  readonly headers: readonly [string, string][];
  /** The body, de-chunked when it came chunked. */
  readonly body: string;
  readonly framing: 'none' | 'length' | 'chunked';
}

export interface RawOrigin {
  readonly port: number;
  readonly requests: OriginRequest[];
  /** Bytes left over on connections that closed in the middle of a request. */
  readonly partial: string[];
  close(): Promise<void>;
}

export async function startRawOrigin(port = 0): Promise<RawOrigin> {
  const requests: OriginRequest[] = [];
  const partial: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    let buf = '';
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        const r = takeRequest(buf);
        if (r === null) break;
        buf = buf.slice(r.raw.length);
        requests.push(r);
        sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => {
      sockets.delete(sock);
      if (buf.length > 0) partial.push(buf);
    });
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    requests,
    partial,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** One complete request at the start of `buf`, or null while it is incomplete. */
function takeRequest(buf: string): OriginRequest | null {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const lines = buf.slice(0, end).split('\r\n');
  const [method, url] = lines[0].split(' ');
  const headers = lines.slice(1).map((l): [string, string] => {
    const i = l.indexOf(':');
    return [l.slice(0, i).toLowerCase(), l.slice(i + 1).trim()];
  });
  const get = (n: string) => headers.find(([k]) => k === n)?.[1];
  let pos = end + 4;
  const te = get('transfer-encoding');
  const cl = get('content-length');
  if (te !== undefined) {
    let body = '';
    for (;;) {
      const eol = buf.indexOf('\r\n', pos);
      if (eol < 0) return null;
      const size = Number.parseInt(buf.slice(pos, eol), 16);
      if (buf.length < eol + 2 + size + 2) return null;
      body += buf.slice(eol + 2, eol + 2 + size);
      pos = eol + 2 + size + 2;
      if (size === 0) break;
    }
    return { raw: buf.slice(0, pos), method, url, headers, body, framing: 'chunked' };
  }
  const n = cl === undefined ? 0 : Number(cl);
  if (buf.length < pos + n) return null;
  return { raw: buf.slice(0, pos + n), method, url, headers, body: buf.slice(pos, pos + n), framing: cl === undefined ? 'none' : 'length' };
}
