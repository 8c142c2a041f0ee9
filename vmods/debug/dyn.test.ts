// debug.dyn and debug.dyn_uds: backends a VMOD makes at run time. First on the in-memory runtime
// (ownership, temperature, retirement, refusals), then through a running Shellac over real
// sockets, as Varnish's d00008-d00010 and d00033-d00035 use them: a hot swap, a swap while a
// fetch is in flight on the old backend, and pipes. Those cases swap with a `SWAP` request
// method, which node:http's parser refuses (400); a URL does the same job here.
// Last, parameters reaching the VMOD from a running Shellac (vre_limit, the event function).

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { MemoryBackend } from '../../src/runtime/backends.ts';
import { loadVcl } from '../../src/runtime/load-vcl.ts';
import type { LoadedVcl } from '../../src/runtime/loaded-vcl.ts';
import { DEFAULT_VMOD_PATH } from '../../src/vmod/registry.ts';
import { get, type Origin, type ProxyHandle, startOrigin, startProxy } from '../../test/helpers/proxy.ts';
import { clientTask, run } from '../../test/runtime/vcl-harness.ts';

const SWAP_VCL = (make: string, refresh: string, head = '') => `vcl 4.1;
import debug;
backend dummy { .host = "127.0.0.1"; .port = "9"; }
${head}
sub vcl_init {
  new s1 = ${make};
}
sub vcl_recv {
  if (req.url == "/swap") {
    ${refresh};
    return (synth(200));
  }
  set req.backend_hint = s1.backend();
  if (req.url ~ "^/pipe") {
    return (pipe);
  }
  return (pass);
}
`;

function loadMemory(source: string): Promise<LoadedVcl> {
  return loadVcl({ name: 'vcl1', source, vmodPath: DEFAULT_VMOD_PATH });
}

describe('debug.dyn on the runtime', () => {
  it('makes a backend the VCL owns, and on refresh retires the old one', async () => {
    const vcl = await loadMemory(
      SWAP_VCL('debug.dyn("127.0.0.1", "8080", pb)', 's1.refresh(req.http.X-Addr, req.http.X-Port)', 'probe pb { .url = "/health"; }'),
    );
    expect(vcl.allBackends().map((b) => b.name)).toEqual(['dummy', 's1']);
    const first = vcl.allBackends()[1] as MemoryBackend;
    expect(first.declaration).toMatchObject({ host: '127.0.0.1', port: '8080', hostHeader: '127.0.0.1', probe: 'pb' });
    expect(first.probe?.name).toBe('pb');
    expect(first.events).toEqual(['warm']);

    const t = clientTask({ url: '/foo' });
    run(vcl, 'vcl_recv', t);
    expect(t.backendHint).toBe(first);

    const swap = clientTask({ url: '/swap', headers: [['X-Addr', '127.0.0.2'], ['X-Port', '8081']] });
    expect(run(vcl, 'vcl_recv', swap).action).toBe('synth');
    expect(first.events).toEqual(['warm', 'retire']);
    const second = vcl.allBackends()[1] as MemoryBackend;
    expect(vcl.allBackends()).toHaveLength(2);
    expect(second.declaration).toMatchObject({ name: 's1', host: '127.0.0.2', port: '8081' });
    expect(second.probe).toBeUndefined();
    expect(second.events).toEqual(['warm']);

    const u = clientTask({ url: '/bar' });
    run(vcl, 'vcl_recv', u);
    expect(u.backendHint).toBe(second);

    vcl.cold();
    vcl.discard();
    expect(second.events).toEqual(['warm', 'cold', 'discard']);
    expect(first.events).toEqual(['warm', 'retire']);
    expect(vcl.allBackends().map((b) => b.name)).toEqual(['dummy']);
  });

  it('refuses a missing address or port, failing vcl_init or the request', async () => {
    await expect(loadMemory(SWAP_VCL('debug.dyn("127.0.0.1", "")', 's1.refresh("", "")'))).rejects.toThrow(
      'Missing dynamic backend address or port',
    );
    const vcl = await loadMemory(SWAP_VCL('debug.dyn("127.0.0.1", "8080")', 's1.refresh(req.http.X-Addr, req.http.X-Port)'));
    const before = vcl.allBackends()[1];
    expect(run(vcl, 'vcl_recv', clientTask({ url: '/swap' }))).toMatchObject({
      action: 'fail',
      message: 'Missing dynamic backend address or port',
    });
    expect(vcl.allBackends()[1]).toBe(before);
    vcl.discard();
  });
});

