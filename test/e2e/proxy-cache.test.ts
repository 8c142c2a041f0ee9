// The cache seen through the proxy: Vary variants, hit-for-miss and hit-for-pass, the request
// flags that skip the cache or the waiting list, grace with one background fetch, keep and
// revalidation with a 304, bans (ban(), std.ban() and the lurker) and purges, each with the
// counters Varnish would show.

import { afterEach, describe, expect, it } from 'vitest';
import { BACKEND, get, type Origin, type ProxyHandle, sleep, startOrigin, startProxy, stat } from '../helpers/proxy.ts';

let origin: Origin | undefined;
let proxy: ProxyHandle | undefined;
afterEach(async () => {
  await proxy?.close();
  await origin?.close();
  proxy = origin = undefined;
});

/** An origin answering `body(n)` for its n-th request, with these headers. */
async function counting(headers: Record<string, string>, delayMs = 0): Promise<Origin> {
  let n = 0;
  return startOrigin((req, res) => {
    const i = ++n;
    setTimeout(() => {
      res.writeHead(200, headers);
      res.end(`${req.url} ${i}${req.headers['accept-language'] ? ` ${req.headers['accept-language']}` : ''}`);
    }, delayMs);
  });
}

describe('variants', () => {
  it('keeps one object per Vary variant under one hash, and a purge removes them all', async () => {
    origin = await counting({ 'Cache-Control': 'max-age=100', Vary: 'Accept-Language' });
    proxy = await startProxy(`${BACKEND}sub vcl_recv { if (req.method == "PURGE") { return (purge); } }`, { origin });
    const en = { 'Accept-Language': 'en' };
    const fr = { 'Accept-Language': 'fr' };
    expect((await get(proxy.port, '/v', { headers: en })).body).toBe('/v 1 en');
    expect((await get(proxy.port, '/v', { headers: fr })).body).toBe('/v 2 fr');
    expect((await get(proxy.port, '/v', { headers: en })).body).toBe('/v 1 en');
    expect((await get(proxy.port, '/v', { headers: fr })).body).toBe('/v 2 fr');
    expect(stat(proxy, 'n_object')).toBe(2);
    expect(stat(proxy, 'cache_hit')).toBe(2);
    const p = await get(proxy.port, '/v', { method: 'PURGE' });
    expect(p.status).toBe(200);
    expect(stat(proxy, 'n_object')).toBe(0);
    expect(stat(proxy, 'n_purges')).toBe(1);
    expect(stat(proxy, 'n_obj_purged')).toBe(2);
    expect((await get(proxy.port, '/v', { headers: fr })).body).toBe('/v 3 fr');
  });
});

describe('uncacheable content', () => {
  it('hit-for-miss: uncacheable responses are fetched each time, concurrently, without waiting on each other', async () => {
    origin = await counting({ 'Cache-Control': 'max-age=100', 'Set-Cookie': 'a=b' }, 200);
    proxy = await startProxy(BACKEND, { origin });
    await get(proxy.port, '/hfm');
    const started = Date.now();
    const replies = await Promise.all([get(proxy.port, '/hfm'), get(proxy.port, '/hfm'), get(proxy.port, '/hfm')]);
    // Three fetches side by side: about one origin delay, not three.
    expect(Date.now() - started).toBeLessThan(550);
    expect(new Set(replies.map((r) => r.body)).size).toBe(3);
    expect(origin.seen).toHaveLength(4);
    expect(stat(proxy, 'cache_hitmiss')).toBe(3);
    expect(stat(proxy, 'cache_miss')).toBe(4);
    expect(stat(proxy, 'busy_sleep')).toBe(0);
  });

  it('hit-for-pass: return (pass(ttl)) sends the next requests through vcl_pass until it expires', async () => {
    origin = await counting({ 'Cache-Control': 'max-age=100' });
    proxy = await startProxy(
      `${BACKEND}sub vcl_backend_response { if (bereq.url == "/hfp") { return (pass(1s)); } }
       sub vcl_pass { set req.http.x-passed = "yes"; }
       sub vcl_deliver { set resp.http.x-hitpass = req.is_hitpass; }`,
      { origin },
    );
    const first = await get(proxy.port, '/hfp');
    expect(first.headers['x-hitpass']).toBe('false');
    const second = await get(proxy.port, '/hfp');
    expect(second.headers['x-hitpass']).toBe('true');
    expect(origin.seen[1].headers['x-passed']).toBe('yes');
    expect(stat(proxy, 'cache_hitpass')).toBe(1);
    expect(stat(proxy, 's_pass')).toBe(1);
    await sleep(1100);
    const third = await get(proxy.port, '/hfp');
    expect(third.headers['x-hitpass']).toBe('false');
    expect(origin.seen).toHaveLength(3);
  });
});

