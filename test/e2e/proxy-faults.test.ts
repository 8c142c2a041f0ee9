// Faults end to end: a backend that refuses, resets mid-body, stalls past each timeout or
// answers garbage; a client that leaves mid-stream; a cache filled past its byte bound. Each
// time the client gets Varnish's answer, the counters say what happened, and the proxy serves on.

import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKEND, get, type Origin, type ProxyHandle, sleep, startOrigin, startProxy, stat } from '../helpers/proxy.ts';

let origin: Origin | undefined;
let proxy: ProxyHandle | undefined;
let rawServer: Server | undefined;
let child: ChildProcess | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  await proxy?.close();
  await origin?.close();
  for (const s of sockets.splice(0)) s.destroy();
  if (rawServer) await new Promise((r) => rawServer!.close(r));
  child?.kill('SIGKILL');
  proxy = origin = rawServer = child = undefined;
});

/** A TCP server that writes `reply` after reading a request head, then closes. */
async function rawOrigin(reply: string): Promise<number> {
  rawServer = createServer((s) => {
    sockets.push(s);
    s.once('data', () => s.end(reply));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => rawServer!.listen(0, '127.0.0.1', r));
  return (rawServer.address() as { port: number }).port;
}

/** GETs and resolves with what arrived and whether the response broke off before its end. */
function fetchAll(port: number, path: string): Promise<{ status: number; body: string; aborted: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, aborted: false }));
      res.on('aborted', () => resolve({ status: res.statusCode ?? 0, body, aborted: true }));
      res.on('error', () => resolve({ status: res.statusCode ?? 0, body, aborted: true }));
    });
    req.on('error', reject);
    req.end();
  });
}

const backendVcl = (port: number, extra = ''): string => `vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "${port}"; ${extra} }\n`;

describe('backend faults', () => {
  it('refused: 503 from vcl_backend_error, counted', async () => {
    proxy = await startProxy(backendVcl(9));
    const r = await get(proxy.port, '/');
    expect(r.status).toBe(503);
    expect(r.reason).toBe('Backend fetch failed');
    expect(stat(proxy, 'backend_fail')).toBe(1);
    expect(stat(proxy, 'fetch_failed')).toBe(1);
    expect(stat(proxy, 'n_object')).toBe(0);
  });

  it('connect timeout: a backend whose accept queue is full', async () => {
    // A listener in a process that never gets to accept(): once its small queue is full, the
    // kernel drops further SYNs and connecting takes longer than connect_timeout.
    child = spawn(
      process.execPath,
      [
        '-e',
        `const s = require('node:net').createServer(); s.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
           console.log(s.address().port);
           setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20000), 50);
         });`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const port = await new Promise<number>((resolve) => child!.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
    await sleep(150);
    for (let i = 0; i < 4; i++) {
      const s = connect(port, '127.0.0.1');
      s.on('error', () => {});
      sockets.push(s);
    }
    await sleep(100);
    proxy = await startProxy(backendVcl(port, '.connect_timeout = 0.3s;'));
    const started = Date.now();
    const r = await get(proxy.port, '/');
    expect(r.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(stat(proxy, 'backend_fail')).toBe(1);
    const backend = proxy.srv.vcls.active!.backends.get('default') as unknown as { counters: { fail_etimedout: number } };
    expect(backend.counters.fail_etimedout).toBe(1);
  });

  it('first byte timeout: 503 when the backend answers too late', async () => {
    origin = await startOrigin((_req, res) => {
      setTimeout(() => res.end('late'), 1500);
    });
    proxy = await startProxy(backendVcl(origin.port, '.first_byte_timeout = 0.3s;'));
    const started = Date.now();
    const r = await get(proxy.port, '/');
    expect(r.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(1200);
    expect(stat(proxy, 'fetch_failed')).toBe(1);
  });

  it('between bytes timeout: the client sees the body break off, nothing is cached', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=100', 'Content-Length': '10000' });
      res.write('x'.repeat(1000));
    });
    proxy = await startProxy(backendVcl(origin.port, '.between_bytes_timeout = 0.3s;'));
    const r = await fetchAll(proxy.port, '/');
    expect(r.status).toBe(200);
    expect(r.aborted).toBe(true);
    expect(r.body.length).toBe(1000);
    expect(stat(proxy, 'fetch_failed')).toBe(1);
    expect(stat(proxy, 'n_object')).toBe(0);
  });

  it('reset mid-body: the client sees the body break off, the next request fetches again', async () => {
    let n = 0;
    origin = await startOrigin((req, res) => {
      n++;
      res.writeHead(200, { 'Cache-Control': 'max-age=100', 'Content-Length': '10000' });
      if (n === 1) {
        res.write('y'.repeat(500), () => setTimeout(() => req.socket.destroy(), 20));
        return;
      }
      res.end('z'.repeat(10000));
    });
    proxy = await startProxy(BACKEND, { origin });
    const broken = await fetchAll(proxy.port, '/reset');
    expect(broken.aborted).toBe(true);
    expect(broken.body).toBe('y'.repeat(500));
    expect(stat(proxy, 'fetch_failed')).toBe(1);
    const whole = await fetchAll(proxy.port, '/reset');
    expect(whole.aborted).toBe(false);
    expect(whole.body.length).toBe(10000);
    expect(n).toBe(2);
  });

  it('garbage instead of HTTP: 503', async () => {
    const port = await rawOrigin('this is not http\r\n\r\n');
    proxy = await startProxy(backendVcl(port));
    const r = await get(proxy.port, '/');
    expect(r.status).toBe(503);
    expect(stat(proxy, 'fetch_failed')).toBe(1);
    const again = await get(proxy.port, '/');
    expect(again.status).toBe(503);
  });

  it('serves a stale object in grace when the backend is gone', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=1' });
      res.end('stale but good');
    });
    proxy = await startProxy(`${BACKEND}sub vcl_backend_response { set beresp.grace = 60s; }`, { origin });
    expect((await get(proxy.port, '/s')).body).toBe('stale but good');
    await origin.close();
    origin = undefined;
    await sleep(1100);
    const r = await get(proxy.port, '/s');
    expect(r.status).toBe(200);
    expect(r.body).toBe('stale but good');
    await sleep(100);
    expect(stat(proxy, 'cache_hit_grace')).toBe(1);
    expect(stat(proxy, 'fetch_failed')).toBe(1);
  });
});

