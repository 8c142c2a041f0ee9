// gzip end to end, as Varnish 7.1 does it: http_gzip_support's Accept-Encoding handling, the
// fetch filters (do_gzip, do_gunzip, testgunzip, beresp.filters) and gunzip on delivery for a
// client that does not take gzip. Every gzip body is checked with node's own zlib.

import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BACKEND, closedAfterEach, startOrigin, startProxy, stat } from '../helpers/proxy.ts';
import { getBytes as fetchRaw } from '../helpers/bytes.ts';

const started = closedAfterEach();

const TEXT = 'Shellac gzip test line.\n'.repeat(200);
const GZ = { 'Accept-Encoding': 'gzip' };

describe('gzip on fetch, gunzip on delivery', () => {
  it('do_gzip stores gzip once; a gzip client gets it, another gets it unzipped from the same object', async () => {
    const origin = started.origin(await startOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html', ETag: '"v1"', 'Content-Length': String(TEXT.length) });
      res.end(TEXT);
    }));
    const proxy = started.proxy(await startProxy(`${BACKEND}sub vcl_backend_response { set beresp.do_gzip = true; }`, { origin }));
    const zipped = await fetchRaw(proxy.port, '/p', GZ);
    expect(zipped.status).toBe(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toBe('Accept-Encoding');
    expect(zipped.headers.etag).toBe('W/"v1"');
    expect(gunzipSync(zipped.body).toString()).toBe(TEXT);
    // The backend was asked for gzip although it sent plain text.
    expect(origin.seen[0].headers['accept-encoding']).toBe('gzip');

    const plain = await fetchRaw(proxy.port, '/p');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['content-length']).toBe(String(TEXT.length));
    expect(plain.headers.etag).toBe('W/"v1"');
    expect(plain.body.toString()).toBe(TEXT);
    expect(String(plain.headers['x-varnish']).split(' ')).toHaveLength(2);

    const zippedAgain = await fetchRaw(proxy.port, '/p', { 'Accept-Encoding': 'deflate, gzip;q=0.5' });
    expect(zippedAgain.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zippedAgain.body).toString()).toBe(TEXT);

    const head = await fetchRaw(proxy.port, '/p', {}, 'HEAD');
    expect(head.headers['content-length']).toBe(String(TEXT.length));
    expect(head.headers['content-encoding']).toBeUndefined();
    expect(head.body.length).toBe(0);

    expect(origin.seen).toHaveLength(1);
    expect(stat(proxy, 'n_gzip')).toBe(1);
    expect(stat(proxy, 'n_gunzip')).toBe(2);
  });

  it('do_gunzip stores a gzipped backend body plain; testgunzip checks one stored as it came', async () => {
    const origin = started.origin(await startOrigin((req, res) => {
      res.writeHead(200, { 'Content-Encoding': 'gzip', 'Cache-Control': 'max-age=60' });
      res.end(gzipSync(`body of ${req.url}`));
    }));
    const proxy = started.proxy(await startProxy(`${BACKEND}sub vcl_backend_response { if (bereq.url == "/plain") { set beresp.do_gunzip = true; } }
      sub vcl_deliver { set resp.http.filters = resp.filters; set resp.http.can-gzip = req.can_gzip; }`, { origin }));
    const plain = await fetchRaw(proxy.port, '/plain', GZ);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe('body of /plain');
    expect(plain.headers['can-gzip']).toBe('true');
    const kept = await fetchRaw(proxy.port, '/kept', GZ);
    expect(kept.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(kept.body).toString()).toBe('body of /kept');
    const unzipped = await fetchRaw(proxy.port, '/kept');
    expect(unzipped.headers.filters).toBe('gunzip');
    expect(unzipped.body.toString()).toBe('body of /kept');
    expect(stat(proxy, 'n_test_gunzip')).toBe(1);
    expect(stat(proxy, 'n_gunzip')).toBe(2);
  });

  it('fails a fetch whose body claims gzip but is not', async () => {
    const origin = started.origin(await startOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Encoding': 'gzip' });
      res.end('this is not gzip at all');
    }));
    const proxy = started.proxy(await startProxy(`${BACKEND}sub vcl_backend_response { set beresp.do_stream = false; }`, { origin }));
    const r = await fetchRaw(proxy.port, '/bad', GZ);
    expect(r.status).toBe(503);
    expect(stat(proxy, 'n_test_gunzip')).toBe(1);
    expect(stat(proxy, 'fetch_failed')).toBe(1);
  });

  it('fails a fetch whose gzip body goes on after its first member, as varnishd does (Junk after gzip data)', async () => {
    const bodies: Record<string, Buffer> = {
      '/two': Buffer.concat([gzipSync('first part '), gzipSync('second part')]),
      '/padded': Buffer.concat([gzipSync('padded'), Buffer.alloc(8)]),
      '/one': gzipSync('one member'),
    };
    const origin = started.origin(await startOrigin((req, res) => {
      res.writeHead(200, { 'Content-Encoding': 'gzip' });
      res.end(bodies[req.url!.replace(/\?.*/, '')]);
    }));
    const proxy = started.proxy(await startProxy(`${BACKEND}sub vcl_backend_response { set beresp.do_stream = false; if (bereq.url ~ "gunzip") { set beresp.do_gunzip = true; } }`, { origin }));
    for (const filter of ['testgunzip', 'gunzip']) {
      for (const url of ['/two', '/padded']) expect((await fetchRaw(proxy.port, `${url}?${filter}`, GZ)).status).toBe(503);
      const one = await fetchRaw(proxy.port, `/one?${filter}`);
      expect(one.status).toBe(200);
      expect(one.body.toString()).toBe('one member');
    }
    expect(stat(proxy, 'fetch_failed')).toBe(4);
  });

  it('names an unknown filter in beresp.filters and fails the fetch', async () => {
    const origin = started.origin(await startOrigin((_req, res) => res.end('x')));
    const proxy = started.proxy(await startProxy(`${BACKEND}sub vcl_backend_response { set beresp.filters = "gzip nosuch"; }`, { origin }));
    const r = await fetchRaw(proxy.port, '/f');
    expect(r.status).toBe(503);
  });

  it('reduces Accept-Encoding after vcl_recv for the cache, and leaves a pass alone', async () => {
    const origin = started.origin(await startOrigin((_req, res) => res.end('ok')));
    const proxy = started.proxy(await startProxy(`${BACKEND}sub vcl_recv { set req.http.x-ae-recv = req.http.Accept-Encoding; if (req.url == "/pass") { return (pass); } }
      sub vcl_deliver { set resp.http.x-ae-recv = req.http.x-ae-recv; set resp.http.x-ae = req.http.Accept-Encoding; }`, { origin }));
    const r = await fetchRaw(proxy.port, '/c', { 'Accept-Encoding': 'br, gzip' });
    expect(r.headers['x-ae-recv']).toBe('br, gzip');
    expect(r.headers['x-ae']).toBe('gzip');
    const none = await fetchRaw(proxy.port, '/d', { 'Accept-Encoding': 'br' });
    // (VCL sets a header from an unset one to the empty string.)
    expect(none.headers['x-ae']).toBe('');
    expect(origin.seen[1].headers['accept-encoding']).toBe('gzip');
    await fetchRaw(proxy.port, '/pass', { 'Accept-Encoding': 'br' });
    expect(origin.seen[2].headers['accept-encoding']).toBe('br');
  });

  it('cuts a range from the gunzipped body for a client without gzip, from the stored bytes for one with it', async () => {
    const origin = started.origin(await startOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Encoding': 'gzip', 'Cache-Control': 'max-age=60' });
      res.end(gzipSync('0123456789abcdefghij'));
    }));
    const proxy = started.proxy(await startProxy(BACKEND, { origin }));
    const whole = await fetchRaw(proxy.port, '/r', GZ);
    const plainRange = await fetchRaw(proxy.port, '/r', { Range: 'bytes=2-5' });
    expect(plainRange.status).toBe(206);
    expect(plainRange.headers['content-range']).toBe('bytes 2-5/20');
    expect(plainRange.body.toString()).toBe('2345');
    const gzRange = await fetchRaw(proxy.port, '/r', { ...GZ, Range: 'bytes=0-9' });
    expect(gzRange.status).toBe(206);
    expect(gzRange.headers['content-range']).toBe(`bytes 0-9/${whole.body.length}`);
    expect(gzRange.body.equals(whole.body.subarray(0, 10))).toBe(true);
  });

  it('fails a fetch read whole whose gzipped body does not fit the storage at all (r01036)', async () => {
    const origin = started.origin(await startOrigin((_req, res) => res.end(Buffer.alloc(300_000, 'a'))));
    const proxy = started.proxy(await startProxy(`${BACKEND}sub vcl_backend_response { set beresp.do_stream = false; set beresp.do_gzip = true; }`, {
      origin,
      storageBytes: 100_000,
      params: [['gzip_level', '0']],
    }));
    const r = await fetchRaw(proxy.port, '/big');
    expect(r.status).toBe(503);
    expect(stat(proxy, 'n_gzip')).toBe(1);
  });
});
