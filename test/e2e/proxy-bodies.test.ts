// Request bodies end to end: streamed to the backend on a pass (the backend sees bytes before
// the client has sent them all), and cached by std.cache_req_body so that a retry can send
// them again; a streamed body cannot be sent twice.

import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKEND, get, type Origin, type ProxyHandle, startOrigin, startProxy, stat } from '../helpers/proxy.ts';

let origin: Origin | undefined;
let proxy: ProxyHandle | undefined;
afterEach(async () => {
  await proxy?.close();
  await origin?.close();
  proxy = origin = undefined;
});

describe('request bodies', () => {
  it('streams a pass body to the backend as the client sends it', async () => {
    let firstChunkAt = 0;
    origin = await startOrigin((_req, res, body) => {
      res.writeHead(200);
      res.end(`${body.length}`);
    });
    origin.server.prependListener('request', (req) => {
      req.once('data', () => {
        firstChunkAt = Date.now();
      });
    });
    proxy = await startProxy(BACKEND, { origin });
    const chunk = 'p'.repeat(64 * 1024);
    let lastSentAt = 0;
    const reply = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxy!.port, path: '/upload', method: 'POST', agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c;
        });
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      let i = 0;
      const t = setInterval(() => {
        req.write(chunk);
        if (++i === 8) {
          clearInterval(t);
          lastSentAt = Date.now();
          req.end();
        }
      }, 40);
    });
    expect(reply).toBe(String(8 * chunk.length));
    expect(origin.seen[0].headers['transfer-encoding']).toBe('chunked');
    // The backend had the first bytes well before the client finished sending.
    expect(firstChunkAt).toBeGreaterThan(0);
    expect(lastSentAt - firstChunkAt).toBeGreaterThan(150);
    expect(stat(proxy, 's_req_bodybytes')).toBe(8 * chunk.length);
    expect(stat(proxy, 's_pass')).toBe(1);
  });

  it('passes a body with Content-Length as is', async () => {
    origin = await startOrigin((_req, res, body) => {
      res.writeHead(200);
      res.end(`echo ${body}`);
    });
    proxy = await startProxy(BACKEND, { origin });
    const r = await get(proxy.port, '/form', { method: 'PUT', headers: { 'Content-Length': '11' }, body: 'hello world' });
    expect(r.body).toBe('echo hello world');
    expect(origin.seen[0].method).toBe('PUT');
    expect(origin.seen[0].headers['content-length']).toBe('11');
  });

  it('sends a body cached by std.cache_req_body again on each retry', async () => {
    origin = await startOrigin((_req, res, body) => {
      res.writeHead(200);
      res.end(`got ${body}`);
    });
    proxy = await startProxy(
      `${BACKEND}import std;
       sub vcl_recv { if (!std.cache_req_body(1KB)) { return (synth(413)); } return (pass); }
       sub vcl_backend_response { if (bereq.retries < 2) { return (retry); } }`,
      { origin },
    );
    const r = await get(proxy.port, '/retry', { method: 'POST', body: 'the same body' });
    expect(r.body).toBe('got the same body');
    expect(origin.seen.map((s) => s.body)).toEqual(['the same body', 'the same body', 'the same body']);
    expect(stat(proxy, 's_req_bodybytes')).toBe(13);
    const big = await get(proxy.port, '/retry', { method: 'POST', body: 'x'.repeat(2000) });
    expect(big.status).toBe(413);
    expect(origin.seen).toHaveLength(3);
  });

  it('refuses to retry with a streamed body it no longer has', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200);
      res.end('ok');
    });
    proxy = await startProxy(`${BACKEND}sub vcl_backend_response { if (bereq.retries == 0) { return (retry); } }`, { origin });
    const r = await get(proxy.port, '/once', { method: 'POST', body: 'streamed' });
    expect(r.status).toBe(503);
    expect(origin.seen).toHaveLength(1);
    expect(origin.seen[0].body).toBe('streamed');
  });
});
