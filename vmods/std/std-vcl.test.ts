// std through compiled VCL: VCL text importing std is loaded and its subs run on in-memory
// tasks, so the manifest (names, defaults, optional arguments), the binding (STRANDS, HEADER,
// HTTP, PRIV_CALL, async functions) and the implementation are tested together. Expected
// values are Varnish 7.1's for the same VCL.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LoadedVcl } from '../../src/runtime/loaded-vcl.ts';
import type { TaskServices } from '../../src/runtime/task.ts';
import { DEFAULT_VMOD_PATH } from '../../src/vmod/registry.ts';
import { clientTask, load, run } from '../../test/runtime/vcl-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'shellac-std-vcl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'greeting.txt');
writeFileSync(file, 'hello');

const VCL = `
import std;

sub vcl_recv {
  if (req.url ~ "^/convert") {
    set req.http.i = std.integer(req.http.n, 0);
    set req.http.i2 = std.integer(real = 126.42 / 3);
    set req.http.r = std.real(s = "1.5") + 1;
    set req.http.d = std.duration("1w", 1s);
    set req.http.b = std.bytes(req.http.size, 10KB);
    set req.http.t = std.time(integer = 1234567890);
    set req.http.ip = std.ip(req.http.xff, "0.0.0.0");
    set req.http.port = std.port(std.ip("1.2.3.4", p = "8080"));
    set req.http.round = std.round(-0.5);
    set req.http.r2i = std.real2integer(2.5, 0);
    return (synth(200));
  }
  if (req.url ~ "^/bad") {
    set req.http.i = std.integer("abc");
  }
  if (req.url ~ "^/strings") {
    set req.http.up = std.toupper("yes " + req.http.word);
    set req.http.low = std.tolower("VerY");
    set req.http.tail = std.strstr(req.url, "ing");
    set req.http.glob = std.fnmatch("/strings/*", req.url);
    set req.http.glob2 = std.fnmatch("/strings/*", req.url, pathname = false);
    set req.http.stamp = std.strftime(std.time(real = 1234567890), "%Y%m%dT%H%M%SZ");
    set req.url = std.querysort(req.url);
    std.collect(req.http.accept);
    std.collect(req.http.cookie, "; ");
    return (synth(200));
  }
  if (req.url == "/file") {
    set req.http.file = std.fileread("${file}");
    set req.http.exists = std.file_exists("${file}");
    set req.http.env = std.getenv("SHELLAC_STD_VCL");
    return (synth(200));
  }
  if (req.url == "/log") {
    std.log("vhost " + req.http.host);
    std.syslog(9, "something is wrong");
    std.set_ip_tos(8);
    return (synth(200));
  }
  if (req.url == "/ban") {
    if (!std.ban("req.url")) {
      set req.http.error = std.ban_error();
    }
    set req.http.ok = std.ban("obj.http.x ~ y");
    set req.http.after = std.ban_error();
    return (synth(200));
  }
  if (req.url == "/rollback") {
    set req.url = "/changed";
    std.rollback(req);
    return (synth(200));
  }
  if (req.url == "/health") {
    set req.http.healthy = std.healthy(req.backend_hint);
    return (synth(200));
  }
}

sub vcl_deliver {
  std.late_100_continue(true);
}
`;

const BODY_VCL = `
import std;

sub vcl_recv {
  if (std.cache_req_body(std.bytes(req.http.max, 1KB))) {
    set req.http.cached = "yes";
  } else {
    set req.http.cached = "no";
  }
  return (synth(200));
}
`;

let loaded: LoadedVcl | undefined;
async function vcl(): Promise<LoadedVcl> {
  loaded ??= await load(VCL, { vmodPath: DEFAULT_VMOD_PATH });
  return loaded;
}