describe('client faults', () => {
  it('a client leaving mid-stream does not stop the fetch: the object is cached whole', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=100' });
      let i = 0;
      const t = setInterval(() => {
        res.write(`chunk${i};`);
        if (++i === 10) {
          clearInterval(t);
          res.end();
        }
      }, 30);
    });
    proxy = await startProxy(BACKEND, { origin });
    await new Promise<void>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxy!.port, path: '/leave', agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
      req.on('close', () => resolve());
      setTimeout(() => reject(new Error('no data')), 3000);
      req.end();
    });
    await sleep(500);
    const r = await fetchAll(proxy.port, '/leave');
    expect(r.body).toBe(Array.from({ length: 10 }, (_, i) => `chunk${i};`).join(''));
    expect(origin.seen).toHaveLength(1);
    expect(stat(proxy, 'cache_hit')).toBe(1);
    expect(stat(proxy, 'fetch_failed')).toBe(0);
  });
});

describe('the byte bound', () => {
  it('a cache filled with large objects stays within -s, evicting the least recently used', async () => {
    const size = 200 * 1024;
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=100' });
      res.end(Buffer.alloc(size, 'b'));
    });
    const bound = 2 * 1024 * 1024;
    proxy = await startProxy(BACKEND, { origin, storageBytes: bound });
    for (let i = 0; i < 30; i++) {
      const r = await fetchAll(proxy.port, `/big${i}`);
      expect(r.body.length).toBe(size);
      expect(proxy.srv.cache.storage.usedSpace).toBeLessThanOrEqual(bound);
    }
    expect(stat(proxy, 'n_lru_nuked')).toBeGreaterThanOrEqual(20);
    expect(stat(proxy, 'n_object')).toBeLessThanOrEqual(10);
    // The newest object is still there, the oldest is not.
    await fetchAll(proxy.port, '/big29');
    expect(stat(proxy, 'cache_hit')).toBe(1);
    await fetchAll(proxy.port, '/big0');
    expect(origin.seen).toHaveLength(31);
  });
});
