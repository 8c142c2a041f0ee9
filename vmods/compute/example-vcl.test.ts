// vcl-examples/compute.vcl serves every example program, as it is but for its addresses: the
// origin's port and the self-request target (a Unix socket of the server under test).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, type Origin, type ProxyHandle, startOrigin } from '../../test/helpers/proxy.ts';
import { built, serveWithSocket, tempDir } from './test-setup.ts';

const EXAMPLE = join(import.meta.dirname, '../../vcl-examples/compute.vcl');

let p: ProxyHandle;
let origin: Origin;

beforeAll(async () => {
  await built();
  origin = await startOrigin((req, res) => {
    if (req.url === '/api/product.json') {
      res.setHeader('content-type', 'application/json');
      res.end('{ "id": 7,\n  "name": "kettle" }');
    } else {
      res.statusCode = 404;
      res.end('no');
    }
  });
  const vcl = readFileSync(EXAMPLE, 'utf8')
    .replace('.port = "8080";', `.port = "${origin.port}";`)
    .replace('compute.init_self_requests("", "http://127.0.0.1:6081", 20);', 'compute.init_self_requests("SOCKET", "", 20);');
  p = await serveWithSocket(vcl, tempDir());
}, 60_000);
afterAll(async () => {
  await p?.close();
  await origin?.close();
});

describe('vcl-examples/compute.vcl', () => {
  it('serves hello', async () => {
    const r = await get(p.port, '/hello');
    expect(r.body).toBe('Hello from /hello (greeting)\n');
  });

  it('serves the origin JSON transformed through the chain, and caches it', async () => {
    const r = await get(p.port, '/transformed/product');
    expect(r.body).toBe('{"via":"shellac","id":7,"name":"kettle"}');
    const again = await get(p.port, '/transformed/product');
    expect(String(again.headers['x-varnish']).split(' ')).toHaveLength(2);
  });

  it('renders the HTML template with the query', async () => {
    const r = await get(p.port, '/page?title=Edge');
    expect(r.body).toBe('<!doctype html><title>Edge</title><h1>Edge</h1><ul><li>fast</li><li>sandboxed</li><li>cached</li></ul>');
  });

  it('renders the Mandelbrot set as a PGM image of the size asked', async () => {
    const r = await get(p.port, '/mandelbrot?64x32');
    expect(r.headers['content-type']).toBe('image/x-portable-graymap');
    expect(r.body.startsWith('P5\n64 32\n255\n')).toBe(true);
    expect(Number(r.headers['content-length'])).toBe('P5\n64 32\n255\n'.length + 64 * 32);
  });

  it('serves the statistics as JSON, and takes a live update with the key', async () => {
    const update = await get(p.port, '/compute/update', {
      method: 'POST',
      headers: { 'x-program': 'template', 'x-liveupdate': 'change-me' },
      body: "function handle() { return { body: 'swapped' }; }",
    });
    expect(update.status).toBe(200);
    expect((await get(p.port, '/page?v=2')).body).toBe('swapped');
    const stats = JSON.parse((await get(p.port, '/compute/stats')).body);
    expect(stats.template.live_updates).toBe(1);
  });
});