describe('debug.dyn_uds on the runtime', () => {
  let dir: string | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = server = undefined;
  });

  it('wants an absolute path to an existing socket', async () => {
    dir = mkdtempSync(join(tmpdir(), 'shellac-dyn-'));
    const file = join(dir, 'plain');
    writeFileSync(file, '');
    const sock = join(dir, 's.sock');
    server = createServer();
    await new Promise<void>((r) => server!.listen(sock, r));
    const uds = (path: string) => loadMemory(SWAP_VCL(`debug.dyn_uds("${path}")`, 's1.refresh(req.http.X-Path)'));

    await expect(uds('relative.sock')).rejects.toThrow('path must be an absolute path: relative.sock');
    await expect(uds(join(dir, 'none'))).rejects.toThrow(`Cannot stat path ${join(dir, 'none')}: No such file or directory`);
    await expect(uds(file)).rejects.toThrow(`${file} is not a socket`);
    const vcl = await uds(sock);
    expect((vcl.allBackends()[1] as MemoryBackend).declaration).toMatchObject({ name: 's1', path: sock });
    expect(run(vcl, 'vcl_recv', clientTask({ url: '/swap', headers: [['X-Path', file]] }))).toMatchObject({
      action: 'fail',
      message: `${file} is not a socket`,
    });
    vcl.discard();
  });
});

// ---------------------------------------------------------------------------------------------
// Through a running Shellac.

/** An origin whose answers to `/foo` wait until the test lets them go. */
async function heldOrigin(name: string): Promise<{ origin: Origin; arrived: Promise<void>; release: () => void }> {
  let arrive!: () => void;
  let release!: () => void;
  const arrived = new Promise<void>((r) => {
    arrive = r;
  });
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const origin = await startOrigin((req, res) => {
    const answer = () => {
      res.writeHead(200, { 'X-Origin': name });
      res.end(`${name} ${req.url}`);
    };
    if (req.url?.endsWith('/foo')) {
      arrive();
      void gate.then(answer);
    } else answer();
  });
  return { origin, arrived, release };
}

describe('debug.dyn in a running Shellac', () => {
  let proxy: ProxyHandle | undefined;
  const origins: Origin[] = [];
  afterEach(async () => {
    await proxy?.close();
    for (const o of origins.splice(0)) await o.close();
    proxy = undefined;
  });

  async function setUp() {
    const s1 = await heldOrigin('s1');
    const s2 = await heldOrigin('s2');
    origins.push(s1.origin, s2.origin);
    proxy = await startProxy(SWAP_VCL(`debug.dyn("127.0.0.1", "${s1.origin.port}")`, 's1.refresh(req.http.X-Addr, req.http.X-Port)'));
    const swap = () => get(proxy!.port, '/swap', { headers: { 'X-Addr': '127.0.0.1', 'X-Port': String(s2.origin.port) } });
    return { s1, s2, swap, vcl: proxy.srv.vcls.active! };
  }

  it('swaps backends between requests', async () => {
    const { s1, swap, vcl } = await setUp();
    s1.release();
    expect(vcl.allBackends().map((b) => b.name)).toEqual(['dummy', 's1']);
    expect((await get(proxy!.port, '/foo')).headers['x-origin']).toBe('s1');
    expect((await swap()).status).toBe(200);
    const bar = await get(proxy!.port, '/bar');
    expect([bar.status, bar.headers['x-origin'], bar.body]).toEqual([200, 's2', 's2 /bar']);
    expect(vcl.allBackends()).toHaveLength(2);
  });

  // d00010 does the same during a pipe; a pipe in flight does not survive other requests in
  // Shellac yet, whatever its backend, so that case waits for the proxy.
  it('lets a fetch in flight finish on the old backend after a swap', async () => {
    const { s1, s2, swap } = await setUp();
    const inFlight = get(proxy!.port, '/foo');
    await s1.arrived;
    expect((await swap()).status).toBe(200);
    const bar = await get(proxy!.port, '/bar');
    expect(bar.headers['x-origin']).toBe('s2');
    s1.release();
    const foo = await inFlight;
    expect([foo.status, foo.headers['x-origin'], foo.body]).toEqual([200, 's1', 's1 /foo']);
    expect(s2.origin.seen.map((r) => r.url)).toEqual(['/bar']);
  });

  it('pipes to the backend of the moment', async () => {
    const { s1, swap } = await setUp();
    s1.release();
    expect((await get(proxy!.port, '/pipe/x')).headers['x-origin']).toBe('s1');
    await swap();
    expect((await get(proxy!.port, '/pipe/y')).headers['x-origin']).toBe('s2');
  });
});

