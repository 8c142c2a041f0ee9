// Kept gunzipped bodies (src/filters/gunzip-keep.ts), end to end: a gzipped object delivered to
// clients without gzip keeps its inflated bytes from the second such delivery on, bounded by
// gunzip_keep_size, and every answer (body, headers, ranges, HEAD, 304) is what the gunzip
// filter gives without keeping. Bodies are checked against the origin's plain bytes, gzip ones
// with node's zlib.

import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { getBytes } from '../helpers/bytes.ts';
import { BACKEND, closedAfterEach, startOrigin, startProxy, stat } from '../helpers/proxy.ts';

const started = closedAfterEach();

/** Text that compresses as HTML does, different per seed. */
function page(seed: number, bytes: number): Buffer {
  const words = ['shellac', 'varnish', 'cache', 'gzip', 'object', 'client', '<div>', '</div>'];
  let s = seed;
  let out = '';
  while (out.length < bytes) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    out += `${words[s % words.length]}${s % 7 === 0 ? '\n' : ' '}`;
  }
  return Buffer.from(out.slice(0, bytes));
}

/** Bytes that compress little: a gzip of 600 KB of them is far past what is inflated whole. */
function noise(bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  let s = 7;
  for (let i = 0; i < bytes; i++) {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    out[i] = 32 + ((s >> 16) % 95);
  }
  return out;
}

/** An origin serving gzip bodies: /big is 600 KB of noise (too big to keep), others 20 KB. */
async function gzipOrigin(version: { n: number }) {
  return started.origin(
    await startOrigin((req, res) => {
      const plain = req.url === '/big' ? noise(600 * 1024) : page(version.n * 100 + (req.url?.length ?? 0), 20 * 1024);
      res.writeHead(200, {
        'Content-Type': 'text/html',
        'Content-Encoding': 'gzip',
        ETag: `"v${version.n}"`,
        'Cache-Control': 'max-age=3600',
        'X-Url': req.url ?? '',
      });
      res.end(gzipSync(plain));
    }),
  );
}

const VCL = `${BACKEND}
sub vcl_recv {
  if (req.method == "PURGE") { return (purge); }
  if (req.method == "BAN") { ban("obj.http.X-Url == " + req.url); return (synth(200, "Banned")); }
  if (req.http.X-Refresh) { set req.hash_always_miss = true; }
}`;

const GZ = { 'Accept-Encoding': 'gzip' };

