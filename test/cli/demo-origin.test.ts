// The demo origin `npm start` runs: each page's caching headers, the ETag revalidation, the slow
// page's delay, and links between the pages.

import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { type DemoOrigin, startDemoOrigin } from '../../src/cli/demo-origin.ts';

let origin: DemoOrigin | null = null;
afterEach(async () => {
  await origin?.close();
  origin = null;
});

interface Got {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  ms: number;
}

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Got> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: Date.now() - start }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('demo origin', () => {
  it('serves linked pages, each with its caching headers', async () => {
    origin = await startDemoOrigin({ port: 0, slowMs: 150 });
    expect(origin.url).toBe(`http://127.0.0.1:${origin.port}`);
    const home = await get(origin.port, '/');
    expect(home.status).toBe(200);
    expect(home.headers['cache-control']).toBe('public, max-age=60');
    expect(home.headers['content-type']).toMatch(/^text\/html/);
    for (const link of ['/static/style.css', '/api/time', '/slow', '/etag', '/private', '/cookie']) {
      expect(home.body).toContain(`href="${link}"`);
    }
    const css = await get(origin.port, '/static/style.css');
    expect(css.headers['cache-control']).toBe('public, max-age=86400');
    expect(css.headers['content-type']).toBe('text/css');
    const time = await get(origin.port, '/api/time');
    expect(time.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(time.body).now).toMatch(/^\d{4}-/);
    expect((await get(origin.port, '/private')).headers['cache-control']).toBe('private');
    const cookie = await get(origin.port, '/cookie');
    expect(cookie.headers['set-cookie']?.[0]).toMatch(/^demo=/);
    expect((await get(origin.port, '/nowhere')).status).toBe(404);
  });

  it('answers If-None-Match with 304 on /etag', async () => {
    origin = await startDemoOrigin({ port: 0 });
    const first = await get(origin.port, '/etag');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"demo-/);
    const again = await get(origin.port, '/etag', { 'If-None-Match': etag });
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    expect((await get(origin.port, '/etag', { 'If-None-Match': '"other"' })).status).toBe(200);
  });

  it('makes /slow wait, and answers HEAD without a body', async () => {
    origin = await startDemoOrigin({ port: 0, slowMs: 200 });
    const slow = await get(origin.port, '/slow');
    expect(slow.status).toBe(200);
    expect(slow.ms).toBeGreaterThanOrEqual(190);
    expect(slow.headers['cache-control']).toBe('public, max-age=60');
    const head = await get(origin.port, '/', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(100);
  });
});
