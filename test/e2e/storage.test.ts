// Storage end to end: the -s bound holds for everything an object costs, several storages and
// beresp.storage, nuke_limit, and a pass to a client that never reads holds a bounded buffer
// that is given back when the client leaves. Real sockets, real VCL, counters read as
// varnishstat would (SMA.<name>.*).

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { StorageSpec } from '../../src/cache/index.ts';
import { PRIVATE_BUFFER_BYTES } from '../../src/cache/index.ts';
import { INDEX_ALLOWANCE, OBJECT_INDEX_BYTES } from '../../src/cache/stevedore.ts';
import { startOps } from '../../src/mgmt/serve-admin.ts';
import { BACKEND, get, type Origin, type ProxyHandle, sleep, startOrigin, startProxy, stat } from '../helpers/proxy.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const KB = 1024;
const MB = 1024 * KB;

let origin: Origin | undefined;
let proxy: ProxyHandle | undefined;
let scratch: string | undefined;
afterEach(async () => {
  await proxy?.close();
  await origin?.close();
  proxy = origin = undefined;
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
});

function start(vcl: string, storages: readonly StorageSpec[], params: [string, string][] = []): Promise<ProxyHandle> {
  return startProxy(vcl, { origin, storages, params });
}

function sma(p: ProxyHandle, storage: string) {
  const st = p.srv.cache.storageNamed(storage);
  if (st === undefined) throw new Error(`no storage ${storage}`);
  return st;
}

/**
 * An origin answering every URL with a cacheable body of the size the URL's first number says,
 * made of the URL itself over and over: a body delivered from another object's bytes shows.
 */
async function sizedOrigin(): Promise<Origin> {
  return startOrigin((req, res) => {
    const size = Number(/\d+/.exec(req.url ?? '')?.[0] ?? '0');
    res.writeHead(200, { 'Cache-Control': 'max-age=600', 'Content-Length': String(size) });
    res.end(Buffer.from(bodyOf(req.url ?? '', size)));
  });
}

function bodyOf(url: string, size: number): string {
  return Buffer.alloc(size, `${url}|`).toString();
}

const keepAlive = new Agent({ keepAlive: true, maxSockets: 8 });

/** A GET over a kept-alive connection; the body as text. */
function keepAliveGet(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent: keepAlive }, (res) => {
      let text = '';
      res.setEncoding('latin1');
      res.on('data', (c: string) => {
        text += c;
      });
      res.on('end', () => resolve(text));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

/** A hit: X-Varnish names two transactions. */
function isHit(r: { headers: Record<string, unknown> }): boolean {
  return String(r.headers['x-varnish']).split(' ').length === 2;
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
    // The newest are there (hits, each with its own bytes), the oldest went first.
    for (let i = 399; i > 400 - n; i -= 7) {
      const hit = await get(proxy.port, `/${10 * KB}/${i}`);
      expect(isHit(hit)).toBe(true);
      expect(hit.body).toBe(bodyOf(`/${10 * KB}/${i}`, 10 * KB));
    }
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
    // Each try that did not fit counts, as in varnishd: before the one eviction nuke_limit
    // allows, and after it.
    expect(sma(proxy, 's0').c_fail).toBe(2);
    expect(sma(proxy, 's0').g_bytes).toBeLessThanOrEqual(1 * MB);
  });
});