describe('debug.dyn_uds in a running Shellac', () => {
  let proxy: ProxyHandle | undefined;
  let dir: string | undefined;
  const servers: Server[] = [];
  afterEach(async () => {
    await proxy?.close();
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
    proxy = dir = undefined;
  });

  it('swaps between origins on Unix sockets', async () => {
    dir = mkdtempSync(join(tmpdir(), 'shellac-dyn-'));
    const paths: string[] = [];
    for (const name of ['s1', 's2']) {
      const path = join(dir, `${name}.sock`);
      const s = createServer((req, res) => {
        res.writeHead(200, { 'X-Origin': name });
        res.end(req.url);
      });
      await new Promise<void>((r) => s.listen(path, r));
      servers.push(s);
      paths.push(path);
    }
    proxy = await startProxy(SWAP_VCL(`debug.dyn_uds("${paths[0]}")`, 's1.refresh(req.http.X-Path)'));
    expect((await get(proxy.port, '/foo')).headers['x-origin']).toBe('s1');
    expect((await get(proxy.port, '/swap', { headers: { 'X-Path': paths[1] } })).status).toBe(200);
    const bar = await get(proxy.port, '/bar');
    expect([bar.status, bar.headers['x-origin'], bar.body]).toEqual([200, 's2', '/bar']);
    const piped = await get(proxy.port, '/pipe/x');
    expect([piped.status, piped.headers['x-origin']]).toEqual([200, 's2']);
  });
});

describe('debug in a running Shellac: parameters', () => {
  let proxy: ProxyHandle | undefined;
  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  it('vre_limit follows param.set of pcre2_match_limit (r01644)', async () => {
    proxy = await startProxy(
      'vcl 4.1;\nimport debug;\nbackend none none;\nsub vcl_recv { return (synth(200)); }\nsub vcl_synth { set resp.http.foo = debug.vre_limit(); }\n',
    );
    expect((await get(proxy.port, '/')).headers.foo).toBe('10000');
    proxy.srv.params.set('pcre2_match_limit', '100');
    expect((await get(proxy.port, '/')).headers.foo).toBe('100');
    proxy.srv.params.set('pcre2_match_limit', '200');
    expect((await get(proxy.port, '/')).headers.foo).toBe('200');
  });

  it('refuses a VCL while nuke_limit is 42', async () => {
    proxy = await startProxy('vcl 4.1;\nbackend none none;\n', { params: [['nuke_limit', '42']] });
    await expect(proxy.srv.vcls.load('vcl2', { source: 'vcl 4.1;\nimport debug;\nbackend none none;\n' })).rejects.toThrow(
      'nuke_limit is not the answer.',
    );
  });
});

