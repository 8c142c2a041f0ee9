// Delivery end to end: the headers Shellac adds (X-Varnish, Age, Via, Date, Accept-Ranges) as
// Varnish 7.1 adds them, HEAD, ranges, and several clients streaming one object while it is
// still being fetched.

import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKEND, get, type Origin, type ProxyHandle, sleep, startOrigin, startProxy, stat } from '../helpers/proxy.ts';

let origin: Origin | undefined;
let proxy: ProxyHandle | undefined;
afterEach(async () => {
  await proxy?.close();
  await origin?.close();
  proxy = origin = undefined;
});

describe('delivery headers', () => {
  it('keeps the backend Date, counts Age from the backend Age, appends Via, and names both xids on a hit', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=100', Date: 'Thu, 01 Jan 2026 00:00:00 GMT', Age: '10', Via: '1.1 other', 'Keep-Alive': 'timeout=5' });
      res.end('hello');
    });
    proxy = await startProxy(BACKEND, { origin });
    const miss = await get(proxy.port, '/a');
    expect(miss.headers.date).toBe('Thu, 01 Jan 2026 00:00:00 GMT');
    expect(miss.headers.age).toBe('10');
    expect(miss.headers.via).toBe('1.1 other, 1.1 shellac (Shellac/0.1)');
    expect(miss.headers['accept-ranges']).toBe('bytes');
    expect(miss.headers['keep-alive']).not.toBe('timeout=5');
    const missXid = String(miss.headers['x-varnish']);
    expect(missXid).toMatch(/^\d+$/);
    const fetchXid = String(origin.seen[0].headers['x-varnish']);
    await sleep(1100);
    const hit = await get(proxy.port, '/a');
    expect(hit.headers.date).toBe('Thu, 01 Jan 2026 00:00:00 GMT');
    expect(Number(hit.headers.age)).toBeGreaterThanOrEqual(11);
    const [hitXid, objXid] = String(hit.headers['x-varnish']).split(' ');
    expect(objXid).toBe(fetchXid);
    expect(Number(hitXid)).toBeGreaterThan(Number(missXid));
    expect(stat(proxy, 'cache_hit')).toBe(1);
    expect(stat(proxy, 'cache_miss')).toBe(1);
    expect(stat(proxy, 's_fetch')).toBe(1);
    expect(stat(proxy, 'client_req')).toBe(2);
    expect(stat(proxy, 'n_object')).toBe(1);
    expect(stat(proxy, 's_resp_bodybytes')).toBe(10);
  });

  it('dates a response that has no Date when it arrives, and offers no ranges on a pass', async () => {
    origin = await startOrigin((_req, res) => {
      res.sendDate = false;
      res.writeHead(200, { 'Cache-Control': 'max-age=100' });
      res.end('hello');
    });
    proxy = await startProxy(`${BACKEND}sub vcl_recv { if (req.url ~ "pass") { return (pass); } }`, { origin });
    const first = await get(proxy.port, '/cached');
    expect(first.headers.date).toBeDefined();
    await sleep(1100);
    const hit = await get(proxy.port, '/cached');
    // The Date of the stored object, not of the delivery.
    expect(hit.headers.date).toBe(first.headers.date);
    const pass = await get(proxy.port, '/pass');
    expect(pass.headers.date).toBeDefined();
    expect(pass.headers['accept-ranges']).toBeUndefined();
    expect(pass.headers['x-varnish']).toMatch(/^\d+$/);
    expect(stat(proxy, 's_pass')).toBe(1);
  });

  it('answers HEAD without a body: fetched as GET on a miss, sent as HEAD on a pass', async () => {
    origin = await startOrigin((req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=100', 'Content-Type': 'text/plain', 'Content-Length': '11' });
      res.end(req.method === 'HEAD' ? undefined : 'hello world');
    });
    proxy = await startProxy(`${BACKEND}sub vcl_recv { if (req.url ~ "pass") { return (pass); } }`, { origin });
    const miss = await get(proxy.port, '/h', { method: 'HEAD' });
    expect(miss.status).toBe(200);
    expect(miss.body).toBe('');
    expect(miss.headers['content-length']).toBe('11');
    expect(origin.seen[0].method).toBe('GET');
    const hit = await get(proxy.port, '/h', { method: 'HEAD' });
    expect(hit.body).toBe('');
    expect(hit.headers['content-length']).toBe('11');
    expect(String(hit.headers['x-varnish'])).toMatch(/^\d+ \d+$/);
    const full = await get(proxy.port, '/h');
    expect(full.body).toBe('hello world');
    await get(proxy.port, '/pass', { method: 'HEAD' });
    expect(origin.seen.map((s) => s.method)).toEqual(['GET', 'HEAD']);
    expect(stat(proxy, 'cache_hit')).toBe(2);
  });

  it('cuts ranges from cached objects and from a pass whose length is known', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=100', 'Content-Length': '10' });
      res.end('0123456789');
    });
    proxy = await startProxy(`${BACKEND}sub vcl_recv { if (req.url ~ "pass") { return (pass); } }`, { origin });
    const r = await get(proxy.port, '/r', { headers: { Range: 'bytes=-3' } });
    expect(r.status).toBe(206);
    expect(r.body).toBe('789');
    expect(r.headers['content-range']).toBe('bytes 7-9/10');
    // The range went to the cache, not to the backend.
    expect(origin.seen[0].headers.range).toBeUndefined();
    const p = await get(proxy.port, '/pass', { headers: { Range: 'bytes=1-2' } });
    expect(origin.seen[1].headers.range).toBe('bytes=1-2');
    expect(p.status).toBe(206);
    expect(p.body).toBe('12');
    expect(p.headers['content-range']).toBe('bytes 1-2/10');
  });
});