describe('request flags', () => {
  it('req.hash_always_miss fetches anew and the new object replaces the old', async () => {
    origin = await counting({ 'Cache-Control': 'max-age=100' });
    proxy = await startProxy(`${BACKEND}sub vcl_recv { if (req.http.x-refresh) { set req.hash_always_miss = true; } }`, { origin });
    expect((await get(proxy.port, '/m')).body).toBe('/m 1');
    expect((await get(proxy.port, '/m')).body).toBe('/m 1');
    expect((await get(proxy.port, '/m', { headers: { 'X-Refresh': '1' } })).body).toBe('/m 2');
    expect((await get(proxy.port, '/m')).body).toBe('/m 2');
    expect(stat(proxy, 'cache_miss')).toBe(2);
    expect(stat(proxy, 'cache_hit')).toBe(2);
  });

  it('req.hash_ignore_busy does not wait for a fetch in progress; others coalesce on the waiting list', async () => {
    origin = await counting({ 'Cache-Control': 'max-age=100' }, 200);
    proxy = await startProxy(`${BACKEND}sub vcl_recv { if (req.http.x-nowait) { set req.hash_ignore_busy = true; } }`, { origin });
    const first = get(proxy.port, '/b');
    await sleep(50);
    const waiting = get(proxy.port, '/b');
    const impatient = get(proxy.port, '/b', { headers: { 'X-Nowait': '1' } });
    const [a, b, c] = await Promise.all([first, waiting, impatient]);
    expect(a.body).toBe('/b 1');
    expect(b.body).toBe('/b 1');
    expect(c.body).toBe('/b 2');
    expect(origin.seen).toHaveLength(2);
    expect(stat(proxy, 'busy_sleep')).toBe(1);
    expect(stat(proxy, 'busy_wakeup')).toBe(1);
  });
});

describe('grace and keep', () => {
  it('serves a stale object in grace to everyone while one background fetch refreshes it', async () => {
    origin = await counting({ 'Cache-Control': 'max-age=1' }, 200);
    proxy = await startProxy(`${BACKEND}sub vcl_backend_response { set beresp.grace = 30s; }`, { origin });
    expect((await get(proxy.port, '/g')).body).toBe('/g 1');
    await sleep(1100);
    const started = Date.now();
    const stale = await Promise.all(Array.from({ length: 5 }, () => get(proxy!.port, '/g')));
    expect(Date.now() - started).toBeLessThan(200);
    expect(stale.map((r) => r.body)).toEqual(Array(5).fill('/g 1'));
    await sleep(300);
    expect((await get(proxy.port, '/g')).body).toBe('/g 2');
    expect(origin.seen).toHaveLength(2);
    expect(stat(proxy, 'cache_hit_grace')).toBe(5);
    expect(stat(proxy, 's_bgfetch')).toBe(1);
    expect(stat(proxy, 's_fetch')).toBe(2);
  });

  it('revalidates a kept object with its validators; a 304 refreshes it (beresp.was_304)', async () => {
    let n = 0;
    origin = await startOrigin((req, res) => {
      n++;
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, { ETag: '"v1"', 'Cache-Control': 'max-age=100', 'X-Fresh': String(n) });
        res.end();
        return;
      }
      res.writeHead(200, { ETag: '"v1"', 'Last-Modified': 'Thu, 01 Jan 2026 00:00:00 GMT', 'Cache-Control': 'max-age=1', 'X-Fresh': String(n) });
      res.end('payload');
    });
    proxy = await startProxy(
      `${BACKEND}sub vcl_backend_response { set beresp.grace = 0s; set beresp.keep = 30s; set beresp.http.x-was-304 = beresp.was_304; }`,
      { origin },
    );
    const first = await get(proxy.port, '/k');
    expect(first.headers['x-was-304']).toBe('false');
    await sleep(1100);
    const again = await get(proxy.port, '/k');
    expect(origin.seen[1].headers['if-none-match']).toBe('"v1"');
    expect(origin.seen[1].headers['if-modified-since']).toBe('Thu, 01 Jan 2026 00:00:00 GMT');
    expect(again.status).toBe(200);
    expect(again.body).toBe('payload');
    expect(again.headers['x-was-304']).toBe('true');
    expect(again.headers['x-fresh']).toBe('2');
    // The refreshed object now lives max-age=100 from the 304.
    const hit = await get(proxy.port, '/k');
    expect(hit.body).toBe('payload');
    expect(origin.seen).toHaveLength(2);
    expect(stat(proxy, 'fetch_304')).toBe(1);
    expect(stat(proxy, 'n_object')).toBe(1);
  });
});

