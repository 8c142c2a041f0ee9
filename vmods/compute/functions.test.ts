// Every function of the compute VMOD from VCL, through a real Shellac on loopback: library and
// configure (with group defaults, overrides and inline definitions), main_arguments, start,
// chain (a backend's JSON through fetch and json-transform), program, to_string, synth, the JS
// template renderer, stats and invalidate_programs, self-requests with their loop cap, and the
// checker refusing each restricted function outside its subroutines.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, type Origin, type ProxyHandle, startOrigin, startProxy } from '../../test/helpers/proxy.ts';
import { BUILD_DIR, built, computeVcl, serveWithSocket, tempDir, write } from './test-setup.ts';

let p: ProxyHandle & { socket: string };
let origin: Origin;
let dir: string;

const DATA = { name: 'shellac', tags: ['cache', 'vcl'], nested: { deep: true } };

beforeAll(async () => {
  await built();
  origin = await startOrigin((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(DATA, null, 2));
  });
  dir = tempDir();
  const lib = write(
    dir,
    'lib.json',
    JSON.stringify({
      groups: { default: { concurrency: 2, max_request_time: 5 }, small: { max_memory: 16, concurrency: 1 } },
      hello: { filename: join(BUILD_DIR, 'hello.wasm'), group: 'small' },
      fetch: { filename: join(BUILD_DIR, 'fetch.wasm') },
      'json-transform': { filename: join(BUILD_DIR, 'json-transform.wasm') },
      template: { filename: join(BUILD_DIR, 'template.js'), arguments: ['<h1>{{title}}</h1>{{#each tags}}<li>{{.}}</li>{{/each}}'] },
      limits: { filename: join(BUILD_DIR, 'test-limits.wasm'), concurrency: 4 },
    }),
  );
  p = await serveWithSocket(
    computeVcl(`
backend origin { .host = "127.0.0.1"; .port = "${origin.port}"; }
sub vcl_init {
  compute.library("${lib}");
  compute.configure("hello", {"{ "arguments": ["Configured"] }"});
  compute.configure("inline", {"{ "filename": "${join(BUILD_DIR, 'hello.wasm')}" }"});
  compute.main_arguments("inline", "Inline");
  compute.init_self_requests("SOCKET", max_concurrent_requests = 2);
  compute.start("hello", async = false);
  compute.start("template", debug = true);
}
sub vcl_recv {
  if (req.url ~ "^/(loop|api|string)") { return (pass); }
  if (req.url ~ "^/synth") { return (synth(700)); }
}
sub vcl_backend_fetch {
  if (bereq.url ~ "^/api/") {
    set bereq.backend = origin;
  } else if (bereq.url ~ "^/transformed") {
    if (!compute.chain("fetch", "/api/data.json")) { return (error(500)); }
    set bereq.http.x-missing = compute.chain("no-such-program");
    set bereq.backend = compute.program("json-transform", "edge");
  } else if (bereq.url ~ "^/string") {
    set bereq.backend = origin;
    set bereq.http.x-string = compute.to_string("limits", "/from-string", "text");
    set bereq.http.x-failed = compute.to_string("limits", "/", "trap", "fallback");
    set bereq.http.x-status = compute.to_string("limits", "/", "status", "at-threshold");
  } else if (bereq.url ~ "^/template") {
    set bereq.backend = compute.program("template", config = {"{"title": "Tags & more", "tags": ["a<b", "c"]}"});
  } else if (bereq.url ~ "^/inline") {
    set bereq.backend = compute.program("inline");
  } else if (bereq.url ~ "^/loop") {
    # A program that requests itself: each level asks for the next.
    set bereq.backend = compute.program("limits", "self:" + regsub(bereq.url, "^/loop", "/loop/x"));
  } else if (bereq.url ~ "^/nothing") {
    set bereq.backend = compute.program("no-such-program");
  } else {
    set bereq.backend = compute.program("hello");
  }
}
sub vcl_backend_response {
  set beresp.http.x-missing = bereq.http.x-missing;
  set beresp.http.x-string = bereq.http.x-string;
  set beresp.http.x-failed = bereq.http.x-failed;
  set beresp.http.x-status = bereq.http.x-status;
}
sub vcl_deliver {
  if (req.url == "/stats") {
    set resp.http.x-stats = compute.stats("^(hello|template)$");
  }
  if (req.url == "/invalidate") {
    set resp.http.x-invalidated = compute.invalidate_programs("^hello$");
  }
}
sub vcl_synth {
  if (resp.status == 700) {
    set resp.http.x-synth = compute.synth(201, "hello", "/synthetic");
    return (deliver);
  }
}`),
    dir,
  );
}, 60_000);
afterAll(async () => {
  await p?.close();
  await origin?.close();
});