describe('conditional requests', () => {
  it('answers 304 from a cached object to If-None-Match and If-Modified-Since, 200 when they do not match', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=100', ETag: 'W/"v1"', 'Last-Modified': 'Thu, 01 Jan 2026 00:00:00 GMT', 'Content-Type': 'text/plain' });
      res.end('body');
    });
    proxy = await startProxy(BACKEND, { origin });
    await get(proxy.port, '/c');
    const inm = await get(proxy.port, '/c', { headers: { 'If-None-Match': '"x", "v1"' } });
    expect(inm.status).toBe(304);
    expect(inm.headers.etag).toBe('W/"v1"');
    expect(inm.headers['content-type']).toBeUndefined();
    expect(inm.body).toBe('');
    const ims = await get(proxy.port, '/c', { headers: { 'If-Modified-Since': 'Fri, 02 Jan 2026 00:00:00 GMT' } });
    expect(ims.status).toBe(304);
    const older = await get(proxy.port, '/c', { headers: { 'If-Modified-Since': 'Wed, 31 Dec 2025 00:00:00 GMT' } });
    expect(older.status).toBe(200);
    expect(older.body).toBe('body');
    // If-None-Match decides when both are there.
    const both = await get(proxy.port, '/c', { headers: { 'If-None-Match': '"other"', 'If-Modified-Since': 'Fri, 02 Jan 2026 00:00:00 GMT' } });
    expect(both.status).toBe(200);
    expect(origin.seen).toHaveLength(1);
    expect(stat(proxy, 'cache_hit')).toBe(4);
  });
});

describe('streaming', () => {
  it('streams one object to several clients while it is still being fetched', async () => {
    let release!: () => void;
    const released = new Promise<void>((r) => {
      release = r;
    });
    let fetches = 0;
    origin = await startOrigin((_req, res) => {
      fetches++;
      res.writeHead(200, { 'Cache-Control': 'max-age=100' });
      res.write('first part;');
      void released.then(() => res.end('second part'));
    });
    proxy = await startProxy(BACKEND, { origin });
    const port = proxy.port;
    // Each client resolves `early` with what it had before the origin finished.
    const client = (): { early: Promise<string>; all: Promise<string> } => {
      let seenEarly!: (s: string) => void;
      const early = new Promise<string>((r) => {
        seenEarly = r;
      });
      const all = new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/stream', agent: false }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => {
            body += c;
            seenEarly(body);
          });
          res.on('end', () => resolve(body));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      return { early, all };
    };
    const a = client();
    expect(await a.early).toBe('first part;');
    const b = client();
    expect(await b.early).toBe('first part;');
    release();
    expect(await a.all).toBe('first part;second part');
    expect(await b.all).toBe('first part;second part');
    expect(fetches).toBe(1);
    expect(stat(proxy, 'cache_hit') + stat(proxy, 'cache_miss')).toBe(2);
    expect(stat(proxy, 's_fetch')).toBe(1);
  });
});
