// compute.program() end to end: a WebAssembly program built from programs/hello.ts answers
// requests through a real Shellac on loopback, is cached like any backend's response, and a
// program that fails is a 503 from vcl_backend_error.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, type ProxyHandle } from '../../test/helpers/proxy.ts';
import { BUILD_DIR, built, computeVcl, serveVcl, tempDir, write } from './test-setup.ts';

let p: ProxyHandle;

beforeAll(async () => {
  await built();
  const dir = tempDir();
  const lib = write(
    dir,
    'lib.json',
    JSON.stringify({
      groups: { default: { concurrency: 2 } },
      hello: { filename: join(BUILD_DIR, 'hello.wasm'), arguments: ['Howdy'] },
      nofile: { filename: join(dir, 'missing.wasm') },
    }),
  );
  p = await serveVcl(
    computeVcl(`
sub vcl_init {
  compute.library("${lib}");
  compute.start("hello");
}
sub vcl_recv {
  if (req.url ~ "^/pass") { return (pass); }
}
sub vcl_backend_fetch {
  if (bereq.url ~ "^/missing") {
    set bereq.backend = compute.program("nofile");
  } else {
    set bereq.backend = compute.program("hello", "arg-" + bereq.url);
  }
}
sub vcl_backend_response {
  set beresp.http.x-ttl = beresp.ttl;
}`),
  );
}, 60_000);
afterAll(() => p?.close());

describe('compute.program()', () => {
  it('answers with the program response, through vcl_backend_response', async () => {
    const r = await get(p.port, '/hello');
    expect(r.status).toBe(200);
    expect(r.body).toBe('Howdy from /hello (arg-/hello)\n');
    expect(r.headers['content-type']).toBe('text/plain');
    expect(r.headers['x-ttl']).toBeDefined();
  });

  it('is cached like any backend response', async () => {
    const a = await get(p.port, '/cached');
    const b = await get(p.port, '/cached');
    expect(b.body).toBe(a.body);
    // A hit names two transactions: this one and the one that fetched.
    expect(String(b.headers['x-varnish']).split(' ')).toHaveLength(2);
  });

  it('starts every request from the post-init state (ephemeral)', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await get(p.port, `/pass/${i}`);
      expect(r.headers['x-seen']).toBe('1');
    }
  });

  it('is a 503 when the program cannot load', async () => {
    const r = await get(p.port, '/missing');
    expect(r.status).toBe(503);
  });
});