describe('std in VCL', () => {
  it('converts with fallbacks and named arguments', async () => {
    const t = clientTask({ url: '/convert', headers: [['n', 'x'], ['xff', '203.0.113.9']] });
    expect(run(await vcl(), 'vcl_recv', t)).toMatchObject({ action: 'synth', status: 200 });
    const got = Object.fromEntries(['i', 'i2', 'r', 'd', 'b', 't', 'ip', 'port', 'round', 'r2i'].map((h) => [h, t.req!.get(h)]));
    expect(got).toEqual({
      i: '0',
      i2: '42',
      r: '2.500',
      d: '604800.000',
      b: '10240',
      t: 'Fri, 13 Feb 2009 23:31:30 GMT',
      ip: '203.0.113.9',
      port: '8080',
      round: '-1.000',
      r2i: '3',
    });
  });

  it('fails the task at the call when a conversion fails without fallback', async () => {
    const t = clientTask({ url: '/bad' });
    expect(run(await vcl(), 'vcl_recv', t)).toEqual({
      action: 'fail',
      message: 'std.integer: conversion failed: Invalid number',
      where: expect.stringMatching(/^test:\d+:\d+$/),
    });
  });

  it('works on strings and headers', async () => {
    const t = clientTask({
      url: '/strings/x/y?b=2&a=1',
      headers: [
        ['Host', 'example.com'],
        ['word', 'please'],
        ['Accept', 'text/html'],
        ['Accept', 'text/plain'],
        ['Cookie', 'a=1'],
        ['Cookie', 'b=2'],
      ],
    });
    run(await vcl(), 'vcl_recv', t);
    const req = t.req!;
    expect(req.get('up')).toBe('YES PLEASE');
    expect(req.get('low')).toBe('very');
    expect(req.get('tail')).toBe('ings/x/y?b=2&a=1');
    expect(req.get('glob')).toBe('false');
    expect(req.get('glob2')).toBe('true');
    expect(req.get('stamp')).toBe('20090213T233130Z');
    expect(req.url).toBe('/strings/x/y?a=1&b=2');
    expect(req.getAll('accept')).toEqual(['text/html, text/plain']);
    expect(req.getAll('cookie')).toEqual(['a=1; b=2']);
  });

  it('reads files once per call site', async () => {
    process.env.SHELLAC_STD_VCL = 'set';
    const first = clientTask({ url: '/file' });
    run(await vcl(), 'vcl_recv', first);
    expect(first.req!.get('file')).toBe('hello');
    expect(first.req!.get('exists')).toBe('true');
    expect(first.req!.get('env')).toBe('set');
    writeFileSync(file, 'changed');
    const second = clientTask({ url: '/file' });
    run(await vcl(), 'vcl_recv', second);
    expect(second.req!.get('file')).toBe('hello');
  });

  it('logs through the task, and reports what it cannot do', async () => {
    const lines: string[] = [];
    const services: TaskServices = { log: (_t, m) => void lines.push(m) };
    const t = clientTask({ url: '/log', services });
    run(await vcl(), 'vcl_recv', t);
    const deliver = clientTask({ url: '/', services });
    deliver.resp = deliver.req!.clone();
    run(await vcl(), 'vcl_deliver', deliver);
    expect(lines).toEqual([
      'vhost example.com',
      'syslog(9): something is wrong',
      'std.set_ip_tos(8): the TOS byte cannot be set here',
      'std.late_100_continue() only valid in vcl_recv{}',
    ]);
  });

  it('bans through the runtime and reports the last error', async () => {
    const bans: string[] = [];
    const services: TaskServices = {
      ban: (e) => {
        if (!e.includes(' ~ ')) return 'Expected comparison operator.';
        bans.push(e);
        return null;
      },
      log: () => {},
    };
    const t = clientTask({ url: '/ban', services });
    run(await vcl(), 'vcl_recv', t);
    expect(t.req!.get('error')).toBe('Expected comparison operator.');
    expect(t.req!.get('ok')).toBe('true');
    expect(t.req!.get('after')).toBe('');
    expect(bans).toEqual(['obj.http.x ~ y']);
  });

  it('rolls req back through the runtime', async () => {
    const rolled: string[] = [];
    const t = clientTask({ url: '/rollback', services: { rollback: (_t, where) => void rolled.push(where) } });
    run(await vcl(), 'vcl_recv', t);
    expect(rolled).toEqual(['req']);
  });

  it('asks the backend for its health', async () => {
    const t = clientTask({ url: '/health' });
    run(await vcl(), 'vcl_recv', t);
    expect(t.req!.get('healthy')).toBe('true');
  });

  it('awaits cache_req_body', async () => {
    const body = await load(BODY_VCL, { vmodPath: DEFAULT_VMOD_PATH });
    expect(body.isAsync('vcl_recv')).toBe(true);
    const sizes: number[] = [];
    const services: TaskServices = {
      cacheReqBody: async (_t, max) => {
        sizes.push(max);
        return max >= 3;
      },
    };
    const small = clientTask({ headers: [['max', '2']], services });
    expect(await body.run('vcl_recv', small)).toMatchObject({ action: 'synth' });
    expect(small.req!.get('cached')).toBe('no');
    const big = clientTask({ services });
    await body.run('vcl_recv', big);
    expect(big.req!.get('cached')).toBe('yes');
    expect(sizes).toEqual([2, 1024]);
  });
});
