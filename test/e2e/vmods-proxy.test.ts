// VMODs acting on real traffic: purge's hard and soft purges on the cache, and directors
// spreading requests over real origins and skipping the ones marked sick.

import { afterEach, describe, expect, it } from 'vitest';
import { get, type Origin, type ProxyHandle, sleep, startOrigin, startProxy } from '../helpers/proxy.ts';

const origins: Origin[] = [];
let proxy: ProxyHandle | undefined;
afterEach(async () => {
  await proxy?.close();
  for (const o of origins.splice(0)) await o.close();
  proxy = undefined;
});

/** An origin that names itself and counts its requests. */
async function named(name: string, maxAge = 60): Promise<Origin & { hits: () => number }> {
  let n = 0;
  const o = await startOrigin((_req, res) => {
    n++;
    res.writeHead(200, { 'Cache-Control': `max-age=${maxAge}` });
    res.end(`${name}${n}`);
  });
  origins.push(o);
  return Object.assign(o, { hits: () => n });
}

describe('purge VMOD through the proxy', () => {
  const vcl = (port: number) => `vcl 4.1;
import purge;
backend default { .host = "127.0.0.1"; .port = "${port}"; }
sub vcl_recv {
  if (req.method == "PURGE") { return (hash); }
}
sub vcl_hit {
  if (req.method == "PURGE" && req.http.soft) { set req.http.n = purge.soft(0s, 30s); return (synth(200, "soft " + req.http.n)); }
  if (req.method == "PURGE") { set req.http.n = purge.hard(); return (synth(200, "purged " + req.http.n)); }
}
sub vcl_miss {
  if (req.method == "PURGE") { return (synth(404, "not cached")); }
}`;

  it('purge.hard() from vcl_hit removes the object', async () => {
    const o = await named('a');
    proxy = await startProxy(vcl(o.port));
    expect((await get(proxy.port, '/x')).body).toBe('a1');
    expect((await get(proxy.port, '/x')).body).toBe('a1');
    const p = await get(proxy.port, '/x', { method: 'PURGE' });
    expect([p.status, p.reason]).toEqual([200, 'purged 1']);
    expect((await get(proxy.port, '/x')).body).toBe('a2');
    expect((await get(proxy.port, '/nothing', { method: 'PURGE' })).status).toBe(404);
  });

  it('purge.soft() keeps the object in grace: stale delivered once, then refreshed', async () => {
    const o = await named('b');
    proxy = await startProxy(vcl(o.port));
    expect((await get(proxy.port, '/y')).body).toBe('b1');
    const p = await get(proxy.port, '/y', { method: 'PURGE', headers: { soft: '1' } });
    expect([p.status, p.reason]).toEqual([200, 'soft 1']);
    // Expired but in grace: the stale copy, and a background refresh.
    expect((await get(proxy.port, '/y')).body).toBe('b1');
    await sleep(150);
    expect((await get(proxy.port, '/y')).body).toBe('b2');
    expect(o.hits()).toBe(2);
  });
});

describe('directors through the proxy', () => {
  it('round_robin spreads misses over its backends, and skips a sick one', async () => {
    const a = await named('a', 0);
    const b = await named('b', 0);
    proxy = await startProxy(`vcl 4.1;
import directors;
backend a { .host = "127.0.0.1"; .port = "${a.port}"; }
backend b { .host = "127.0.0.1"; .port = "${b.port}"; }
sub vcl_init { new rr = directors.round_robin(); rr.add_backend(a); rr.add_backend(b); }
sub vcl_recv { set req.backend_hint = rr.backend(); return (pass); }`);
    for (let i = 0; i < 4; i++) await get(proxy.port, `/${i}`);
    expect([a.hits(), b.hits()]).toEqual([2, 2]);
    const backend = proxy.srv.vcls.active?.backend('a') as unknown as { setHealth(s: string): void };
    backend.setHealth('sick');
    for (let i = 0; i < 4; i++) expect((await get(proxy.port, `/s${i}`)).body).toMatch(/^b/);
    expect(a.hits()).toBe(2);
  });

  it('fallback uses the first healthy backend, and answers 503 when none is', async () => {
    const a = await named('a', 0);
    const b = await named('b', 0);
    proxy = await startProxy(`vcl 4.1;
import directors;
backend a { .host = "127.0.0.1"; .port = "${a.port}"; }
backend b { .host = "127.0.0.1"; .port = "${b.port}"; }
sub vcl_init { new fb = directors.fallback(); fb.add_backend(a); fb.add_backend(b); }
sub vcl_recv { set req.backend_hint = fb.backend(); return (pass); }`);
    expect((await get(proxy.port, '/1')).body).toMatch(/^a/);
    const vcl = proxy.srv.vcls.active!;
    (vcl.backend('a') as unknown as { setHealth(s: string): void }).setHealth('sick');
    expect((await get(proxy.port, '/2')).body).toMatch(/^b/);
    (vcl.backend('b') as unknown as { setHealth(s: string): void }).setHealth('sick');
    expect((await get(proxy.port, '/3')).status).toBe(503);
  });
});
