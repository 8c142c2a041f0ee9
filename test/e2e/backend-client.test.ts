// Shellac's own HTTP/1 backend client, end to end over loopback: raw origins write exact bytes
// and record exact bytes received. What it reads (bare LF, obs-fold, 1xx, length, chunked and
// to-the-close bodies, garbage, heads over the limits), what it writes (a method and URL as VCL
// left them), and its pool (reuse, Connection: close from either side, retry on a dead reused
// connection, a pipe taking an idle connection), as Varnish 7.1's backend side does.

import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { BackendResponse, FetchResult } from '../../src/proxy/backend/backend.ts';
import { newBackendGlobalCounters } from '../../src/proxy/backend/counters.ts';
import { type ProxyHandle, raw, startProxy } from '../helpers/proxy.ts';
import { backendFrom, cleanup } from '../proxy/backend-helpers.ts';

/** One request as the origin received it. */
interface Received {
  /** The connection it came on, counting from 0. */
  readonly conn: number;
  readonly head: string;
  readonly body: Buffer;
}

interface ScriptedOrigin {
  readonly port: number;
  readonly server: Server;
  readonly requests: Received[];
  /** How many connections were accepted. */
  connections(): number;
  /** Whether connection `i` has been closed by Shellac (or ended). */
  closed(i: number): boolean;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
  await cleanup();
});

/**
 * An origin that reads each request (head, then a Content-Length or chunked body) off its
 * connection and lets `answer` write whatever bytes it likes.
 */
async function scriptedOrigin(answer: (socket: Socket, req: Received, n: number) => void): Promise<ScriptedOrigin> {
  const requests: Received[] = [];
  const sockets: Socket[] = [];
  const ended: boolean[] = [];
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    const conn = sockets.length;
    sockets.push(socket);
    ended.push(false);
    socket.on('error', () => {});
    socket.on('end', () => {
      ended[conn] = true;
      socket.end();
    });
    socket.on('close', () => {
      ended[conn] = true;
    });
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.toString('latin1', 0, end + 4);
        const length = /\r\ncontent-length: *(\d+)/i.exec(head);
        let bodyEnd = end + 4;
        if (length) bodyEnd += Number(length[1]);
        else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
          const last = buf.indexOf('\r\n0\r\n\r\n', end + 2);
          if (last < 0) return;
          bodyEnd = last + 7;
        }
        if (buf.length < bodyEnd) return;
        const req = { conn, head, body: buf.subarray(end + 4, bodyEnd) };
        buf = buf.subarray(bodyEnd);
        requests.push(req);
        answer(socket, req, requests.length - 1);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return {
    port: (server.address() as AddressInfo).port,
    server,
    requests,
    connections: () => sockets.length,
    closed: (i) => ended[i] === true,
  };
}

async function proxyWith(vcl: string, origin: ScriptedOrigin, params: [string, string][] = []): Promise<ProxyHandle> {
  const proxy = await startProxy(`vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "${origin.port}"; }\n${vcl}`, { params });
  closers.push(() => proxy.close());
  return proxy;
}

function ok(r: FetchResult): BackendResponse {
  if (!r.ok) throw new Error(`fetch failed: ${r.kind}: ${r.message}`);
  return r;
}

