// dynamic through a running Shellac: names resolved by a test resolver to loopback addresses,
// origins listening on them, and the answer changed while requests run. Every request must
// succeed while the director moves from one address to the other without a VCL reload.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { get, type ProxyHandle, startProxy } from '../../test/helpers/proxy.ts';
import { resolver } from './lookup.ts';

const realLookup = resolver.lookup;
const servers: Server[] = [];
let proxy: ProxyHandle | undefined;
afterEach(async () => {
  resolver.lookup = realLookup;
  await proxy?.close();
  proxy = undefined;
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** An origin on `host` that names itself and counts its requests. */
async function origin(host: string, port = 0): Promise<{ port: number; hits: () => number }> {
  let n = 0;
  const server = createServer((req, res) => {
    n++;
    res.setHeader('x-origin', host);
    res.setHeader('x-host', req.headers.host ?? '');
    res.end(host);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(port, host, r));
  return { port: (server.address() as AddressInfo).port, hits: () => n };
}

/** The test resolver: names to the addresses the test says, counting lookups. */
function answer(table: Record<string, string[]>): { lookups: () => number } {
  let n = 0;
  resolver.lookup = async (host) => {
    n++;
    const found = table[host];
    if (found === undefined) throw new Error(`ENOTFOUND ${host}`);
    return found;
  };
  return { lookups: () => n };
}

const vcl = (port: number, ttl: string, unused = '2h') => `vcl 4.1;
import dynamic;
backend none none;
sub vcl_init {
  new d = dynamic.director(port = "${port}", ttl = ${ttl}, domain_usage_timeout = ${unused});
}
sub vcl_recv {
  if (req.url == "/by-host") {
    set req.backend_hint = d.backend();
  } else {
    set req.backend_hint = d.backend("app.test");
  }
  return (pass);
}`;

describe('dynamic director through the proxy', () => {
  it('resolves a name on first use and spreads requests over its addresses', async () => {
    const a = await origin('127.0.0.1');
    const b = await origin('127.0.0.2', a.port);
    const dns = answer({ 'app.test': ['127.0.0.1', '127.0.0.2'], 'other.test': ['127.0.0.2'] });
    proxy = await startProxy(vcl(a.port, '1h'));
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await get(proxy.port, `/${i}`);
      expect(r.status).toBe(200);
      seen.push(r.body);
    }
    expect(seen.sort()).toEqual(['127.0.0.1', '127.0.0.1', '127.0.0.2', '127.0.0.2']);
    expect(dns.lookups()).toBe(1);
    // An empty host takes the request's Host header.
    const r = await get(proxy.port, '/by-host', { headers: { host: 'other.test' } });
    expect([r.status, r.body, r.headers['x-host']]).toEqual([200, '127.0.0.2', 'other.test']);
    expect([a.hits(), b.hits()]).toEqual([2, 3]);
    const names = proxy.srv.vcls.active!.allBackends().map((x) => x.name);
    expect(names).toEqual(expect.arrayContaining([`d(127.0.0.1:${a.port})`, `d(127.0.0.2:${a.port})`]));
  });

  it('drops a name unused for domain_usage_timeout, with its backend, and resolves it again', async () => {
    const a = await origin('127.0.0.1');
    const dns = answer({ 'app.test': ['127.0.0.1'] });
    proxy = await startProxy(vcl(a.port, '0.05s', '0.2s'));
    expect((await get(proxy.port, '/1')).status).toBe(200);
    const names = () => proxy!.srv.vcls.active!.allBackends().map((x) => x.name);
    expect(names()).toContain(`d(127.0.0.1:${a.port})`);
    await expect.poll(names, { timeout: 5000 }).not.toContain(`d(127.0.0.1:${a.port})`);
    const before = dns.lookups();
    expect((await get(proxy.port, '/2')).status).toBe(200);
    expect(dns.lookups()).toBeGreaterThan(before);
  });

  it('looks names up only while the VCL is warm', async () => {
    const a = await origin('127.0.0.1');
    const dns = answer({ 'app.test': ['127.0.0.1'] });
    proxy = await startProxy(vcl(a.port, '0.02s'));
    expect((await get(proxy.port, '/1')).status).toBe(200);
    await expect.poll(dns.lookups).toBeGreaterThan(2);
    const vcls = proxy.srv.vcls;
    await vcls.load('other', { source: `vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "${a.port}"; }` });
    vcls.use('other');
    vcls.setState('boot', 'cold');
    expect(vcls.get('boot')?.vcl.temperature).toBe('cold');
    const cold = dns.lookups();
    // Several ttls later, still no lookup: the timers stopped with the VCL.
    await new Promise((r) => setTimeout(r, 200));
    expect(dns.lookups()).toBe(cold);
    vcls.setState('boot', 'warm');
    await expect.poll(dns.lookups).toBeGreaterThan(cold);
  });

  it('an unknown name gives a 503, not a crash, and is not kept: the next request looks again', async () => {
    const a = await origin('127.0.0.1');
    const table: Record<string, string[]> = {};
    const dns = answer(table);
    proxy = await startProxy(vcl(a.port, '1h'));
    expect((await get(proxy.port, '/x')).status).toBe(503);
    expect((await get(proxy.port, '/by-host', { headers: { host: 'random-1.test' } })).status).toBe(503);
    expect(dns.lookups()).toBe(2);
    table['app.test'] = ['127.0.0.1'];
    expect((await get(proxy.port, '/x')).status).toBe(200);
    expect(dns.lookups()).toBe(3);
  });

  it('follows an address change under traffic with no failed request', async () => {
    const a = await origin('127.0.0.1');
    const b = await origin('127.0.0.2', a.port);
    const table: Record<string, string[]> = { 'app.test': ['127.0.0.1'] };
    const dns = answer(table);
    proxy = await startProxy(vcl(a.port, '0.05s'));
    const statuses = new Map<number, number>();
    let movedAt = -1;
    let aAfterMove = -1;
    const deadline = Date.now() + 20_000;
    // Bounded: at most 400 requests or 20 s, four at a time.
    for (let i = 0; i < 100 && Date.now() < deadline; i++) {
      if (i === 30) table['app.test'] = ['127.0.0.2'];
      const replies = await Promise.all([0, 1, 2, 3].map((k) => get(proxy!.port, `/r${i}-${k}`)));
      for (const r of replies) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (movedAt < 0 && replies.every((r) => r.body === '127.0.0.2')) {
        movedAt = i;
        aAfterMove = a.hits();
      }
    }
    expect(statuses).toEqual(new Map([[200, 400]]));
    expect(movedAt).toBeGreaterThanOrEqual(30);
    expect(b.hits()).toBeGreaterThan(0);
    // Once moved, nothing goes back to the old address, and its backend is gone.
    expect(a.hits()).toBe(aAfterMove);
    expect(dns.lookups()).toBeGreaterThan(1);
    const names = proxy.srv.vcls.active!.allBackends().map((x) => x.name);
    expect(names).toContain(`d(127.0.0.2:${a.port})`);
    expect(names).not.toContain(`d(127.0.0.1:${a.port})`);
  });
});