describe('bans', () => {
  const BAN_VCL = `${BACKEND}import std;
    sub vcl_recv {
      if (req.http.x-ban) { ban("req.url ~ " + req.http.x-ban); return (synth(200, "Banned")); }
      if (req.http.x-tag) {
        if (std.ban("obj.http.x-tag == " + req.http.x-tag)) { return (synth(200, "Banned")); }
        return (synth(400, std.ban_error()));
      }
    }`;

  it('ban() removes the matching objects at their next lookup', async () => {
    origin = await counting({ 'Cache-Control': 'max-age=100' });
    proxy = await startProxy(BAN_VCL, { origin });
    for (const u of ['/a1', '/a2', '/b']) await get(proxy.port, u);
    // (node's parser knows a fixed set of methods: a BAN method would be refused as malformed)
    const ban = await get(proxy.port, '/', { headers: { 'X-Ban': '^/a' } });
    expect(ban.reason).toBe('Banned');
    expect(stat(proxy, 'bans')).toBeGreaterThanOrEqual(1);
    expect((await get(proxy.port, '/a1')).body).toBe('/a1 4');
    expect((await get(proxy.port, '/a2')).body).toBe('/a2 5');
    expect((await get(proxy.port, '/b')).body).toBe('/b 3');
    expect(stat(proxy, 'bans_obj_killed')).toBe(2);
  });

  it('std.ban() on obj.* is applied by the lurker without any request, and bad expressions are refused', async () => {
    let n = 0;
    origin = await startOrigin((req, res) => {
      n++;
      res.writeHead(200, { 'Cache-Control': 'max-age=100', 'X-Tag': req.url!.startsWith('/t') ? 't1' : 'other' });
      res.end(String(n));
    });
    proxy = await startProxy(BAN_VCL, { origin, params: [['ban_lurker_age', '0'], ['ban_lurker_sleep', '0.01']] });
    for (const u of ['/t1', '/t2', '/o']) await get(proxy.port, u);
    expect(stat(proxy, 'n_object')).toBe(3);
    const ban = await get(proxy.port, '/', { headers: { 'X-Tag': 't1' } });
    expect(ban.status).toBe(200);
    for (let i = 0; i < 100 && stat(proxy, 'n_object') > 1; i++) await sleep(20);
    expect(stat(proxy, 'n_object')).toBe(1);
    expect(stat(proxy, 'bans_lurker_obj_killed')).toBe(2);
    expect(stat(proxy, 'bans_obj')).toBeGreaterThanOrEqual(1);
    const bad = await get(proxy.port, '/', { headers: { 'X-Tag': 'a && obj.nope == b' } });
    expect(bad.status).toBe(400);
    expect(bad.reason).not.toBe('');
  });
});
