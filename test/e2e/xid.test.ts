// Transaction ids as Varnish (vtc_mode) hands them out: the first session is 1000, and every
// session, request and fetch takes the next number, so a second connection's first request on
// a cached object reads `1004 1002`.

import { afterEach, describe, expect, it } from 'vitest';
import { BACKEND, get, type Origin, type ProxyHandle, startOrigin, startProxy, stat } from '../helpers/proxy.ts';

let origin: Origin | undefined;
let proxy: ProxyHandle | undefined;
afterEach(async () => {
  await proxy?.close();
  await origin?.close();
  proxy = origin = undefined;
});

describe('xids', () => {
  it('numbers sessions, requests and fetches from 1000 in one sequence', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=100' });
      res.end('x');
    });
    proxy = await startProxy(BACKEND, { origin });
    const miss = await get(proxy.port, '/');
    expect(miss.headers['x-varnish']).toBe('1001');
    expect(origin.seen[0].headers['x-varnish']).toBe('1002');
    const hit = await get(proxy.port, '/');
    expect(hit.headers['x-varnish']).toBe('1004 1002');
    expect(stat(proxy, 's_sess')).toBe(2);
  });

  it('names the passed object after a pass from vcl_hit, counted as a hit (c00010)', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=100' });
      res.end('x');
    });
    proxy = await startProxy(`${BACKEND} sub vcl_hit { return (pass); }`, { origin });
    expect((await get(proxy.port, '/')).headers['x-varnish']).toBe('1001');
    expect((await get(proxy.port, '/')).headers['x-varnish']).toBe('1004 1005');
    expect(stat(proxy, 'cache_hit')).toBe(1);
    expect(stat(proxy, 's_pass')).toBe(1);
  });

  it('gives sess.xid the xid of the connection', async () => {
    origin = await startOrigin((_req, res) => res.end('x'));
    proxy = await startProxy(`${BACKEND} sub vcl_deliver { set resp.http.sess = sess.xid; }`, { origin });
    expect((await get(proxy.port, '/')).headers.sess).toBe('1000');
    expect((await get(proxy.port, '/')).headers.sess).toBe('1003');
  });
});
