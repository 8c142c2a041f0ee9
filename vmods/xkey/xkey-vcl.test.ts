// xkey through a running Shellac: real sockets, an origin tagging its pages with xkey headers,
// the upstream manual's PURGE recipe, soft purges delivering in grace, and the index living as
// long as some loaded VCL imports xkey.

import { afterEach, describe, expect, it } from 'vitest';
import { get, type Origin, type ProxyHandle, startOrigin, startProxy } from '../../test/helpers/proxy.ts';
import { indexOf } from './index.ts';

let origin: Origin | undefined;
let proxy: ProxyHandle | undefined;
afterEach(async () => {
  await proxy?.close();
  await origin?.close();
  proxy = undefined;
  origin = undefined;
});

/** The keys each page carries: every page its own id, plus the products it lists. */
const TAGS: Record<string, string[]> = {
  '/p/1': ['xkey: p1'],
  '/p/2': ['xkey: p2'],
  '/list': ['xkey: p1 p2', 'xkey: list'],
  '/old': ['X-HashTwo: p2, legacy'],
};

/** An origin that numbers its answers per URL, so a refetch shows. */
async function taggingOrigin(): Promise<Origin> {
  const n = new Map<string, number>();
  return startOrigin((req, res) => {
    const url = req.url ?? '/';
    n.set(url, (n.get(url) ?? 0) + 1);
    const headers: [string, string][] = [['Cache-Control', 'max-age=60']];
    for (const line of TAGS[url] ?? []) {
      const [name, value] = line.split(': ');
      headers.push([name, value]);
    }
    res.writeHead(200, headers.flat());
    res.end(`${url}#${n.get(url)}`);
  });
}

const VCL = `vcl 4.1;
import xkey;
backend default { .host = "127.0.0.1"; .port = "ORIGIN_PORT"; }
acl purgers { "127.0.0.1"; }
sub vcl_recv {
  if (req.method == "PURGE") {
    if (client.ip !~ purgers) { return (synth(403, "Forbidden")); }
    if (req.http.xkey-soft) {
      set req.http.n-gone = xkey.softpurge(req.http.xkey-soft);
      return (synth(200, "Invalidated " + req.http.n-gone + " objects"));
    }
    if (req.http.xkey) {
      set req.http.n-gone = xkey.purge(req.http.xkey);
      return (synth(200, "Invalidated " + req.http.n-gone + " objects"));
    }
    return (purge);
  }
}
sub vcl_backend_response {
  set beresp.grace = 1m;
  if (bereq.url == "/vcl-tagged") { set beresp.http.xkey = "from-vcl"; }
}`;

async function warm(port: number, urls: string[]): Promise<void> {
  for (const url of urls) expect((await get(port, url)).body).toBe(`${url}#1`);
}

describe('xkey through the proxy', () => {
  it('purges every page carrying a key, and only those', async () => {
    origin = await taggingOrigin();
    proxy = await startProxy(VCL, { origin });
    await warm(proxy.port, ['/p/1', '/p/2', '/list', '/old', '/vcl-tagged']);
    const r = await get(proxy.port, '/', { method: 'PURGE', headers: { xkey: 'p2' } });
    expect([r.status, r.reason]).toEqual([200, 'Invalidated 3 objects']);
    expect((await get(proxy.port, '/p/2')).body).toBe('/p/2#2');
    expect((await get(proxy.port, '/list')).body).toBe('/list#2');
    expect((await get(proxy.port, '/old')).body).toBe('/old#2');
    expect((await get(proxy.port, '/p/1')).body).toBe('/p/1#1');
    // A key set by VCL in vcl_backend_response counts as one from the backend.
    const v = await get(proxy.port, '/', { method: 'PURGE', headers: { xkey: 'nothing, from-vcl' } });
    expect(v.reason).toBe('Invalidated 1 objects');
    expect((await get(proxy.port, '/vcl-tagged')).body).toBe('/vcl-tagged#2');
  });

  it('softpurge keeps the pages in grace: the stale copy once, then the refetched one', async () => {
    origin = await taggingOrigin();
    proxy = await startProxy(VCL, { origin });
    await warm(proxy.port, ['/p/1', '/list']);
    const r = await get(proxy.port, '/', { method: 'PURGE', headers: { 'xkey-soft': 'p1' } });
    expect(r.reason).toBe('Invalidated 2 objects');
    // Stale now, not counted again.
    expect((await get(proxy.port, '/', { method: 'PURGE', headers: { 'xkey-soft': 'p1' } })).reason).toBe('Invalidated 0 objects');
    expect((await get(proxy.port, '/p/1')).body).toBe('/p/1#1');
    await expect.poll(async () => (await get(proxy!.port, '/p/1')).body).toBe('/p/1#2');
  });

  it('keeps one index while any VCL importing xkey is loaded, and drops it after the last', async () => {
    origin = await taggingOrigin();
    proxy = await startProxy(VCL, { origin });
    const cache = proxy.srv.cache;
    await warm(proxy.port, ['/p/1']);
    await proxy.srv.vcls.load('second', { source: VCL.replace('ORIGIN_PORT', String(origin.port)) });
    proxy.srv.vcls.use('second');
    proxy.srv.vcls.discard('boot');
    expect(indexOf(cache)?.keys).toBe(1);
    expect((await get(proxy.port, '/', { method: 'PURGE', headers: { xkey: 'p1' } })).reason).toBe('Invalidated 1 objects');
    await proxy.srv.vcls.load('plain', { source: `vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "${origin.port}"; }` });
    proxy.srv.vcls.use('plain');
    proxy.srv.vcls.discard('second');
    await expect.poll(() => indexOf(cache)).toBeUndefined();
  });

  it('an unset or empty key purges nothing', async () => {
    origin = await taggingOrigin();
    proxy = await startProxy(VCL, { origin });
    await warm(proxy.port, ['/p/1']);
    expect((await get(proxy.port, '/', { method: 'PURGE', headers: { xkey: ' , ' } })).reason).toBe('Invalidated 0 objects');
    expect((await get(proxy.port, '/p/1')).body).toBe('/p/1#1');
  });
});

describe('xkey counters', () => {
  it('XKEY.g_keys and the byte gauges follow the keys in the cache, and fall back after a purge', async () => {
    origin = await taggingOrigin();
    proxy = await startProxy(VCL, { origin });
    const xkey = () => proxy!.srv.platform.counterSections().find((s) => s.section === 'XKEY' && s.ident === '')?.source ?? {};
    for (const url of ['/p/1', '/p/2', '/list']) await get(proxy.port, url);
    // p1, p2, list: three keys; links p1-/p/1, p2-/p/2, p1-/list, p2-/list, list-/list.
    expect(xkey().g_keys).toBe(3);
    const before = xkey();
    expect(before.g_bytes).toBe(before.g_hashhead_bytes + before.g_ochead_bytes + before.g_oc_bytes);
    expect(before.g_ochead_bytes).toBeGreaterThan(0);
    expect((await get(proxy.port, '/', { method: 'PURGE', headers: { xkey: 'list' } })).reason).toBe('Invalidated 1 objects');
    expect(xkey().g_keys).toBe(2);
    expect((await get(proxy.port, '/', { method: 'PURGE', headers: { xkey: 'p1 p2' } })).reason).toBe('Invalidated 2 objects');
    expect(xkey()).toMatchObject({ g_keys: 0, g_bytes: 0, g_hashhead_bytes: 0, g_ochead_bytes: 0, g_oc_bytes: 0 });
  });
});