function header(r: BackendResponse, name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < r.headers.length; i += 2) if (r.headers[i].toLowerCase() === name) out.push(r.headers[i + 1]);
  return out;
}

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('reading responses as Varnish does', () => {
  it('takes lines ending in a bare LF and joins a folded header line with spaces', async () => {
    const origin = await scriptedOrigin((s) => s.write('HTTP/1.1 200 Fine\nX-Fold: one\n two\nContent-Length: 2\n\nok'));
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const r = ok(await be.fetch({ method: 'GET', url: '/', headers: [] }));
    expect(r.status).toBe(200);
    expect(r.reason).toBe('Fine');
    expect(header(r, 'x-fold')).toEqual(['one  two']);
    expect((await r.body.readAll()).toString()).toBe('ok');
  });

  it("gives a response without a reason the status's own, as varnishd does", async () => {
    const origin = await scriptedOrigin((s, _req, n) => s.write(n === 0 ? 'HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n' : 'HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n'));
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const first = ok(await be.fetch({ method: 'GET', url: '/', headers: [] }));
    await first.body.readAll();
    const second = ok(await be.fetch({ method: 'GET', url: '/', headers: [] }));
    expect([first.reason, second.reason]).toEqual(['OK', 'Not Found']);
  });

  it('skips 1xx responses, reads chunked bodies with bare LFs, and reuses the connection', async () => {
    const origin = await scriptedOrigin((s, _req, n) => {
      if (n === 0) s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc');
      else s.write('HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n4\nwxyz\n0\n\n');
    });
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    expect((await ok(await be.fetch({ method: 'GET', url: '/a', headers: [] })).body.readAll()).toString()).toBe('abc');
    expect((await ok(await be.fetch({ method: 'GET', url: '/b', headers: [] })).body.readAll()).toString()).toBe('wxyz');
    expect(origin.connections()).toBe(1);
  });

  it('reads a body without length to the close, and does not keep that connection', async () => {
    const origin = await scriptedOrigin((s, _req, n) => {
      if (n === 0) s.end('HTTP/1.1 200 OK\r\n\r\nall of it');
      else s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz');
    });
    const global = newBackendGlobalCounters();
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`, { globalCounters: global });
    expect((await ok(await be.fetch({ method: 'GET', url: '/', headers: [] })).body.readAll()).toString()).toBe('all of it');
    expect((await ok(await be.fetch({ method: 'GET', url: '/', headers: [] })).body.readAll()).toString()).toBe('z');
    expect(origin.connections()).toBe(2);
    expect(global.backend_recycle).toBe(1);
    expect(global.backend_reuse).toBe(0);
  });

  it('closes after an HTTP/1.0 response without keep-alive', async () => {
    const origin = await scriptedOrigin((s) => s.write('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    for (let i = 0; i < 2; i++) await ok(await be.fetch({ method: 'GET', url: '/', headers: [] })).body.readAll();
    expect(origin.connections()).toBe(2);
    await until(() => origin.closed(0), 'the first connection to close');
  });

  it.each([
    ['not HTTP at all', 'HELLO THERE\r\n\r\n'],
    ['a status of two digits', 'HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n'],
    ['HTTP/2.0 on the status line', 'HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nNoColon\r\nContent-Length: 0\r\n\r\n'],
    ['a control byte in a header', 'HTTP/1.1 200 OK\r\nX: a\x01b\r\nContent-Length: 0\r\n\r\n'],
    ['a Transfer-Encoding other than chunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n'],
    ['a Content-Length that is not digits', 'HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n'],
    ['a 204 with a body', 'HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\nabc'],
  ])('fails the fetch as garbage on %s, and the next fetch is served', async (_what, bytes) => {
    const origin = await scriptedOrigin((s, _req, n) => {
      if (n === 0) s.write(bytes);
      else s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const r = await be.fetch({ method: 'GET', url: '/', headers: [] });
    expect(r.ok ? 'ok' : r.kind).toBe('garbage');
    expect((await ok(await be.fetch({ method: 'GET', url: '/', headers: [] })).body.readAll()).toString()).toBe('ok');
    expect(origin.connections()).toBe(2);
  });

  it.each([
    ['a chunk size that is not hex', '3\r\nabc\r\nzz\r\n'],
    // varnishd reads one line end after the last chunk: a trailer is "chunked tail no NL".
    ['trailers after the last chunk', '2\r\nok\r\n0\r\nX-Trailer: 1\r\n\r\n'],
  ])('fails a chunked body with %s, as the body iterator error', async (_what, chunks) => {
    const origin = await scriptedOrigin((s) => s.write(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}`));
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const r = ok(await be.fetch({ method: 'GET', url: '/', headers: [] }));
    await expect(r.body.readAll()).rejects.toMatchObject({ kind: 'garbage' });
  });

  it('applies http_resp_size to the whole head and http_resp_hdr_len to each line, folded lines whole', async () => {
    const line = `X: ${'a'.repeat(37)}`; // 40 bytes
    const origin = await scriptedOrigin((s, req) => {
      if (req.head.startsWith('GET /fold ')) s.write(`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(17)}\n ${'b'.repeat(18)}\r\nContent-Length: 0\r\n\r\n`);
      else if (req.head.startsWith('GET /long ')) s.write(`HTTP/1.1 200 OK\r\n${line}b\r\nContent-Length: 0\r\n\r\n`);
      else s.write(`HTTP/1.1 200 OK\r\n${line}\r\nContent-Length: 0\r\n\r\n`);
    });
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const limits = { lineBytes: 40, headBytes: 1000 };
    const fetch = (url: string, headLimits = limits) => be.fetch({ method: 'GET', url, headers: [] }, { headLimits });
    await ok(await fetch('/fits')).body.readAll();
    await ok(await fetch('/fold')).body.readAll();
    const long = await fetch('/long');
    expect(long.ok ? 'ok' : long.kind).toBe('garbage');
    // "HTTP/1.1 200 OK\r\n" 17 + 42 + "Content-Length: 0\r\n" 19 + 2 = 80 bytes.
    await ok(await fetch('/fits', { lineBytes: 40, headBytes: 80 })).body.readAll();
    const big = await fetch('/fits', { lineBytes: 40, headBytes: 79 });
    expect(big.ok ? 'ok' : big.kind).toBe('garbage');
  });
});

