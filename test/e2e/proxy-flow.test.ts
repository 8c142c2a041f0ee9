// The request's way through the state machines end to end: the backend request each mode
// builds, restarts and max_restarts, retries and max_retries, synth, and pipe (an Upgrade
// request tunnelled both ways, and a plain request with a body). Expectations are those of
// Varnish 7.1 under varnishtest for the same VCL.

import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKEND, get, type Origin, type ProxyHandle, raw, sleep, startOrigin, startProxy, stat } from '../helpers/proxy.ts';

let origin: Origin | undefined;
let proxy: ProxyHandle | undefined;
afterEach(async () => {
  await proxy?.close();
  await origin?.close();
  proxy = origin = undefined;
});

const HOP = {
  Connection: 'keep-alive, X-Foo',
  'X-Foo': '1',
  'If-None-Match': '"a"',
  'If-Modified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT',
  Range: 'bytes=0-1',
  'If-Range': 'x',
  TE: 'trailers',
  'Proxy-Authorization': 'x',
  'X-Forwarded-For': '1.2.3.4',
  'X-Keep': 'yes',
};

describe('the backend request', () => {
  it('on a miss: a GET without conditions, ranges, credentials or hop-by-hop headers, with X-Forwarded-For and X-Varnish', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=0' });
      res.end('x');
    });
    proxy = await startProxy(`${BACKEND}sub vcl_recv { return (hash); }`, { origin });
    await get(proxy.port, '/miss', { method: 'HEAD', headers: HOP });
    const h = origin.seen[0].headers;
    expect(origin.seen[0].method).toBe('GET');
    for (const gone of ['x-foo', 'if-none-match', 'if-modified-since', 'range', 'if-range', 'te', 'proxy-authorization']) expect(h[gone], gone).toBeUndefined();
    expect(h['x-keep']).toBe('yes');
    expect(h['x-forwarded-for']).toBe('1.2.3.4, 127.0.0.1');
    expect(h['x-varnish']).toMatch(/^\d+$/);
    expect(h.host).toBe(`127.0.0.1:${proxy.port}`);
  });

  it('on a pass: the method, conditions, ranges and credentials as sent; hop-by-hop headers dropped', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200);
      res.end('x');
    });
    proxy = await startProxy(`${BACKEND}sub vcl_recv { return (pass); }`, { origin });
    await get(proxy.port, '/pass', { method: 'HEAD', headers: HOP });
    const h = origin.seen[0].headers;
    expect(origin.seen[0].method).toBe('HEAD');
    expect(h['x-foo']).toBeUndefined();
    expect(h.te).toBeUndefined();
    expect(h['if-none-match']).toBe('"a"');
    expect(h.range).toBe('bytes=0-1');
    expect(h['proxy-authorization']).toBe('x');
    expect(h['x-forwarded-for']).toBe('1.2.3.4, 127.0.0.1');
  });
});

describe('restart', () => {
  it('runs vcl_recv again with a new xid, up to max_restarts, then answers 503', async () => {
    proxy = await startProxy(
      `${BACKEND}sub vcl_recv { if (req.url == "/once" && req.restarts == 0) { return (restart); } return (synth(200)); }
       sub vcl_synth { set resp.http.restarts = req.restarts; set resp.http.xid = req.xid; if (req.url == "/loop") { return (restart); } }`,
      { params: [['max_restarts', '2']] },
    );
    const once = await get(proxy.port, '/once');
    expect(once.status).toBe(200);
    expect(once.headers.restarts).toBe('1');
    const loop = await get(proxy.port, '/loop');
    expect(loop.status).toBe(503);
    expect(loop.reason).toBe('Service Unavailable');
    expect(loop.headers.restarts).toBe('3');
    expect(loop.headers['x-varnish']).toBe(loop.headers.xid);
    expect(stat(proxy, 's_synth')).toBe(5);
    expect(stat(proxy, 'client_req')).toBe(2);
  });

  it('restarts from vcl_deliver after a fetch and fetches again', async () => {
    origin = await startOrigin((req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=0' });
      res.end(String(req.headers['x-restarts']));
    });
    proxy = await startProxy(
      `${BACKEND}sub vcl_recv { set req.http.x-restarts = req.restarts; }
       sub vcl_deliver { if (req.restarts < 2) { return (restart); } }`,
      { origin },
    );
    const r = await get(proxy.port, '/r');
    expect(r.body).toBe('2');
    expect(origin.seen).toHaveLength(3);
    expect(stat(proxy, 's_fetch')).toBe(3);
  });
});

