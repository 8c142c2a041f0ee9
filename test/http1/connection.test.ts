// The connection loop over real sockets: keep-alive, pipelining with read-ahead (a head read in
// pieces), half-close, Expect: 100-continue, bodies of unknown length on the way out, and
// Unix-socket listeners.

import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { Params } from '../../src/common/params.ts';
import { Shellac } from '../../src/proxy/server.ts';
import { type ProxyHandle, startOrigin, startProxy, stat } from '../helpers/proxy.ts';
import { type RawOrigin, startRawOrigin } from '../helpers/raw-origin.ts';

const PASS = 'vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "ORIGIN_PORT"; }\nsub vcl_recv { return (pass); }\n';

let origin: RawOrigin | undefined;
let proxy: ProxyHandle | undefined;
afterEach(async () => {
  await proxy?.close();
  await origin?.close();
  proxy = origin = undefined;
});

async function setup(vcl = PASS, params: [string, string][] = []): Promise<void> {
  origin = await startRawOrigin();
  proxy = await startProxy(vcl, { origin: origin as never, params });
}

/** A client socket whose received text can be awaited until it holds some string. */
function client(port: number): { sock: Socket; text: () => string; until: (s: string | RegExp, count?: number) => Promise<void>; closed: Promise<void> } {
  const sock = connect(port, '127.0.0.1');
  let text = '';
  const waiters: (() => void)[] = [];
  sock.on('data', (d: Buffer) => {
    text += d.toString('latin1');
    for (const w of waiters.splice(0)) w();
  });
  sock.on('error', () => {});
  const closed = new Promise<void>((r) => sock.on('close', () => r()));
  const count = (s: string | RegExp) => (typeof s === 'string' ? text.split(s).length - 1 : (text.match(new RegExp(s, 'g')) ?? []).length);
  const until = async (s: string | RegExp, n = 1): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (count(s) < n) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${s} in ${JSON.stringify(text)}`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 100);
      });
    }
  };
  return { sock, text: () => text, until, closed };
}

it('serves several requests on one connection and keeps it open', async () => {
  await setup();
  const c = client(proxy!.port);
  for (let i = 1; i <= 3; i++) {
    c.sock.write(`GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await c.until('ok', i);
  }
  expect(c.text().match(/Connection: keep-alive/g)).toHaveLength(3);
  expect(origin!.requests.map((r) => r.url)).toEqual(['/1', '/2', '/3']);
  expect(stat(proxy!, 'sess_conn')).toBe(1);
  c.sock.destroy();
});