describe('compute functions from VCL', () => {
  it('library, group defaults and configure: the override wins over the library', async () => {
    expect((await get(p.port, '/hello')).body).toBe('Configured from /hello\n');
  });

  it('configure defines a program inline, and main_arguments replaces its arguments', async () => {
    expect((await get(p.port, '/inline')).body).toBe('Inline from /inline\n');
  });

  it('chain: a backend JSON response through fetch (a self-request) and json-transform', async () => {
    const r = await get(p.port, '/transformed');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(JSON.parse(r.body)).toEqual({ via: 'edge', ...DATA });
    expect(r.body).not.toContain('\n');
    // chain() of an unknown program is false.
    expect(r.headers['x-missing']).toBe('false');
  });

  it('to_string: the body as a string, on_error when the program fails or answers an error', async () => {
    const r = await get(p.port, '/string');
    expect(r.headers['x-string']).toBe('limits v1 text');
    expect(r.headers['x-failed']).toBe('fallback');
    expect(r.headers['x-status']).toBe('at-threshold');
  });

  it('synth: the program makes the synthetic response, with the status given', async () => {
    const r = await get(p.port, '/synth');
    expect(r.status).toBe(201);
    expect(r.body).toBe('Configured from /synthetic\n');
    expect(r.headers['x-synth']).toBe('201');
  });

  it('runs a JS template renderer, escaping what it inserts', async () => {
    const r = await get(p.port, '/template?title=Hello%20%3Cworld%3E');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.body).toBe('<h1>Hello &lt;world&gt;</h1><li>a&lt;b</li><li>c</li>');
  });

  it('a program that does not exist is no backend: a 503', async () => {
    expect((await get(p.port, '/nothing')).status).toBe(503);
  });

  it('self-requests reach the server; a program requesting itself is stopped by the cap', async () => {
    const r = await get(p.port, '/loop');
    expect(r.status).toBe(200);
    // Two self-requests in flight at most: the third level is refused with a 508, which each
    // level above reports in its own body.
    expect(r.body).toBe('200 200 508 too many self-requests in flight');
  });

  it('stats: JSON of the loaded programs matching, minified', async () => {
    await get(p.port, '/template');
    const r = await get(p.port, '/stats');
    const raw = String(r.headers['x-stats']);
    expect(raw).not.toContain('\n');
    const stats = JSON.parse(raw);
    expect(Object.keys(stats).sort()).toEqual(['hello', 'template']);
    expect(stats.hello).toMatchObject({ type: 'wasm', loaded: true, concurrency: 1, failures: 0 });
    expect(stats.hello.requests).toBeGreaterThanOrEqual(3);
    expect(stats.template.resets).toBeGreaterThanOrEqual(1);
    for (const k of ['timeouts', 'queue_waits', 'exec_time_p50_ms', 'exec_time_p99_ms', 'memory_bytes', 'instances', 'live_updates']) {
      expect(stats.hello).toHaveProperty(k);
    }
    expect(stats.hello.exec_time_p99_ms).toBeGreaterThanOrEqual(stats.hello.exec_time_p50_ms);
    expect(stats.hello.memory_bytes).toBeGreaterThan(0);
  });

  it('invalidate_programs unloads the matching programs; the next request loads them again', async () => {
    const r = await get(p.port, '/invalidate');
    expect(r.headers['x-invalidated']).toBe('1');
    const stats = JSON.parse(String((await get(p.port, '/stats')).headers['x-stats']));
    expect(Object.keys(stats)).toEqual(['template']);
    expect((await get(p.port, '/hello-again')).body).toBe('Configured from /hello-again\n');
  });
});

describe('the checker holds each function to its subroutines', () => {
  const cases: [string, string, string][] = [
    ['library', 'sub vcl_recv { compute.library("/x.json"); }', 'vcl_init'],
    ['init_self_requests', 'sub vcl_recv { compute.init_self_requests("/x.sock"); }', 'vcl_init'],
    ['configure', 'sub vcl_deliver { compute.configure("x", "{}"); }', 'vcl_init'],
    ['start', 'sub vcl_backend_fetch { compute.start("x"); }', 'vcl_init'],
    ['chain', 'sub vcl_recv { compute.chain("x"); }', 'vcl_backend_fetch'],
    ['program', 'sub vcl_recv { set req.backend_hint = compute.program("x"); }', 'vcl_backend_fetch'],
    ['synth', 'sub vcl_deliver { compute.synth(200, "x"); }', 'vcl_synth'],
  ];
  it.each(cases)('%s', async (name, vcl, allowed) => {
    await expect(startProxy(computeVcl(vcl))).rejects.toThrow(new RegExp(`compute\\.${name}\\(\\)[^\\n]*can be called in ${allowed}`));
  });
});

describe('definitions are checked, naming the program and the key', () => {
  const cases: [string, unknown, string][] = [
    ['an unknown key', { hello: { filename: 'x.wasm', concurency: 2 } }, "program 'hello': unknown key 'concurency'"],
    ['a bad value', { hello: { filename: 'x.wasm', max_memory: -1 } }, "program 'hello': 'max_memory' must be megabytes"],
    ['a bad type', { hello: { filename: 'x.wasm', type: 'elf' } }, `program 'hello': 'type' must be "wasm" or "js"`],
    ['an unknown group', { hello: { filename: 'x.wasm', group: 'nope' } }, "program 'hello': 'group' names no group ('nope')"],
    ['a spin out of bounds', { hello: { filename: 'x.wasm', thread_spin_us: 20000 } }, "program 'hello': 'thread_spin_us' must be microseconds"],
    ['a poll that is not an integer', { hello: { filename: 'x.wasm', answer_poll_us: 1.5 } }, "program 'hello': 'answer_poll_us' must be microseconds"],
    ['a negative idle timeout', { hello: { filename: 'x.wasm', thread_idle_timeout: -1 } }, "program 'hello': 'thread_idle_timeout' must be seconds"],
  ];
  it.each(cases)('%s', async (_what, json, message) => {
    const lib = write(tempDir(), 'lib.json', JSON.stringify(json));
    await expect(startProxy(computeVcl(`sub vcl_init { compute.library("${lib}"); }`))).rejects.toThrow(message);
  });

  it('configure with a bad value fails vcl_init', async () => {
    await expect(startProxy(computeVcl('sub vcl_init { compute.configure("p", {"{"ephemeral": 1}"}); }'))).rejects.toThrow(
      "program 'p': 'ephemeral' must be true or false",
    );
  });
});