describe('kept gunzipped bodies', () => {
  it('serves the same bytes and headers on every delivery, from kept bytes after the second', async () => {
    const version = { n: 1 };
    const origin = await gzipOrigin(version);
    const proxy = started.proxy(await startProxy(VCL, { origin }));
    const plain = page(100 + 2, 20 * 1024);
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await getBytes(proxy.port, '/a'));
    // The first is the miss: its body streams (chunked), as Varnish sends it.
    expect(replies[0].headers['transfer-encoding']).toBe('chunked');
    for (const r of replies.slice(1)) expect(r.headers['content-length']).toBe(String(plain.length));
    for (const r of replies) {
      expect(r.status).toBe(200);
      expect(r.body.equals(plain)).toBe(true);
      expect(r.headers['content-encoding']).toBeUndefined();
      expect(r.headers.etag).toBe('W/"v1"');
    }
    // Kept bytes go with the very headers the inflating hit had.
    const same = (h: Record<string, unknown>) => ({ ...h, date: undefined, age: undefined, 'x-varnish': undefined });
    expect(same(replies[2].headers)).toEqual(same(replies[1].headers));
    expect(same(replies[3].headers)).toEqual(same(replies[1].headers));
    expect(replies[1].headers['accept-ranges']).toBe('bytes');
    expect(origin.seen).toHaveLength(1);
    // The miss streams through gunzip, the first hit inflates and keeps, the others write kept bytes.
    expect(stat(proxy, 'gunzip_kept')).toBe(1);
    expect(stat(proxy, 'gunzip_kept_hit')).toBe(2);
    expect(stat(proxy, 'n_gunzip_kept')).toBe(1);
    expect(stat(proxy, 'gunzip_kept_bytes')).toBe(plain.length);
    expect(stat(proxy, 'n_gunzip')).toBe(4);
    // A gzip client still gets the stored gzip bytes.
    const zipped = await getBytes(proxy.port, '/a', GZ);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.etag).toBe('"v1"');
    expect(gunzipSync(zipped.body).equals(plain)).toBe(true);
  });

  it('answers ranges, HEAD and conditional requests from a kept body as the filter does', async () => {
    const origin = await gzipOrigin({ n: 1 });
    const proxy = started.proxy(await startProxy(VCL, { origin }));
    const plain = page(100 + 2, 20 * 1024);
    await getBytes(proxy.port, '/r');
    await getBytes(proxy.port, '/r');
    expect(stat(proxy, 'n_gunzip_kept')).toBe(1);
    const range = await getBytes(proxy.port, '/r', { Range: 'bytes=100-1099' });
    expect(range.status).toBe(206);
    expect(range.headers['content-range']).toBe(`bytes 100-1099/${plain.length}`);
    expect(range.headers['content-length']).toBe('1000');
    expect(range.body.equals(plain.subarray(100, 1100))).toBe(true);
    const tail = await getBytes(proxy.port, '/r', { Range: 'bytes=-10' });
    expect(tail.body.equals(plain.subarray(plain.length - 10))).toBe(true);
    const outside = await getBytes(proxy.port, '/r', { Range: `bytes=${plain.length}-` });
    expect(outside.status).toBe(416);
    expect(outside.headers['content-range']).toBe(`bytes */${plain.length}`);
    const head = await getBytes(proxy.port, '/r', {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers['content-length']).toBe(String(plain.length));
    expect(head.headers['content-encoding']).toBeUndefined();
    expect(head.body.length).toBe(0);
    const notModified = await getBytes(proxy.port, '/r', { 'If-None-Match': 'W/"v1"' });
    expect(notModified.status).toBe(304);
    expect(notModified.body.length).toBe(0);
    expect(stat(proxy, 'gunzip_kept_hit')).toBeGreaterThanOrEqual(4);
    expect(origin.seen).toHaveLength(1);
  });

  it('serves the new body after the object is purged, banned or fetched again, and frees the kept one', async () => {
    const version = { n: 1 };
    const origin = await gzipOrigin(version);
    const proxy = started.proxy(await startProxy(VCL, { origin }));
    const twice = async (url: string) => {
      await getBytes(proxy.port, url);
      return getBytes(proxy.port, url);
    };
    expect((await twice('/p')).body.equals(page(102, 20 * 1024))).toBe(true);
    expect(stat(proxy, 'n_gunzip_kept')).toBe(1);

    version.n = 2;
    expect((await getBytes(proxy.port, '/p', {}, 'PURGE')).status).toBe(200);
    expect(stat(proxy, 'n_gunzip_kept')).toBe(0);
    expect(stat(proxy, 'gunzip_kept_bytes')).toBe(0);
    const afterPurge = await twice('/p');
    expect(afterPurge.body.equals(page(202, 20 * 1024))).toBe(true);
    expect(afterPurge.headers.etag).toBe('W/"v2"');

    version.n = 3;
    expect((await getBytes(proxy.port, '/p', {}, 'BAN')).status).toBe(200);
    const afterBan = await twice('/p');
    expect(afterBan.body.equals(page(302, 20 * 1024))).toBe(true);
    expect(afterBan.headers.etag).toBe('W/"v3"');
    // The banned object left at the lookup that found it banned, with its kept body.
    expect(stat(proxy, 'n_gunzip_kept')).toBe(1);
    expect(stat(proxy, 'gunzip_kept_bytes')).toBe(20 * 1024);

    // A fresh fetch (req.hash_always_miss) makes a newer object, which lookups find from then on.
    version.n = 4;
    const refreshed = await getBytes(proxy.port, '/p', { 'X-Refresh': '1' });
    expect(refreshed.body.equals(page(402, 20 * 1024))).toBe(true);
    const again = await twice('/p');
    expect(again.body.equals(page(402, 20 * 1024))).toBe(true);
    expect(again.headers.etag).toBe('W/"v4"');
    expect(origin.seen).toHaveLength(4);
  });

  it('stays within gunzip_keep_size, dropping the least recently used, and keeps nothing at 0', async () => {
    const origin = await gzipOrigin({ n: 1 });
    // Room for two 20 KB bodies, not three.
    const proxy = started.proxy(await startProxy(VCL, { origin, params: [['gunzip_keep_size', '50k']] }));
    for (const url of ['/k1', '/k2', '/k3']) {
      await getBytes(proxy.port, url);
      await getBytes(proxy.port, url);
    }
    expect(stat(proxy, 'gunzip_kept')).toBe(3);
    expect(stat(proxy, 'gunzip_kept_evicted')).toBe(1);
    expect(stat(proxy, 'n_gunzip_kept')).toBe(2);
    expect(stat(proxy, 'gunzip_kept_bytes')).toBe(40 * 1024);
    // /k1 went first: it is inflated again (and kept again, pushing out /k2).
    const hits = stat(proxy, 'gunzip_kept_hit');
    const k1 = await getBytes(proxy.port, '/k1');
    expect(k1.body.equals(page(103, 20 * 1024))).toBe(true);
    expect(stat(proxy, 'gunzip_kept_hit')).toBe(hits);
    expect(stat(proxy, 'gunzip_kept_evicted')).toBe(2);
    await getBytes(proxy.port, '/k3');
    expect(stat(proxy, 'gunzip_kept_hit')).toBe(hits + 1);

    // Lowered at run time: the next use trims to the new bound.
    proxy.srv.params.set('gunzip_keep_size', '0');
    const k3 = await getBytes(proxy.port, '/k3');
    expect(k3.body.equals(page(103, 20 * 1024))).toBe(true);
    expect(stat(proxy, 'n_gunzip_kept')).toBe(0);
    expect(stat(proxy, 'gunzip_kept_bytes')).toBe(0);
    await getBytes(proxy.port, '/k4');
    await getBytes(proxy.port, '/k4');
    expect(stat(proxy, 'n_gunzip_kept')).toBe(0);
  });

  it('streams a large body through gunzip every time and keeps nothing of it', async () => {
    const origin = await gzipOrigin({ n: 1 });
    const proxy = started.proxy(await startProxy(VCL, { origin }));
    const plain = noise(600 * 1024);
    for (let i = 0; i < 3; i++) {
      const r = await getBytes(proxy.port, '/big');
      expect(r.body.equals(plain)).toBe(true);
      if (i > 0) expect(r.headers['content-length']).toBe(String(plain.length));
    }
    expect(stat(proxy, 'gunzip_kept')).toBe(0);
    expect(stat(proxy, 'n_gunzip')).toBe(3);
  });

  it('includes a gzipped fragment in a plain ESI page from its kept body, and in a gzip page as gzip', async () => {
    const fragment = page(42, 20 * 1024);
    const origin = started.origin(
      await startOrigin((req, res) => {
        if (req.url === '/frag') {
          res.writeHead(200, { 'Content-Encoding': 'gzip', 'Cache-Control': 'max-age=3600' });
          res.end(gzipSync(fragment));
        } else {
          res.writeHead(200, { 'Cache-Control': 'max-age=3600' });
          res.end('<html><esi:include src="/frag"/></html>');
        }
      }),
    );
    const proxy = started.proxy(
      await startProxy(`${BACKEND}sub vcl_backend_response { if (bereq.url == "/page" || bereq.url == "/gzpage") { set beresp.do_esi = true; } if (bereq.url == "/gzpage") { set beresp.do_gzip = true; } }`, { origin }),
    );
    const expected = Buffer.concat([Buffer.from('<html>'), fragment, Buffer.from('</html>')]);
    for (let i = 0; i < 4; i++) {
      const plain = await getBytes(proxy.port, '/page');
      expect(plain.body.equals(expected)).toBe(true);
      const zipped = await getBytes(proxy.port, '/gzpage', GZ);
      expect(zipped.headers['content-encoding']).toBe('gzip');
      expect(gunzipSync(zipped.body).equals(expected)).toBe(true);
    }
    expect(stat(proxy, 'gunzip_kept')).toBe(1);
    expect(stat(proxy, 'gunzip_kept_hit')).toBeGreaterThanOrEqual(2);
  });

  it('keeps nothing for a pass', async () => {
    const origin = await gzipOrigin({ n: 1 });
    const proxy = started.proxy(await startProxy(`${VCL}\nsub vcl_backend_response { set beresp.uncacheable = true; }`, { origin }));
    for (let i = 0; i < 3; i++) expect((await getBytes(proxy.port, '/u')).body.equals(page(102, 20 * 1024))).toBe(true);
    expect(origin.seen).toHaveLength(3);
    expect(stat(proxy, 'gunzip_kept')).toBe(0);
  });
});
