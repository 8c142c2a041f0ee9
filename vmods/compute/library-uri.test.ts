// A library and a program fetched over http: library(uri) with an http URL, and a definition
// whose program is a `uri`.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, type Origin, type ProxyHandle, startOrigin } from '../../test/helpers/proxy.ts';
import { BUILD_DIR, built, computeVcl, serveVcl } from './test-setup.ts';

let p: ProxyHandle;
let origin: Origin;

beforeAll(async () => {
  await built();
  const wasm = readFileSync(join(BUILD_DIR, 'hello.wasm'));
  origin = await startOrigin((req, res) => {
    if (req.url === '/lib.json') {
      res.end(JSON.stringify({ remote: { uri: `http://127.0.0.1:${origin.port}/hello.wasm`, arguments: ['Fetched'] }, gone: { uri: `http://127.0.0.1:${origin.port}/none.wasm` } }));
    } else if (req.url === '/hello.wasm') {
      res.end(wasm);
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  p = await serveVcl(
    computeVcl(`
sub vcl_init {
  compute.library("http://127.0.0.1:${origin.port}/lib.json");
}
sub vcl_backend_fetch {
  set bereq.backend = compute.program(regsub(bereq.url, "^/", ""));
}`),
  );
}, 60_000);
afterAll(async () => {
  await p?.close();
  await origin?.close();
});

describe('programs over http', () => {
  it('loads a library from a URL, and a program from its uri', async () => {
    expect((await get(p.port, '/remote')).body).toBe('Fetched from /remote\n');
  });

  it('is a 503 when the program cannot be fetched', async () => {
    expect((await get(p.port, '/gone')).status).toBe(503);
  });
});