describe('retry', () => {
  it('fetches again on return (retry), up to max_retries, then vcl_backend_error delivers a 503', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=0' });
      res.end('x');
    });
    proxy = await startProxy(
      `${BACKEND}sub vcl_backend_response { if (bereq.url == "/retry" || bereq.retries == 0) { return (retry); } set beresp.http.retries = bereq.retries; }
       sub vcl_backend_error { set beresp.http.retries = bereq.retries; }`,
      { origin, params: [['max_retries', '2']] },
    );
    const once = await get(proxy.port, '/once');
    expect(once.status).toBe(200);
    expect(once.headers.retries).toBe('1');
    expect(origin.seen).toHaveLength(2);
    const r = await get(proxy.port, '/retry');
    expect(r.status).toBe(503);
    expect(r.reason).toBe('Backend fetch failed');
    expect(r.headers.retries).toBe('3');
    expect(r.body).toContain('Backend fetch failed');
    expect(origin.seen).toHaveLength(5);
    // Each try is a transaction of its own.
    const xids = origin.seen.slice(2).map((s) => Number(s.headers['x-varnish']));
    expect(new Set(xids).size).toBe(1);
    expect(stat(proxy, 's_fetch')).toBe(2);
  });

  it('retries from vcl_backend_error and fails when retries run out there', async () => {
    proxy = await startProxy(`vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "9"; }\nsub vcl_backend_error { return (retry); }`, {
      params: [['max_retries', '1']],
    });
    const r = await get(proxy.port, '/');
    expect(r.status).toBe(503);
    // As Varnish counts it: once per run of vcl_backend_error, not again for the failure.
    expect(stat(proxy, 'fetch_failed')).toBe(2);
    expect(stat(proxy, 'backend_fail')).toBe(2);
  });
});

describe('synth', () => {
  it('delivers vcl_synth with resp.status, resp.reason and synthetic()', async () => {
    proxy = await startProxy(
      `${BACKEND}sub vcl_recv { return (synth(700, "Custom")); }
       sub vcl_synth { if (resp.status == 700) { set resp.status = 301; set resp.http.location = "/elsewhere"; set resp.reason = "Gone away"; synthetic("moved: " + req.url); return (deliver); } }`,
    );
    const r = await get(proxy.port, '/here');
    expect(r.status).toBe(301);
    expect(r.reason).toBe('Gone away');
    expect(r.headers.location).toBe('/elsewhere');
    expect(r.body).toBe('moved: /here');
    expect(r.headers['content-length']).toBe('12');
    expect(stat(proxy, 's_synth')).toBe(1);
  });
});

describe('pipe', () => {
  it('tunnels an Upgrade request both ways once vcl_pipe passes Upgrade on', async () => {
    origin = await startOrigin(() => {});
    origin.server.on('upgrade', (req, socket) => {
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\nX-Conn-Seen: ${req.headers.connection}\r\n\r\n`);
      socket.on('data', (d: Buffer) => socket.write(`echo:${d}`));
      socket.on('end', () => socket.end());
    });
    proxy = await startProxy(
      `${BACKEND}sub vcl_recv { if (req.http.upgrade) { return (pipe); } }
       sub vcl_pipe { if (req.http.upgrade) { set bereq.http.upgrade = req.http.upgrade; set bereq.http.connection = req.http.connection; } }`,
      { origin },
    );
    const s = connect(proxy.port, '127.0.0.1');
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d;
    });
    const wait = async (re: RegExp): Promise<void> => {
      for (let i = 0; i < 200 && !re.test(got); i++) await sleep(10);
    };
    s.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
    await wait(/\r\n\r\n/);
    expect(got).toMatch(/^HTTP\/1\.1 101/);
    expect(got).toContain('X-Conn-Seen: Upgrade');
    s.write('ping');
    await wait(/echo:ping/);
    s.write('pong');
    await wait(/echo:pong/);
    s.end();
    // The client's end of stream reaches the backend, which closes: the tunnel is over.
    await new Promise((r) => s.once('close', r));
    expect(stat(proxy, 's_pipe')).toBe(1);
    expect(stat(proxy, 's_pipe_in')).toBe(8);
    expect(stat(proxy, 's_pipe_out')).toBe(got.length);
  });

  it('pipes a plain request with a chunked body, with Connection: close to the backend', async () => {
    origin = await startOrigin((_req, res, body) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`got ${body}`);
    });
    proxy = await startProxy(`${BACKEND}sub vcl_recv { return (pipe); }`, { origin });
    const r = await raw(proxy.port, 'POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
    expect(r.closed).toBe(true);
    expect(r.text).toMatch(/^HTTP\/1\.1 200/);
    expect(r.text).toContain('got hello world');
    const h = origin.seen[0].headers;
    expect(h.connection).toBe('close');
    expect(h['x-hop']).toBeUndefined();
    expect(h['x-varnish']).toMatch(/^\d+$/);
    expect(stat(proxy, 's_pipe')).toBe(1);
  });
});

describe('pipelining', () => {
  it('takes a connection\'s pipelined requests one after another, in order', async () => {
    origin = await startOrigin((req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'Cache-Control': 'max-age=100' });
        res.end(`body of ${req.url}`);
      }, req.url === '/slow' ? 200 : 0);
    });
    proxy = await startProxy(BACKEND, { origin });
    const r = await raw(proxy.port, 'GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const bodies = [...r.text.matchAll(/body of (\/\w+)/g)].map((m) => m[1]);
    expect(bodies).toEqual(['/slow', '/fast']);
    const xids = [...r.text.matchAll(/X-Varnish: (\d+)/g)].map((m) => Number(m[1]));
    expect(xids[1]).toBeGreaterThan(xids[0]);
    // The second request started once the first was done: it never waited on the backend with it.
    expect(origin.seen.map((x) => x.url)).toEqual(['/slow', '/fast']);
  });
});
