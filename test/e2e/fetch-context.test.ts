// The backend fetch as Varnish 7.1 makes it, checked against varnishtest runs of the same VCL:
// the header table (what a miss and a pass send on, what a cached and a passed object keep),
// revalidation of a kept object (conditions, the 304 merge), predictive Vary, and a background
// fetch that outlives the VCL its client started on.

import { afterEach, describe, expect, it } from 'vitest';
import { BACKEND, get, type Origin, type ProxyHandle, sleep, startOrigin, startProxy } from '../helpers/proxy.ts';

let origin: Origin | undefined;
let proxy: ProxyHandle | undefined;
afterEach(async () => {
  await proxy?.close();
  await origin?.close();
  proxy = origin = undefined;
});

const CLIENT = { 'Cache-Control': 'no-cache', 'Accept-Ranges': 'x', 'Content-Range': 'bytes 0-1/2', Pragma: 'p' };

describe('the header table', () => {
  it('a miss sends neither the client Cache-Control, Accept-Ranges nor Content-Range; a pass sends Cache-Control', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=60' });
      res.end('x');
    });
    proxy = await startProxy(`${BACKEND}sub vcl_recv { if (req.url == "/p") { return (pass); } }`, { origin });
    await get(proxy.port, '/m', { headers: CLIENT });
    await get(proxy.port, '/p', { headers: CLIENT });
    const [miss, pass] = origin.seen.map((s) => s.headers);
    expect(miss['cache-control']).toBeUndefined();
    expect(miss['accept-ranges']).toBeUndefined();
    expect(miss['content-range']).toBeUndefined();
    expect(miss.pragma).toBe('p');
    expect(pass['cache-control']).toBe('no-cache');
    expect(pass['accept-ranges']).toBeUndefined();
    expect(pass['content-range']).toBe('bytes 0-1/2');
  });

  it('a cached object keeps no Keep-Alive, Accept-Ranges or Proxy-Authenticate; a passed one keeps the last two', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Keep-Alive': 'timeout=3', 'Proxy-Connection': 'y', 'Accept-Ranges': 'none', 'Proxy-Authenticate': 'z', 'Cache-Control': 'max-age=60' });
      res.end('ab');
    });
    const vcl = `${BACKEND}
      sub vcl_recv { if (req.url == "/p") { return (pass); } }
      sub vcl_backend_response { set beresp.http.be-ka = beresp.http.Keep-Alive; }
      sub vcl_deliver {
        set resp.http.d-ka = resp.http.Keep-Alive;
        set resp.http.d-pc = resp.http.Proxy-Connection;
        set resp.http.d-ar = resp.http.Accept-Ranges;
        set resp.http.d-pa = resp.http.Proxy-Authenticate;
      }`;
    proxy = await startProxy(vcl, { origin });
    const cached = await get(proxy.port, '/c');
    expect(cached.headers['be-ka']).toBe('timeout=3');
    expect(cached.headers['d-ka']).toBe('');
    expect(cached.headers['d-pc']).toBe('y');
    expect(cached.headers['d-ar']).toBe('');
    expect(cached.headers['d-pa']).toBe('');
    const passed = await get(proxy.port, '/p');
    expect(passed.headers['d-ka']).toBe('');
    expect(passed.headers['d-ar']).toBe('none');
    expect(passed.headers['d-pa']).toBe('z');
  });
});

describe('headers a Connection header names', () => {
  it('are marked on arrival: not sent on or stored, unless VCL set them anew; naming Age is refused', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, [['Foox', '1'], ['foox', '2'], ['Connection', 'foox'], ['Cache-Control', 'max-age=60']].flat());
      res.end('x');
    });
    const vcl = `${BACKEND}
      sub vcl_recv { set req.http.FromVCL = "123"; }
      sub vcl_backend_fetch { set bereq.http.baa = bereq.http.baax; }
      sub vcl_deliver { set resp.http.foo = resp.http.foox; }`;
    proxy = await startProxy(vcl, { origin });
    const r = await get(proxy.port, '/', { headers: { Baax: '1', FromVCL: 'client', Connection: 'baax, FromVCL' } });
    expect(r.status).toBe(200);
    expect(r.headers.foo).toBe('');
    expect(r.headers.foox).toBeUndefined();
    const h = origin.seen[0].headers;
    expect(h.baa).toBe('');
    expect(h.baax).toBeUndefined();
    expect(h.fromvcl).toBe('123');
    const refused = await get(proxy.port, '/age', { headers: { Age: '200', Connection: 'Age' } });
    expect(refused.status).toBe(400);
    expect(origin.seen).toHaveLength(1);
  });
});

