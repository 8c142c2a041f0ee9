// Backends against real loopback origins: responses streamed with their headers in order, the
// Host header, request bodies, connection reuse and counters, max_connections, admin health,
// aborts and Unix socket backends.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { newBackendGlobalCounters } from '../../src/proxy/backend/counters.ts';
import {
  type Backend,
  BackendBodyError,
  type BackendResponse,
  backendFactory,
  type FetchResult,
  NoneBackend,
} from '../../src/proxy/backend/backend.ts';
import { VclHttp } from '../../src/runtime/http.ts';
import { backendFrom, backendsFrom, cleanup, httpOrigin, rawOrigin, recordingLogger, until } from './backend-helpers.ts';

afterEach(cleanup);

function ok(r: FetchResult): BackendResponse {
  if (!r.ok) throw new Error(`fetch failed: ${r.kind}: ${r.message}`);
  return r;
}

function header(raw: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === name) out.push(raw[i + 1]);
  return out;
}

describe('fetch', () => {
  it('returns status, reason, headers in order with repeats, and the body', async () => {
    const origin = await httpOrigin((_req, res) => {
      res.writeHead(201, 'Made It', [
        ['Set-Cookie', 'a=1'],
        ['X-Mid', 'm'],
        ['Set-Cookie', 'b=2'],
        ['Content-Length', '5'],
      ]);
      res.end('hello');
    });
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const r = ok(await be.fetch({ method: 'GET', url: '/x?y=1', headers: [['Accept', 'text/plain']] }));
    expect(r.status).toBe(201);
    expect(r.reason).toBe('Made It');
    const names = r.headers.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(names.slice(0, 3)).toEqual(['set-cookie', 'x-mid', 'set-cookie']);
    expect(header(r.headers, 'set-cookie')).toEqual(['a=1', 'b=2']);
    expect((await r.body.readAll()).toString()).toBe('hello');
    expect(origin.seen[0].url).toBe('/x?y=1');
    expect(header(origin.seen[0].headers, 'accept')).toEqual(['text/plain']);
  });

  it('takes a VclHttp as headers, and sends Host from .host_header only when the request has none', async () => {
    const origin = await httpOrigin((_req, res) => res.end('ok'));
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}"; .host_header = "www.example.com";`);
    const bereq = VclHttp.request('GET', '/a');
    bereq.set('X-One', '1');
    await ok(await be.fetch({ method: bereq.method, url: bereq.url, headers: bereq })).body.readAll();
    const withHost = VclHttp.request('GET', '/b');
    withHost.set('Host', 'other.example');
    await ok(await be.fetch({ method: 'GET', url: '/b', headers: withHost })).body.readAll();
    expect(header(origin.seen[0].headers, 'host')).toEqual(['www.example.com']);
    expect(header(origin.seen[0].headers, 'x-one')).toEqual(['1']);
    expect(header(origin.seen[1].headers, 'host')).toEqual(['other.example']);
  });

  it('sends Host from .host when there is no .host_header', async () => {
    const origin = await httpOrigin((_req, res) => res.end('ok'));
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    await ok(await be.fetch({ method: 'GET', url: '/', headers: [] })).body.readAll();
    expect(header(origin.seen[0].headers, 'host')).toEqual(['127.0.0.1']);
  });

  it('passes request bodies through: a Buffer, a stream of known length, a chunked stream', async () => {
    const origin = await httpOrigin((req, res, body) => res.end(`${req.headers['transfer-encoding'] ?? 'len'}:${body.toString()}`));
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const a = ok(await be.fetch({ method: 'POST', url: '/', headers: [['Content-Length', '999']], body: Buffer.from('buffer body') }));
    expect((await a.body.readAll()).toString()).toBe('len:buffer body');
    const b = ok(
      await be.fetch({ method: 'PUT', url: '/', headers: [['Content-Length', '6']], body: Readable.from([Buffer.from('abc'), Buffer.from('def')]) }),
    );
    expect((await b.body.readAll()).toString()).toBe('len:abcdef');
    const c = ok(
      await be.fetch({
        method: 'POST',
        url: '/',
        headers: [['Transfer-Encoding', 'chunked']],
        body: Readable.from([Buffer.from('x'), Buffer.from('yz')]),
      }),
    );
    expect((await c.body.readAll()).toString()).toBe('chunked:xyz');
    expect(header(origin.seen[0].headers, 'content-length')).toEqual(['11']);
    expect(be.counters.bereq_bodybytes).toBe(11 + 6 + 3);
  });

  it('streams: the first bytes arrive before the origin has sent the rest', async () => {
    let finish: () => void = () => {};
    const origin = await httpOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('first;');
      finish = () => res.end('rest');
    });
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const r = ok(await be.fetch({ method: 'GET', url: '/', headers: [] }));
    const it = r.body[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.value?.toString()).toBe('first;');
    finish();
    let rest = '';
    for (let n = await it.next(); !n.done; n = await it.next()) rest += n.value.toString();
    expect(rest).toBe('rest');
    expect(r.body.complete).toBe(true);
  });

  it('drops headers undici frames itself instead of failing', async () => {
    const origin = await httpOrigin((_req, res) => res.end('ok'));
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const r = await be.fetch({
      method: 'GET',
      url: '/',
      headers: [
        ['Keep-Alive', 'timeout=5'],
        ['Upgrade', 'h2c'],
        ['Expect', '100-continue'],
        ['Connection', 'keep-alive, foo bar'],
        ['Host', 'one'],
        ['Host', 'two'],
        ['X-Kept', 'yes'],
      ],
    });
    await ok(r).body.readAll();
    const seen = origin.seen[0].headers;
    expect(header(seen, 'upgrade')).toEqual([]);
    expect(header(seen, 'expect')).toEqual([]);
    expect(header(seen, 'host')).toEqual(['one']);
    expect(header(seen, 'x-kept')).toEqual(['yes']);
  });
});