describe('the connection pool', () => {
  it('reuses one connection for sequential requests, counting conn, reuse and recycle', async () => {
    const origin = await scriptedOrigin((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx'));
    const global = newBackendGlobalCounters();
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`, { globalCounters: global });
    for (let i = 0; i < 3; i++) await ok(await be.fetch({ method: 'GET', url: `/${i}`, headers: [] })).body.readAll();
    expect(origin.connections()).toBe(1);
    expect(global).toMatchObject({ backend_conn: 1, backend_reuse: 2, backend_recycle: 3, backend_req: 3, backend_retry: 0 });
    expect(be.counters.conn).toBe(1);
  });

  it('sends a request again on a new connection when a reused one dies before answering', async () => {
    const origin = await scriptedOrigin((s, _req, n) => {
      if (n === 1) s.destroy(); // the kept-alive connection is gone when the second request comes
      else s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const global = newBackendGlobalCounters();
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`, { globalCounters: global });
    await ok(await be.fetch({ method: 'GET', url: '/1', headers: [] })).body.readAll();
    const body = Buffer.from('payload');
    expect((await ok(await be.fetch({ method: 'POST', url: '/2', headers: [], body })).body.readAll()).toString()).toBe('ok');
    expect(global.backend_retry).toBe(1);
    expect(origin.connections()).toBe(2);
    expect(origin.requests.map((r) => r.body.toString())).toEqual(['', 'payload', 'payload']);
  });

  it('does not retry on a new connection that fails: the failure is the fetch', async () => {
    const origin = await scriptedOrigin((s) => s.destroy());
    const global = newBackendGlobalCounters();
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`, { globalCounters: global });
    const r = await be.fetch({ method: 'GET', url: '/', headers: [] });
    expect(r.ok ? 'ok' : r.kind).toBe('reset');
    expect(global.backend_retry).toBe(0);
  });

  it('closes idle connections after backend_idle_timeout', async () => {
    const origin = await scriptedOrigin((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'));
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`, { defaults: { idleTimeout: 0.2 } });
    await ok(await be.fetch({ method: 'GET', url: '/', headers: [] })).body.readAll();
    expect(be.counters.conn).toBe(1);
    await until(() => origin.closed(0) && be.counters.conn === 0, 'the idle connection to close');
  });
});

