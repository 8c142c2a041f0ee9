// Storage end to end: the -s bound holds for everything an object costs, several storages and
// beresp.storage, nuke_limit, and a pass to a client that never reads holds a bounded buffer
// that is given back when the client leaves. Real sockets, real VCL, counters read as
// varnishstat would (SMA.<name>.*).

import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { StorageSpec } from '../../src/cache/index.ts';
import { PRIVATE_BUFFER_BYTES } from '../../src/cache/index.ts';
import { BACKEND, get, type Origin, type ProxyHandle, sleep, startOrigin, startProxy, stat } from '../helpers/proxy.ts';

const KB = 1024;
const MB = 1024 * KB;

let origin: Origin | undefined;
let proxy: ProxyHandle | undefined;
afterEach(async () => {
  await proxy?.close();
  await origin?.close();
  proxy = origin = undefined;
});

function start(vcl: string, storages: readonly StorageSpec[], params: [string, string][] = []): Promise<ProxyHandle> {
  return startProxy(vcl, { origin, storages, params });
}

function sma(p: ProxyHandle, storage: string) {
  const st = p.srv.cache.storageNamed(storage);
  if (st === undefined) throw new Error(`no storage ${storage}`);
  return st;
}

/** An origin answering every URL with a cacheable body of the size the URL's first number says. */
async function sizedOrigin(): Promise<Origin> {
  return startOrigin((req, res) => {
    const size = Number(/\d+/.exec(req.url ?? '')?.[0] ?? '0');
    res.writeHead(200, { 'Cache-Control': 'max-age=600', 'Content-Length': String(size) });
    res.end(Buffer.alloc(size, 'x'));
  });
}

describe('the -s bound', () => {
  it('holds while a small cache is filled far past it, evicting least recently used first', async () => {
    origin = await sizedOrigin();
    proxy = await start(BACKEND, [{ name: 's0', bytes: 1 * MB }]);
    // 400 objects of 10 KB: four times the bound.
    for (let i = 0; i < 400; i++) {
      const r = await get(proxy.port, `/${10 * KB}/${i}`);
      expect(r.body.length).toBe(10 * KB);
      const st = sma(proxy, 's0');
      expect(st.g_bytes).toBeLessThanOrEqual(1 * MB);
    }
    const st = sma(proxy, 's0');
    expect(st.g_bytes + st.g_space).toBe(1 * MB);
    expect(st.c_bytes - st.c_freed).toBe(st.g_bytes);
    // Headers and the fixed charge count too: fewer than 1 MB / 10 KB objects fit.
    const n = stat(proxy, 'n_object');
    expect(n).toBeLessThan(MB / (10 * KB));
    expect(n).toBeGreaterThan(80);
    expect(stat(proxy, 'n_lru_nuked')).toBe(400 - n);
    // The newest are there (hits), the oldest went first.
    const hit = await get(proxy.port, `/${10 * KB}/399`);
    expect(String(hit.headers['x-varnish']).split(' ').length).toBe(2);
    const fetchesBefore = stat(proxy, 's_fetch');
    await get(proxy.port, `/${10 * KB}/0`);
    expect(stat(proxy, 's_fetch')).toBe(fetchesBefore + 1);
  });

  it('fails a fetch that would evict more than nuke_limit objects (503 without streaming)', async () => {
    origin = await sizedOrigin();
    const vcl = `${BACKEND}sub vcl_backend_response { set beresp.do_stream = false; }`;
    proxy = await start(vcl, [{ name: 's0', bytes: 1 * MB }], [['nuke_limit', '1']]);
    for (let i = 1; i <= 4; i++) expect((await get(proxy.port, `/${200 * KB}/${i}`)).status).toBe(200);
    expect((await get(proxy.port, `/${1000 * KB}/big`)).status).toBe(503);
    expect(stat(proxy, 'n_lru_limited')).toBe(1);
    expect(sma(proxy, 's0').c_fail).toBe(1);
    expect(sma(proxy, 's0').g_bytes).toBeLessThanOrEqual(1 * MB);
  });
});

describe('several storages', () => {
  it('puts objects where beresp.storage says, round robin otherwise, and counts each storage', async () => {
    origin = await sizedOrigin();
    const vcl = `${BACKEND}
sub vcl_backend_response {
  set beresp.http.First-Storage = beresp.storage;
  if (bereq.url ~ "^/\\d+/big") { set beresp.storage = storage.big; }
}
sub vcl_deliver { set resp.http.Storage = obj.storage; }`;
    proxy = await start(vcl, [
      { name: 'a', bytes: 1 * MB },
      { name: 'b', bytes: 1 * MB },
      { name: 'big', bytes: 4 * MB },
    ]);
    const first = await get(proxy.port, '/100/x');
    const second = await get(proxy.port, '/100/y');
    expect([first.headers['first-storage'], second.headers['first-storage']]).toEqual(['storage.a', 'storage.b']);
    expect([first.headers.storage, second.headers.storage]).toEqual(['storage.a', 'storage.b']);
    const big = await get(proxy.port, `/${2 * MB}/big`);
    expect(big.headers.storage).toBe('storage.big');
    expect(sma(proxy, 'big').g_bytes).toBeGreaterThan(2 * MB);
    expect(sma(proxy, 'a').g_bytes).toBeLessThan(1 * KB);
    expect(sma(proxy, 'a').c_req).toBe(2);
    // A pass goes to Transient, and is given back once delivered.
    const pass = await get(proxy.port, '/5000/p', { method: 'POST', body: 'x' });
    expect(pass.headers['first-storage']).toBe('storage.Transient');
    const transient = sma(proxy, 'Transient');
    expect(transient.c_bytes).toBeGreaterThan(5000);
    for (let i = 0; i < 40 && transient.g_bytes > 0; i++) await sleep(25);
    expect(transient.g_bytes).toBe(0);
    expect(transient.c_freed).toBe(transient.c_bytes);
    expect(transient.g_space).toBe(0);
  });
});

describe('a pass to a client that does not read', () => {
  it('holds a bounded buffer while the fetch waits, and gives it back when the client leaves', async () => {
    const total = 50 * MB;
    let originClosed = false;
    let originSent = 0;
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Length': String(total) });
      const chunk = Buffer.alloc(64 * KB, 'y');
      const pushMore = (): void => {
        while (originSent < total) {
          originSent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pushMore);
            return;
          }
        }
        res.end();
      };
      res.on('close', () => {
        originClosed = true;
      });
      pushMore();
    });
    proxy = await start(`${BACKEND}sub vcl_recv { return (pass); }`, [{ name: 's0', bytes: 8 * MB }]);
    const sock = connect(proxy.port, '127.0.0.1');
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    sock.pause();
    sock.write('GET /huge HTTP/1.1\r\nHost: x\r\n\r\n');
    const transient = sma(proxy, 'Transient');
    // Wait until the fetch stalls: the origin stops being able to send.
    let last = -1;
    for (let i = 0; i < 200; i++) {
      await sleep(25);
      if (originSent === last && originSent > 0) break;
      last = originSent;
    }
    expect(originSent).toBeLessThan(total);
    // What Transient holds is the buffer ahead of the reader, not the body read so far.
    expect(transient.g_bytes).toBeLessThanOrEqual(PRIVATE_BUFFER_BYTES + 256 * KB);
    sock.destroy();
    for (let i = 0; i < 200 && (transient.g_bytes > 0 || !originClosed); i++) await sleep(25);
    expect(transient.g_bytes).toBe(0);
    expect(transient.c_freed).toBe(transient.c_bytes);
    expect(originClosed).toBe(true);
  });
});
