// Behaviours Varnish's own test cases check, end to end: pipelined requests taken one after
// another (b00012), a fetch without do_stream failing as a whole when its body breaks off
// (b00021), a backend 204 announcing a body refused (r01826), 0.0.0.0 for the addresses of a
// Unix socket connection (v00054), no Keep-Alive in objects or responses (b00080), absolute
// URLs split into Host and path (r01847), one retry when a reused backend connection closes
// without an answer (c00089).

import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Params } from '../../src/common/params.ts';
import { Shellac } from '../../src/proxy/server.ts';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKEND, get, type Origin, type ProxyHandle, startOrigin, startProxy, stat } from '../helpers/proxy.ts';

let origin: Origin | undefined;
let proxy: ProxyHandle | undefined;
afterEach(async () => {
  await proxy?.close();
  await origin?.close();
  proxy = origin = undefined;
});

/** Sends raw bytes, reads until `ms` of quiet or the connection ends. */
function raw(port: number, text: string, ms = 500): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let out = '';
    let timer = setTimeout(() => sock.destroy(), ms * 4);
    sock.on('data', (d) => {
      out += d.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(() => sock.destroy(), ms);
    });
    sock.on('error', reject);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
    sock.write(text);
  });
}

describe('as Varnish test cases expect', () => {
  it('takes pipelined requests in turn, bare LF line ends included, on one backend connection', async () => {
    const ports = new Set<number>();
    origin = await startOrigin((req, res) => {
      ports.add(req.socket.remotePort ?? 0);
      res.end(req.url === '/foo' ? 'foo' : 'foobar');
    });
    proxy = await startProxy(BACKEND, { origin });
    const out = await raw(proxy.port, 'GET /foo HTTP/1.1\nHost: foo\n\nGET /bar HTTP/1.1\r\nHost: foo\r\n\r\nGET /bar HTTP/1.1\nHost: foo\n\n');
    const xids = out.split('\r\n').filter((l) => l.startsWith('X-Varnish:'));
    expect(xids).toEqual(['X-Varnish: 1001', 'X-Varnish: 1003', 'X-Varnish: 1005 1004']);
    expect(origin.seen.map((s) => s.url)).toEqual(['/foo', '/bar']);
    expect(ports.size).toBe(1);
    expect(stat(proxy, 'sess_readahead')).toBe(2);
  });

  it('refuses protocols other than HTTP/1.0 and HTTP/1.1 with 400 (b00047)', async () => {
    origin = await startOrigin((_req, res) => res.end('x'));
    proxy = await startProxy(BACKEND, { origin });
    for (const proto of ['HTTP/1.2', 'HTTP/0.5', 'HTTP/2.0']) {
      expect(await raw(proxy.port, `GET / ${proto}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 400 /);
    }
    expect(origin.seen).toHaveLength(0);
  });

  it('sends a body that breaks off without do_stream to vcl_backend_error (r01638)', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Length': '10' });
      res.write('12345');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    proxy = await startProxy(
      `${BACKEND} sub vcl_backend_response { set beresp.do_stream = false; }
       sub vcl_backend_error { set beresp.http.err = "yes"; }`,
      { origin },
    );
    const r = await get(proxy.port, '/');
    expect(r.status).toBe(503);
    expect(r.reason).toBe('Backend fetch failed');
    expect(r.headers.err).toBe('yes');
  });

  it('answers a fetch that fails without an object with 503 Service Unavailable (r00781)', async () => {
    origin = await startOrigin((_req, res) => res.end('x'));
    proxy = await startProxy(`${BACKEND} sub vcl_backend_fetch { set bereq.url = bereq.http.none; }`, { origin });
    const r = await get(proxy.port, '/');
    expect(r.status).toBe(503);
    expect(r.reason).toBe('Service Unavailable');
    expect(origin.seen).toHaveLength(0);
  });

  it('fails the fetch of a 204 that announces a body, and serves the next one on a new connection', async () => {
    origin = await startOrigin((req, res) => {
      if (req.url === '/bad') res.socket?.write('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nabcde');
      else {
        res.writeHead(204);
        res.end();
      }
    });
    proxy = await startProxy(BACKEND, { origin });
    expect((await get(proxy.port, '/bad')).status).toBe(503);
    const ok = await get(proxy.port, '/ok');
    expect(ok.status).toBe(204);
    expect(ok.headers['content-length']).toBeUndefined();
  });

  it('calls both ends of a Unix socket connection 0.0.0.0', async () => {
    const srv = new Shellac({ params: new Params([]), storageBytes: 1 << 20, logger: pino({ level: 'silent' }) });
    await srv.vcls.load('boot', {
      source: 'vcl 4.1; backend b none; sub vcl_recv { return (synth(200)); } sub vcl_synth { set resp.http.ips = client.ip + " " + server.ip + " " + client.identity; }',
    });
    const path = join(mkdtempSync(join(tmpdir(), 'shellac-uds-')), 'a.sock');
    await srv.listen([{ name: 'a0', host: '', port: 0, path }]);
    try {
      const ips = await new Promise<string>((resolve, reject) => {
        request({ socketPath: path, path: '/', agent: false }, (res) => {
          res.resume();
          resolve(String(res.headers.ips));
        })
          .on('error', reject)
          .end();
      });
      expect(ips).toBe('0.0.0.0 0.0.0.0 0.0.0.0');
    } finally {
      await srv.close(200);
    }
  });

  it('keeps Keep-Alive out of the object and the response; vcl_backend_response still sees it', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Keep-Alive': 'timeout=3', 'Content-Length': '1' });
      res.end('x');
    });
    proxy = await startProxy(
      `${BACKEND} sub vcl_backend_response { set beresp.http.be = !(!beresp.http.Keep-Alive); }
       sub vcl_deliver { set resp.http.de = !(!resp.http.Keep-Alive); }`,
      { origin },
    );
    const r = await get(proxy.port, '/');
    expect(r.headers.be).toBe('true');
    expect(r.headers.de).toBe('false');
    expect(r.headers['keep-alive']).toBeUndefined();
  });

  it('moves the authority of an absolute http:// URL into Host; https:// only with feature https_scheme', async () => {
    origin = await startOrigin((_req, res) => res.end('x'));
    const vcl = `${BACKEND} sub vcl_deliver { set resp.http.host = req.http.host; set resp.http.url = req.url; }`;
    proxy = await startProxy(vcl, { origin });
    const plain = await raw(proxy.port, 'GET http://www.example.com/bar HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n');
    expect(plain).toContain('host: www.example.com\r\n');
    expect(plain).toContain('url: /bar\r\n');
    const tls = await raw(proxy.port, 'GET https://www.example.com/bar HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n');
    expect(tls).toContain('host: other\r\n');
    expect(tls).toContain('url: https://www.example.com/bar\r\n');
    expect(origin.seen.map((s) => s.url)).toEqual(['/bar', 'https://www.example.com/bar']);
    await proxy.close();
    proxy = await startProxy(vcl, { origin, params: [['feature', '+https_scheme']] });
    const on = await raw(proxy.port, 'GET https://www.example.com/bar HTTP/1.1\r\nHost: other\r\nConnection: close\r\n\r\n');
    expect(on).toContain('host: www.example.com\r\n');
    expect(on).toContain('url: /bar\r\n');
  });

  it('sends a request again on a new connection when a reused one closes without an answer', async () => {
    const served = new Map<unknown, number>();
    origin = await startOrigin((req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      // The second request on a connection finds it closed, as after a backend's idle timeout.
      if (n === 2) req.socket.destroy();
      else res.end('ok');
    });
    proxy = await startProxy(`${BACKEND} sub vcl_recv { return (pass); }`, { origin });
    expect((await get(proxy.port, '/1')).status).toBe(200);
    expect((await get(proxy.port, '/2')).status).toBe(200);
    expect(stat(proxy, 'backend_retry')).toBe(1);
    expect(origin.seen.map((s) => s.url)).toEqual(['/1', '/2', '/2']);
  });
});