describe('revalidation', () => {
  const KEEP = `${BACKEND}sub vcl_backend_response { set beresp.ttl = 0.1s; set beresp.grace = 0s; set beresp.keep = 10s; }`;

  it('a 304 keeps all its headers (duplicates, the new ETag, its Date) and the stale ones it lacks; not its Content-Encoding', async () => {
    let n = 0;
    origin = await startOrigin((req, res) => {
      n++;
      if (n === 1) {
        res.writeHead(200, [
          ['Last-Modified', 'Thu, 01 Jan 2015 00:00:00 GMT'],
          ['Date', 'Thu, 01 Jan 2015 00:00:00 GMT'],
          ['ETag', '"a"'],
          ['foo', 'a'],
          ['foo', 'b'],
          ['bar', 'x'],
        ].flat());
        res.end('abc');
        return;
      }
      expect(req.headers['if-modified-since']).toBe('Thu, 01 Jan 2015 00:00:00 GMT');
      expect(req.headers['if-none-match']).toBe('"a"');
      res.writeHead(304, [['foo', 'c'], ['foo', 'd'], ['ETag', '"b"'], ['Content-Encoding', 'gzip']].flat());
      res.end();
    });
    proxy = await startProxy(KEEP, { origin });
    await get(proxy.port, '/');
    await sleep(300);
    const r = await get(proxy.port, '/');
    expect(n).toBe(2);
    expect(r.status).toBe(200);
    expect(r.body).toBe('abc');
    expect(r.headers.foo).toBe('c, d');
    expect(r.headers.etag).toBe('"b"');
    expect(r.headers.bar).toBe('x');
    expect(r.headers['content-encoding']).toBeUndefined();
    expect(r.headers.date).not.toBe('Thu, 01 Jan 2015 00:00:00 GMT');
    expect(r.headers['content-length']).toBe('3');
  });

  it('an object with an empty body is fetched again without conditions', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { ETag: '"e"', 'Last-Modified': 'Thu, 01 Jan 2015 00:00:00 GMT' });
      res.end();
    });
    proxy = await startProxy(KEEP, { origin });
    await get(proxy.port, '/e');
    await sleep(300);
    await get(proxy.port, '/e');
    expect(origin.seen).toHaveLength(2);
    expect(origin.seen[1].headers['if-none-match']).toBeUndefined();
    expect(origin.seen[1].headers['if-modified-since']).toBeUndefined();
  });
});

describe('predictive Vary', () => {
  it('a request for another variant does not wait for a fetch whose variant is known to differ', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    origin = await startOrigin((req, res) => {
      const foo = String(req.headers.foo);
      const send = () => {
        res.writeHead(200, { Vary: 'foo', 'Cache-Control': 'max-age=60' });
        res.end(foo);
      };
      if (foo === 'vary2') void held.then(send);
      else send();
    });
    proxy = await startProxy(BACKEND, { origin });
    expect((await get(proxy.port, '/', { headers: { foo: 'vary1' } })).body).toBe('vary1');
    const slow = get(proxy.port, '/', { headers: { foo: 'vary2' } });
    while (origin.seen.length < 1 || !origin.seen.some((s) => s.headers.foo === 'vary2')) await sleep(10);
    // vary2's fetch is busy; vary3 is fetched beside it instead of waiting.
    expect((await get(proxy.port, '/', { headers: { foo: 'vary3' } })).body).toBe('vary3');
    release();
    expect((await slow).body).toBe('vary2');
  });
});

describe('the fetch owns its VCL reference', () => {
  it('a background refresh finishes after its client left a VCL that was then discarded', async () => {
    let n = 0;
    origin = await startOrigin((_req, res) => {
      n++;
      const body = `v${n}`;
      setTimeout(
        () => {
          res.writeHead(200, { 'Cache-Control': 'max-age=1' });
          res.end(body);
        },
        n === 2 ? 300 : 0,
      );
    });
    const vcl = `${BACKEND}sub vcl_backend_response { set beresp.ttl = 0.2s; set beresp.grace = 10s; }`;
    proxy = await startProxy(vcl, { origin });
    expect((await get(proxy.port, '/')).body).toBe('v1');
    await sleep(300);
    // A grace hit: the stale object now, and a refresh in the background (300 ms).
    expect((await get(proxy.port, '/')).body).toBe('v1');
    const vcls = proxy.srv.vcls;
    await vcls.load('b', { source: vcl.replaceAll('ORIGIN_PORT', String(origin.port)) });
    vcls.use('b');
    vcls.discard('boot');
    // The old VCL is kept for the fetch still running on it.
    expect(vcls.retiring().map((e) => e.name)).toEqual(['boot']);
    await sleep(500);
    expect(vcls.retiring()).toEqual([]);
    expect((await get(proxy.port, '/')).body).toBe('v2');
    expect(n).toBe(2);
  });
});