describe('through Shellac, with VCL', () => {
  it('sends method :x and URL :x as they are (r03830)', async () => {
    const origin = await scriptedOrigin((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    const proxy = await proxyWith('sub vcl_recv { return (pass); }', origin);
    const reply = await raw(proxy.port, ':x :x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    expect(reply.text.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(origin.requests[0].head.startsWith(':x :x HTTP/1.1\r\n')).toBe(true);
  });

  it('closes the backend connection when bereq, the backend, or beresp as VCL left it says Connection: close (b00073)', async () => {
    const origin = await scriptedOrigin((s, req) => {
      const close = /\r\nx-backend-close: yes/i.test(req.head) ? 'Connection: close\r\n' : '';
      s.write(`HTTP/1.1 200 OK\r\n${close}Content-Length: 2\r\n\r\nok`);
    });
    const proxy = await proxyWith(
      `sub vcl_recv { return (pass); }
       sub vcl_backend_fetch { if (bereq.http.x-bereq-close) { set bereq.http.Connection = "close"; } }
       sub vcl_backend_response {
         if (bereq.http.x-beresp-close) { set beresp.http.Connection = "close, x-varnish"; } else { unset beresp.http.Connection; }
       }`,
      origin,
    );
    const ask = (hdr: string) => raw(proxy.port, `GET / HTTP/1.1\r\nHost: h\r\n${hdr}Connection: close\r\n\r\n`);
    // Kept: the second request reuses the first one's connection.
    await ask('');
    await ask('');
    expect(origin.connections()).toBe(1);
    const before = proxy.srv.backendCounters.backend_recycle;
    for (const [i, hdr] of ['X-Bereq-Close: 1\r\n', 'X-Beresp-Close: 1\r\n', 'X-Backend-Close: yes\r\n'].entries()) {
      const reply = await ask(hdr);
      expect(reply.text.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
      // Each of these went on a connection that was then closed: the next one opens another.
      await until(() => origin.closed(origin.requests[origin.requests.length - 1].conn), `connection ${i} to close`);
    }
    expect(proxy.srv.backendCounters.backend_recycle).toBe(before);
    expect(origin.requests.map((r) => r.conn)).toEqual([0, 0, 0, 1, 2]);
  });

  it('a pipe takes the idle kept-alive connection (r01806)', async () => {
    const origin = await scriptedOrigin((s, req) => s.write(`HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n${req.head.split(' ')[1].slice(1, 5)}`));
    const proxy = await proxyWith('sub vcl_recv { if (req.url == "/pipe") { return (pipe); } return (pass); }', origin);
    const reply = await raw(proxy.port, 'GET /pass HTTP/1.1\r\nHost: h\r\n\r\nPOST /pipe HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nasdf', 1500);
    expect(reply.text).toContain('\r\n\r\npass');
    expect(reply.text).toContain('\r\n\r\npipe');
    expect(origin.connections()).toBe(1);
    expect(origin.requests[1].body.toString()).toBe('asdf');
  });

  it('back-pressure: a pass client that does not read does not make Shellac buffer the backend body', async () => {
    const total = 48 * 1024 * 1024;
    let written = 0;
    const origin = await scriptedOrigin((s) => {
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${total}\r\n\r\n`);
      const piece = Buffer.alloc(64 * 1024, 0x61);
      const more = (): void => {
        while (written < total) {
          written += piece.length;
          if (!s.write(piece)) {
            s.once('drain', more);
            return;
          }
        }
      };
      more();
    });
    const proxy = await proxyWith('sub vcl_recv { return (pass); }', origin);
    const client = connect(proxy.port, '127.0.0.1');
    closers.push(async () => {
      client.destroy();
    });
    client.pause();
    client.write('GET /big HTTP/1.1\r\nHost: h\r\n\r\n');
    await until(() => written > 0, 'the origin to start');
    // Let the pipes fill: what the origin got to write is bounded by socket buffers and a
    // bounded buffer in Shellac, not by the body's size.
    let last = -1;
    for (let i = 0; i < 50 && written !== last; i++) {
      last = written;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(written).toBe(last);
    expect(written).toBeLessThan(total / 2);
    // Reading resumes the flow to the end.
    let got = 0;
    client.on('data', (d: Buffer) => {
      got += d.length;
    });
    client.resume();
    await until(() => got >= total, 'the whole body', 20000);
  });
});