describe('what the process holds', () => {
  it('stays within the bound and the index it pays for, however many small objects pass', async () => {
    origin = await sizedOrigin();
    const size = 2 * MB;
    proxy = await start(`${BACKEND}sub vcl_recv { if (req.url ~ "^/pass/") { return (pass); } }`, [{ name: 's0', bytes: size }]);
    const port = proxy.port;
    // Keep-alive requests (fetch), eight at a time; bodies checked once at the end (an
    // expect() per request keeps a record per call, which would be measured too).
    let wrong = 0;
    const warm = async (from: number, to: number, prefix = ''): Promise<void> => {
      let next = from;
      const worker = async (): Promise<void> => {
        while (next < to) {
          const url = `${prefix}/200/${next++}`;
          if ((await keepAliveGet(port, url)) !== bodyOf(url, 200)) wrong++;
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
    };
    // The server's own warm-up first: 3,000 passes (nothing cached). What the cache then adds
    // while 9,000 objects come (most of them evicted) is what the cache holds.
    await warm(0, 3000, '/pass');
    expect(stat(proxy, 'n_object')).toBe(0);
    gc();
    const before = process.memoryUsage();
    const tableBefore = proxy.srv.cache.indexBytes;
    await warm(0, 9000);
    gc();
    const after = process.memoryUsage();
    const table = proxy.srv.cache.indexBytes - tableBefore;
    const st = sma(proxy, 's0');
    const objects = stat(proxy, 'n_object');
    expect(wrong).toBe(0);
    expect(stat(proxy, 'n_lru_nuked')).toBe(9000 - objects);
    expect(st.g_bytes).toBeLessThanOrEqual(size);
    // Slabs never beyond the size; bytes and index together within it.
    expect(st.space!.resident).toBeLessThanOrEqual(size);
    expect(st.arena!.used + Math.max(0, objects - INDEX_ALLOWANCE) * OBJECT_INDEX_BYTES).toBeLessThanOrEqual(size);
    // The heap and the object table grew by the index of the objects kept, no more, however many came and went;
    // 5 MB are fixed: the ring of 1024 decoded heads (header-block.ts, about 1.3 MB), the code
    // of the paths the passes did not take (lookup, commit, eviction: about 1 MB), and what
    // the test runner keeps around its own calls.
    console.log(`heap ${((after.heapUsed - before.heapUsed) / MB).toFixed(1)} MB, table ${(table / MB).toFixed(1)} MB, ${objects} objects`);
    expect(after.heapUsed - before.heapUsed + table).toBeLessThan(objects * OBJECT_INDEX_BYTES + 5 * MB);
  }, 60_000);
});

describe('what a cached object keeps on the heap', () => {
  it('is its handle and no more, once its fetch and its first client are done', async () => {
    origin = await sizedOrigin();
    proxy = await start(BACKEND, [{ name: 's0', bytes: 64 * MB }]);
    const port = proxy.port;
    let wrong = 0;
    const fetchAll = async (from: number, to: number): Promise<void> => {
      let next = from;
      const worker = async (): Promise<void> => {
        while (next < to) {
          const url = `/200/${next++}`;
          if ((await keepAliveGet(port, url)) !== bodyOf(url, 200)) wrong++;
        }
      };
      await Promise.all(Array.from({ length: 8 }, worker));
    };
    // 5,000 objects pay for what is fixed (code, the tables' first pages, the ring of decoded
    // heads); the next 20,000, all kept, are what a cached object costs the heap.
    // (The test's origin keeps a record of each request: dropped before each measure.)
    await fetchAll(0, 5000);
    origin.seen.length = 0;
    gc();
    const before = process.memoryUsage().heapUsed;
    await fetchAll(5000, 25_000);
    origin.seen.length = 0;
    gc();
    const perObject = (process.memoryUsage().heapUsed - before) / 20_000;
    expect(wrong).toBe(0);
    expect(stat(proxy, 'n_object')).toBe(25_000);
    console.log(`heap per cached object: ${perObject.toFixed(0)} B`);
    // The handle (CacheObject, 96 B) and its slot; a fetch's plain BodyInfo and the Rare that
    // held it (190 B more) once stayed with every object.
    expect(perObject).toBeLessThan(160);
  }, 60_000);
});

describe('an object evicted while a client still reads it', () => {
  /**
   * A client asks for a 12 MB object and does not read (more than the socket buffers hold);
   * other objects take the storage and evict it; then the client reads: it must get the
   * object's own bytes, and the ranges go back once it is done.
   */
  async function readWhileEvicted(url: string, delivering: () => boolean): Promise<void> {
    const p = proxy!;
    const sock = connect(p.port, '127.0.0.1');
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    sock.pause();
    sock.write(`GET ${url} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const st = sma(p, 's0');
    for (let i = 0; i < 400 && !delivering(); i++) await sleep(25);
    expect(st.g_bytes).toBeGreaterThan(12 * MB);
    const nuked = stat(p, 'n_lru_nuked');
    for (let i = 0; i < 4; i++) expect((await get(p.port, `/${2 * MB}/other${i}`)).body.length).toBe(2 * MB);
    expect(stat(p, 'n_lru_nuked')).toBeGreaterThan(nuked);
    // Its ranges are still held (beyond what the storage counts), for the reader.
    expect(st.arena!.used).toBeGreaterThan(st.g_bytes + 8 * MB);
    const received: Buffer[] = [];
    sock.on('data', (c: Buffer) => received.push(c));
    const ended = new Promise<void>((resolve) => sock.once('end', () => resolve()));
    sock.resume();
    const want = Buffer.from(bodyOf(url, 12 * MB));
    for (let i = 0; i < 400 && Buffer.concat(received).length < want.length; i++) await sleep(25);
    sock.end();
    await Promise.race([ended, sleep(2000)]);
    const text = Buffer.concat(received);
    const body = text.subarray(text.indexOf('\r\n\r\n') + 4);
    expect(body.length).toBe(want.length);
    expect(body.equals(want)).toBe(true);
    // Once it is done, the ranges go back.
    for (let i = 0; i < 100 && st.arena!.used > st.g_bytes; i++) await sleep(25);
    expect(st.arena!.used).toBeLessThanOrEqual(st.g_bytes);
  }

  it('keeps its ranges until that reader is done: the client gets its own bytes', async () => {
    origin = await sizedOrigin();
    proxy = await start(BACKEND, [{ name: 's0', bytes: 16 * MB }]);
    const st = sma(proxy, 's0');
    await readWhileEvicted(`/${12 * MB}/big`, () => st.g_bytes > 12 * MB);
  }, 60_000);

  it('the same for a hit, whose stored bytes go to the socket as they are (views, pinned until written)', async () => {
    origin = await sizedOrigin();
    proxy = await start(BACKEND, [{ name: 's0', bytes: 16 * MB }]);
    const url = `/${12 * MB}/hit`;
    // The reader below says Host: x (the hash's other half).
    expect((await get(proxy.port, url, { headers: { Host: 'x' } })).body.length).toBe(12 * MB);
    // A whole hit is counted as sent (s_resp_bodybytes) when it is handed to the socket.
    const sent = stat(proxy, 's_resp_bodybytes');
    await readWhileEvicted(url, () => stat(proxy!, 's_resp_bodybytes') >= sent + 12 * MB);
    expect(stat(proxy, 'cache_hit')).toBe(1);
  }, 60_000);
});

describe('-s file', () => {
  it('keeps bodies in a file of its size, serves them back byte for byte while evicting, counts as SMF', async () => {
    scratch = mkdtempSync(join(tmpdir(), 'shellac-file-storage-'));
    const path = join(scratch, 'store');
    origin = await sizedOrigin();
    proxy = await start(BACKEND, [{ name: 's0', kind: 'file', path, bytes: 2 * MB }]);
    expect(statSync(path).size).toBe(2 * MB);
    for (let i = 0; i < 80; i++) {
      const url = `/${50 * KB}/${i}`;
      const r = await get(proxy.port, url);
      expect(r.body).toBe(bodyOf(url, 50 * KB));
    }
    const st = sma(proxy, 's0');
    expect(st.kind).toBe('file');
    expect(st.g_bytes).toBeLessThanOrEqual(2 * MB);
    expect(st.c_bytes - st.c_freed).toBe(st.g_bytes);
    const n = stat(proxy, 'n_object');
    expect(n).toBeLessThan((2 * MB) / (50 * KB));
    expect(stat(proxy, 'n_lru_nuked')).toBe(80 - n);
    // Hits come from the file, each its own bytes.
    for (let i = 79; i > 80 - n; i--) {
      const url = `/${50 * KB}/${i}`;
      const r = await get(proxy.port, url);
      expect(isHit(r)).toBe(true);
      expect(r.body).toBe(bodyOf(url, 50 * KB));
    }
    // varnishstat's names: SMF.s0.*, with the file's ranges.
    const ops = await startOps(proxy.srv, { admin: { host: '127.0.0.1', port: 0 }, workdir: join(scratch, 'work'), logger: pino({ level: 'silent' }) });
    try {
      expect(ops.counters.value('SMF.s0.g_bytes')).toBe(st.g_bytes);
      expect(ops.counters.value('SMF.s0.g_space')).toBe(2 * MB - st.g_bytes);
      expect(ops.counters.value('SMF.s0.c_req')).toBe(st.c_req);
      expect(ops.counters.value('SMF.s0.g_smf')).toBe(st.arena!.allocations + st.arena!.freeRanges);
      expect(ops.counters.value('SMF.s0.g_smf_frag')! + ops.counters.value('SMF.s0.g_smf_large')!).toBe(st.arena!.freeRanges);
      expect(ops.counters.value('SMA.s0.g_bytes')).toBeUndefined();
      expect(ops.counters.value('SMA.Transient.g_bytes')).toBe(0);
    } finally {
      await ops.close();
    }
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