it('reads pipelined requests in order, a head read ahead in pieces (sess_readahead)', async () => {
  await setup();
  const c = client(proxy!.port);
  c.sock.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET ');
  await c.until('ok', 1);
  c.sock.write('/b HTTP/1.1\nHost: x\n\nGET /c ');
  await c.until('ok', 2);
  c.sock.write('HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.until('ok', 3);
  expect(origin!.requests.map((r) => r.url)).toEqual(['/a', '/b', '/c']);
  expect(stat(proxy!, 'sess_readahead')).toBe(2);
  c.sock.destroy();
});

it('answers a long pipeline sent in one write, all in order, in runs with turns for the other connections', async () => {
  await setup('vcl 4.1;\nbackend default none;\nsub vcl_recv { return (synth(200)); }\nsub vcl_synth { set resp.http.x-url = req.url; }\n');
  const c = client(proxy!.port);
  const other = client(proxy!.port);
  const n = 300;
  c.sock.write(Array.from({ length: n }, (_, i) => `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''));
  other.sock.write('GET /other HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.until(/x-url: /, n);
  await other.until('x-url: /other');
  expect([...c.text().matchAll(/x-url: (\S+)/g)].map((m) => m[1])).toEqual(Array.from({ length: n }, (_, i) => `/${i}`));
  expect(stat(proxy!, 'sess_readahead')).toBe(n - 1);
  c.sock.destroy();
  other.sock.destroy();
});

it('reads no next request while the client leaves its answers unread (pipelined hits stay bounded)', async () => {
  const big = Buffer.alloc(1 << 20, 'x');
  const o = await startOrigin((_req, res) => {
    res.writeHead(200, { 'Cache-Control': 'max-age=60', 'Content-Length': String(big.length) });
    res.end(big);
  });
  try {
    proxy = await startProxy('vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "ORIGIN_PORT"; }\n', { origin: o });
    const n = 50;
    const sock = connect(proxy.port, '127.0.0.1');
    sock.on('error', () => {});
    // Not read: the kernel's buffers fill, then the server's socket stops draining.
    sock.pause();
    sock.write(Array.from({ length: n }, () => 'GET /big HTTP/1.1\r\nHost: x\r\n\r\n').join(''));
    let seen = -1;
    for (let i = 0; i < 100 && stat(proxy, 'client_req') !== seen; i++) {
      seen = stat(proxy, 'client_req');
      await new Promise((r) => setTimeout(r, 300));
    }
    // A few megabytes fit in the loopback's buffers; 50 answers (50 MB) would not.
    expect(stat(proxy, 'client_req')).toBeGreaterThan(0);
    expect(stat(proxy, 'client_req')).toBeLessThan(25);
    let bytes = 0;
    const all = new Promise<void>((resolve) => {
      sock.on('data', (d: Buffer) => {
        bytes += d.length;
        if (bytes >= n * big.length) resolve();
      });
    });
    sock.resume();
    await all;
    expect(stat(proxy, 'client_req')).toBe(n);
    sock.destroy();
  } finally {
    await o.close();
  }
});

it('closes a head left unfinished for timeout_idle without a word (sc_rx_timeout)', async () => {
  await setup(PASS, [['timeout_idle', '0.3']]);
  const c = client(proxy!.port);
  c.sock.write('GET / HTTP/1.1\r\nHo');
  await c.closed;
  expect(c.text()).toBe('');
  expect(stat(proxy!, 'sc_rx_timeout')).toBe(1);
  expect(stat(proxy!, 'sess_closed_err')).toBe(1);
  expect(origin!.requests).toHaveLength(0);
});

it('fails a body that stops for timeout_idle: 503, closed, nothing complete at the origin', async () => {
  await setup(PASS, [['timeout_idle', '0.3']]);
  const c = client(proxy!.port);
  c.sock.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
  await c.closed;
  expect(c.text()).toMatch(/^HTTP\/1\.1 503 /);
  expect(c.text()).toMatch(/Connection: close\r\n/);
  expect(origin!.requests).toHaveLength(0);
  expect(stat(proxy!, 'sc_rx_body')).toBe(1);
});

it('counts a keep-alive connection idle past timeout_linger (sess_herd), and keeps it open up to timeout_idle', async () => {
  await setup(PASS, [
    ['timeout_linger', '0.5'],
    ['timeout_idle', '1.5'],
  ]);
  const c = client(proxy!.port);
  // Pipelined: each next head is there when the response before it ends, so nothing lingers.
  c.sock.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.until('ok', 2);
  expect(stat(proxy!, 'sess_herd')).toBe(0);
  // Nothing more: once the linger is over the connection is counted, but stays open.
  const deadline = Date.now() + 5000;
  while (stat(proxy!, 'sess_herd') === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(stat(proxy!, 'sess_herd')).toBe(1);
  c.sock.write('GET /c HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.until('ok', 3);
  expect(stat(proxy!, 'sess_conn')).toBe(1);
  // The idle wait is timeout_idle in all, the linger included.
  const answered = Date.now();
  await c.closed;
  expect(Date.now() - answered).toBeGreaterThanOrEqual(1400);
  expect(stat(proxy!, 'sess_herd')).toBe(2);
  expect(stat(proxy!, 'sc_rx_close_idle')).toBe(1);
  expect(origin!.requests.map((r) => r.url)).toEqual(['/a', '/b', '/c']);
});

it('answers a request sent one byte at a time', async () => {
  await setup();
  const c = client(proxy!.port);
  for (const b of 'POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc') {
    c.sock.write(b);
    await new Promise((r) => setImmediate(r));
  }
  await c.until('ok');
  expect(origin!.requests[0].body).toBe('abc');
  c.sock.destroy();
});

it('answers every request of a client that half-closed, then closes', async () => {
  await setup();
  const c = client(proxy!.port);
  c.sock.end('GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
  await c.closed;
  expect(c.text().match(/HTTP\/1\.1 200 OK/g)).toHaveLength(2);
  expect(origin!.requests.map((r) => r.url)).toEqual(['/1', '/2']);
});

it('sends 100 Continue before it reads a body, once vcl_recv has run', async () => {
  await setup();
  const c = client(proxy!.port);
  c.sock.write('POST /up HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
  await c.until('HTTP/1.1 100 Continue\r\n\r\n');
  expect(origin!.requests).toHaveLength(0);
  c.sock.write('body');
  await c.until('ok');
  expect(origin!.requests[0].body).toBe('body');
  expect(origin!.requests[0].headers.find(([n]) => n === 'expect')).toBeUndefined();
  c.sock.destroy();
});

it('refuses an Expect other than 100-continue with 417 and closes (client_req_417)', async () => {
  await setup();
  const c = client(proxy!.port);
  c.sock.write('POST / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\na');
  await c.closed;
  expect(c.text()).toBe('HTTP/1.1 417 Expectation Failed\r\n\r\n');
  expect(stat(proxy!, 'client_req_417')).toBe(1);
  expect(origin!.requests).toHaveLength(0);
});

it('sends a body of unknown length chunked to HTTP/1.1 and to the close to HTTP/1.0', async () => {
  // A backend that streams without a length, closing at the end.
  const { createServer } = await import('node:net');
  const streamer = createServer((s) => {
    s.on('data', () => s.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nstreamed'));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => streamer.listen(0, '127.0.0.1', r));
  proxy = await startProxy(PASS, { origin: { port: (streamer.address() as { port: number }).port } as never });
  const a = client(proxy.port);
  a.sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await a.until('0\r\n\r\n');
  expect(a.text()).toMatch(/Transfer-Encoding: chunked\r\n/);
  expect(a.text()).toMatch(/\r\n\r\n8\r\nstreamed\r\n0\r\n\r\n$/);
  a.sock.destroy();
  const b = client(proxy.port);
  b.sock.write('GET / HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
  await b.closed;
  expect(b.text()).not.toMatch(/Transfer-Encoding/);
  expect(b.text()).toMatch(/Connection: close\r\n\r\nstreamed$/);
  streamer.close();
});

it('serves on a Unix socket listener', async () => {
  origin = await startRawOrigin();
  const srv = new Shellac({ params: new Params([]), storageBytes: 1 << 20 });
  await srv.vcls.load('boot', { source: PASS.replace('ORIGIN_PORT', String(origin.port)) });
  const path = join(tmpdir(), `shellac-h1-${process.pid}.sock`);
  await srv.listen([{ name: 'u', host: '', port: 0, path }]);
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ socketPath: path, path: '/unix', agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    expect(origin.requests[0].url).toBe('/unix');
    expect(origin.requests[0].headers.find(([n]) => n === 'x-forwarded-for')?.[1]).toBe('0.0.0.0');
  } finally {
    await srv.close(100);
  }
});