describe('connections and counters', () => {
  it('opens one connection and reuses it; counts requests, bytes and connections', async () => {
    const origin = await httpOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Length': '3' });
      res.end('abc');
    });
    const global = newBackendGlobalCounters();
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`, { globalCounters: global });
    for (let i = 0; i < 6; i++) await ok(await be.fetch({ method: 'GET', url: `/${i}`, headers: [['X', 'y']] })).body.readAll();
    // undici's Pool opens a spare connection early on; after that, sequential requests reuse.
    expect(global.backend_conn).toBeGreaterThanOrEqual(1);
    expect(global.backend_conn).toBeLessThanOrEqual(2);
    expect(global.backend_reuse).toBe(6 - global.backend_conn);
    expect(global.backend_req).toBe(6);
    expect(be.counters.req).toBe(6);
    expect(be.counters.conn).toBe(global.backend_conn);
    expect(be.counters.beresp_bodybytes).toBe(18);
    // "GET /0 HTTP/1.1\r\n" + "X: y\r\n" + "Host: 127.0.0.1\r\n" + "\r\n"
    expect(be.counters.bereq_hdrbytes).toBe(6 * (17 + 6 + 17 + 2));
    // "HTTP/1.1 200 OK\r\n", Content-Length, Date, Connection, Keep-Alive, blank line
    expect(be.counters.beresp_hdrbytes).toBeGreaterThan(6 * 60);
  });

  it('max_connections is a hard limit: a fetch beyond it fails as busy at once', async () => {
    const held: (() => void)[] = [];
    const origin = await httpOrigin((_req, res) => held.push(() => res.end('late')));
    const global = newBackendGlobalCounters();
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}"; .max_connections = 1;`, { globalCounters: global });
    const first = be.fetch({ method: 'GET', url: '/1', headers: [] });
    const second = await be.fetch({ method: 'GET', url: '/2', headers: [] });
    expect(second.ok).toBe(false);
    if (!second.ok) expect(second.kind).toBe('busy');
    expect(be.counters.busy).toBe(1);
    expect(global.backend_busy).toBe(1);
    await until(() => held.length === 1, 3000, 'the first request');
    held[0]();
    expect((await ok(await first).body.readAll()).toString()).toBe('late');
    const third = be.fetch({ method: 'GET', url: '/3', headers: [] });
    await until(() => held.length === 2, 3000, 'the third request');
    held[1]();
    expect((await ok(await third).body.readAll()).toString()).toBe('late');
  });

  it('a sick admin state refuses fetches without connecting; auto follows the probe again', async () => {
    const origin = await httpOrigin((_req, res) => res.end('ok'));
    const global = newBackendGlobalCounters();
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`, { globalCounters: global });
    expect(be.describe()).toMatchObject({ name: 'test.b', admin: 'healthy', probe: '0/0', health: 'healthy' });
    const before = be.changed;
    await new Promise((r) => setTimeout(r, 5));
    be.setHealth('sick');
    expect(be.healthy(null)).toBe(false);
    expect(be.changed).toBeGreaterThan(before);
    expect(be.describe()).toMatchObject({ admin: 'sick', health: 'healthy' });
    const r = await be.fetch({ method: 'GET', url: '/', headers: [] });
    expect(r.ok ? 'ok' : r.kind).toBe('unhealthy');
    expect(origin.seen).toHaveLength(0);
    expect(be.counters.unhealthy).toBe(1);
    expect(global.backend_unhealthy).toBe(1);
    be.setHealth('auto');
    expect(be.healthy(null)).toBe(true);
    await ok(await be.fetch({ method: 'GET', url: '/', headers: [] })).body.readAll();
  });

  it('resolves to itself as a director', async () => {
    const origin = await httpOrigin((_req, res) => res.end('ok'));
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    expect(be.type).toBe('backend');
    expect(be.name).toBe('b');
    expect(be.resolve(null as never)).toBe(be);
  });
});

describe('aborting', () => {
  it('body.abort() closes the connection; breaking out of the loop does the same', async () => {
    let closed = 0;
    const origin = await httpOrigin((req, res) => {
      req.socket.on('close', () => closed++);
      res.writeHead(200);
      res.write('part');
    });
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const a = ok(await be.fetch({ method: 'GET', url: '/', headers: [] }));
    a.body.abort();
    await until(() => closed === 1, 3000, 'the first connection to close');
    const b = ok(await be.fetch({ method: 'GET', url: '/', headers: [] }));
    for await (const chunk of b.body) {
      expect(chunk.toString()).toBe('part');
      break;
    }
    await until(() => closed === 2, 3000, 'the second connection to close');
    // Reading an aborted body fails rather than ending as if complete.
    const c = ok(await be.fetch({ method: 'GET', url: '/', headers: [] }));
    c.body.abort();
    await expect(c.body.readAll()).rejects.toBeInstanceOf(BackendBodyError);
  });

  it('an AbortSignal ends a fetch waiting for its response', async () => {
    const origin = await httpOrigin(() => {});
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const controller = new AbortController();
    const pending = be.fetch({ method: 'GET', url: '/', headers: [] }, { signal: controller.signal });
    await until(() => origin.seen.length === 1, 3000, 'the request');
    controller.abort();
    const r = await pending;
    expect(r.ok ? 'ok' : r.kind).toBe('aborted');
  });
});

describe('addresses', () => {
  it('fetches from a Unix socket backend (.path)', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'shellac-be-')), 'origin.sock');
    const origin = await httpOrigin((req, res) => res.end(`unix ${req.url}`), path);
    const be = await backendFrom(`.path = "${path}"; .host_header = "sock.example";`);
    const r = ok(await be.fetch({ method: 'GET', url: '/u', headers: [] }));
    expect((await r.body.readAll()).toString()).toBe('unix /u');
    expect(header(origin.seen[0].headers, 'host')).toEqual(['sock.example']);
    expect(be.address).toEqual({ kind: 'unix', path });
  });

  it('resolves a host name once, at creation', async () => {
    const be = await backendFrom('.host = "localhost"; .port = "8080";');
    const address = be.address;
    expect(address?.kind).toBe('tcp');
    if (address?.kind === 'tcp') expect(['127.0.0.1', '::1']).toContain(address.ip);
  });

  it('fails to create a backend whose host does not resolve', async () => {
    await expect(backendFrom('.host = "nonexistent.invalid";')).rejects.toThrow(/Backend b: host "nonexistent\.invalid" could not be resolved/);
  });

  it('names the backend when its port is not a port', async () => {
    await expect(backendFrom('.host = "127.0.0.1"; .port = "nope";')).rejects.toThrow(/Backend b: port "nope"/);
  });

  it('keeps backends of one VCL apart, sharing the global counters', async () => {
    const o1 = await httpOrigin((_req, res) => res.end('one'));
    const o2 = await httpOrigin((_req, res) => res.end('two'));
    const global = newBackendGlobalCounters();
    const map = await backendsFrom(
      `backend one { .host = "127.0.0.1"; .port = "${o1.port}"; }\nbackend two { .host = "127.0.0.1"; .port = "${o2.port}"; }`,
      { globalCounters: global, vclName: 'v1' },
    );
    expect((await ok(await map.get('one')!.fetch({ method: 'GET', url: '/', headers: [] })).body.readAll()).toString()).toBe('one');
    expect((await ok(await map.get('two')!.fetch({ method: 'GET', url: '/', headers: [] })).body.readAll()).toString()).toBe('two');
    expect(map.get('two')!.fullName).toBe('v1.two');
    expect(global.backend_conn).toBe(2);
  });
});

describe('the runtime factory', () => {
  const pos = { file: 0, line: 1, col: 1, offset: 0, length: 0 };
  const decl = (host: string, port: number) => ({ name: 'f', pos, none: false, host, port: String(port) });

  it('makes a backend at once and fetches once its name resolves', async () => {
    const origin = await httpOrigin((_req, res) => res.end('via factory'));
    const global = newBackendGlobalCounters();
    const make = backendFactory({ globalCounters: global });
    const be = make(decl('localhost', origin.port), undefined, 'v9') as Backend;
    const viaLiteral = make(decl('127.0.0.1', origin.port), undefined, 'v9') as Backend;
    try {
      expect(be.fullName).toBe('v9.f');
      expect(viaLiteral.address).toEqual({ kind: 'tcp', ip: '127.0.0.1', port: origin.port, family: 4 });
      const r = await be.fetch({ method: 'GET', url: '/', headers: [] });
      // localhost may resolve to ::1, where nothing listens: then the failure says so.
      if (be.address?.kind === 'tcp' && be.address.ip === '127.0.0.1') expect(r.ok && (await r.body.readAll()).toString()).toBe('via factory');
      else expect(r.ok ? 'ok' : r.kind).toBe('refused');
      be.warm();
      be.cold();
    } finally {
      be.discard();
      viaLiteral.discard();
    }
  });

  it('a none backend resolves to nothing and is never healthy', () => {
    const none = backendFactory({})({ name: 'n', pos, none: true }, undefined, 'v9');
    expect(none.healthy(null)).toBe(false);
    expect(none.resolve(null as never)).toBeNull();
    expect(none).toBeInstanceOf(NoneBackend);
  });

  it('a name that does not resolve fails each fetch as a connect error, and is logged', async () => {
    const logger = recordingLogger();
    const be = backendFactory({ logger })(decl('nonexistent.invalid', 80), undefined, 'v9') as Backend;
    try {
      const r = await be.fetch({ method: 'GET', url: '/', headers: [] });
      expect(r.ok ? 'ok' : r.kind).toBe('connect_error');
      expect(be.counters.fail).toBe(1);
      expect(logger.records[0].msg).toMatch(/v9\.f: Backend f: host "nonexistent\.invalid" could not be resolved/);
    } finally {
      be.discard();
    }
  });
});

describe('a raw origin sends what HTTP allows', () => {
  it('reads a response without Content-Length to the close', async () => {
    const origin = await rawOrigin((socket) => {
      socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close');
    });
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const r = ok(await be.fetch({ method: 'GET', url: '/', headers: [] }));
    expect((await r.body.readAll()).toString()).toBe('until close');
  });
});
