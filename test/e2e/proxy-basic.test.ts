import { afterEach, describe, expect, it } from 'vitest';
import { BACKEND, get, type Origin, type ProxyHandle, sleep, startOrigin, startProxy } from '../helpers/proxy.ts';

let origin: Origin | undefined;
let proxy: ProxyHandle | undefined;
afterEach(async () => {
  await proxy?.close();
  await origin?.close();
  proxy = origin = undefined;
});

describe('the proxy end to end', () => {
  it('caches a cacheable response and serves hits with X-Varnish and Age', async () => {
    let n = 0;
    origin = await startOrigin((_req, res) => {
      n++;
      res.writeHead(200, { 'Cache-Control': 'max-age=60', 'Content-Type': 'text/plain' });
      res.end(`body ${n}`);
    });
    proxy = await startProxy(BACKEND, { origin });
    const a = await get(proxy.port, '/x');
    const b = await get(proxy.port, '/x');
    expect(a.status).toBe(200);
    expect(a.body).toBe('body 1');
    expect(b.body).toBe('body 1');
    expect(n).toBe(1);
    expect(String(a.headers['x-varnish'])).toMatch(/^\d+$/);
    expect(String(b.headers['x-varnish'])).toMatch(/^\d+ \d+$/);
    expect(b.headers.age).toBeDefined();
    expect(b.headers.via).toContain('Shellac');
    expect(proxy.srv.counters.cache_hit).toBe(1);
    expect(proxy.srv.counters.cache_miss).toBe(1);
  });

  it('passes requests with cookies and does not cache Set-Cookie responses', async () => {
    let n = 0;
    origin = await startOrigin((_req, res) => {
      n++;
      res.writeHead(200, { 'Cache-Control': 'max-age=60', 'Set-Cookie': 'a=b' });
      res.end('x');
    });
    proxy = await startProxy(BACKEND, { origin });
    await get(proxy.port, '/c', { headers: { Cookie: 'x=y' } });
    await get(proxy.port, '/c');
    await get(proxy.port, '/c');
    expect(n).toBe(3);
    expect(proxy.srv.counters.s_pass).toBe(1);
  });

  it('answers synth from vcl_recv with the builtin error page', async () => {
    proxy = await startProxy(`${BACKEND}sub vcl_recv { if (req.url == "/teapot") { return (synth(418, "Short and stout")); } }`);
    const r = await get(proxy.port, '/teapot');
    expect(r.status).toBe(418);
    expect(r.reason).toBe('Short and stout');
    expect(r.body).toContain('418');
    expect(r.headers['retry-after']).toBe('5');
  });

  it('answers 503 when the backend refuses, and the process lives', async () => {
    proxy = await startProxy('vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "9"; }\n');
    const r = await get(proxy.port, '/');
    expect(r.status).toBe(503);
    expect(r.body).toContain('Backend fetch failed');
    expect(proxy.srv.backendCounters.backend_fail).toBeGreaterThan(0);
    const again = await get(proxy.port, '/');
    expect(again.status).toBe(503);
  });

  it('purges on return (purge)', async () => {
    let n = 0;
    origin = await startOrigin((_req, res) => {
      n++;
      res.writeHead(200, { 'Cache-Control': 'max-age=60' });
      res.end(`v${n}`);
    });
    proxy = await startProxy(`${BACKEND}sub vcl_recv { if (req.method == "PURGE") { return (purge); } }`, { origin });
    expect((await get(proxy.port, '/p')).body).toBe('v1');
    expect((await get(proxy.port, '/p')).body).toBe('v1');
    const p = await get(proxy.port, '/p', { method: 'PURGE' });
    expect(p.status).toBe(200);
    expect(p.reason).toBe('Purged');
    expect((await get(proxy.port, '/p')).body).toBe('v2');
  });

  it('coalesces concurrent misses into one fetch', async () => {
    let n = 0;
    origin = await startOrigin((_req, res) => {
      n++;
      setTimeout(() => {
        res.writeHead(200, { 'Cache-Control': 'max-age=60' });
        res.end('slow');
      }, 150);
    });
    proxy = await startProxy(BACKEND, { origin });
    const replies = await Promise.all(Array.from({ length: 5 }, () => get(proxy!.port, '/slow')));
    expect(replies.map((r) => r.body)).toEqual(Array(5).fill('slow'));
    expect(n).toBe(1);
  });

  it('answers conditional requests with 304 and ranges with 206 from the cache', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=60', ETag: '"abc"' });
      res.end('0123456789');
    });
    proxy = await startProxy(BACKEND, { origin });
    await get(proxy.port, '/e');
    const c = await get(proxy.port, '/e', { headers: { 'If-None-Match': '"abc"' } });
    expect(c.status).toBe(304);
    expect(c.body).toBe('');
    const r = await get(proxy.port, '/e', { headers: { Range: 'bytes=2-4' } });
    expect(r.status).toBe(206);
    expect(r.body).toBe('234');
    expect(r.headers['content-range']).toBe('bytes 2-4/10');
    const bad = await get(proxy.port, '/e', { headers: { Range: 'bytes=20-' } });
    expect(bad.status).toBe(416);
  });

  it('serves stale content in grace while refreshing in the background', async () => {
    let n = 0;
    origin = await startOrigin((_req, res) => {
      n++;
      res.writeHead(200, { 'Cache-Control': 'max-age=1, stale-while-revalidate=30' });
      res.end(`v${n}`);
    });
    proxy = await startProxy(BACKEND, { origin });
    expect((await get(proxy.port, '/g')).body).toBe('v1');
    await sleep(1200);
    expect((await get(proxy.port, '/g')).body).toBe('v1');
    await sleep(100);
    expect((await get(proxy.port, '/g')).body).toBe('v2');
    expect(proxy.srv.counters.cache_hit_grace).toBe(1);
  });

  it('refuses malformed requests with 400 and keeps serving', async () => {
    const { connect } = await import('node:net');
    proxy = await startProxy(`${BACKEND}sub vcl_recv { return (synth(200)); }`);
    const raw = await new Promise<string>((resolve) => {
      const s = connect(proxy!.port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n'));
      let out = '';
      s.on('data', (d) => {
        out += d;
      });
      s.on('close', () => resolve(out));
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    expect((await get(proxy.port, '/')).status).toBe(200);
  });

  it('fails the task with a 503 on a VCL runtime error and closes the connection', async () => {
    proxy = await startProxy(`${BACKEND}sub vcl_recv { set req.http.x = "a" + std.integer(req.http.nope); }`.replace('vcl 4.1;', 'vcl 4.1;\nimport std;'));
    const r = await get(proxy.port, '/');
    expect(r.status).toBe(503);
    expect(r.headers.connection).toBe('close');
  });
});
