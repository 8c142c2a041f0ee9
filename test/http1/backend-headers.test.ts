// A backend response header with a bad name or value fails that fetch (503 from
// vcl_backend_error), never the process; the next fetch on the same proxy is served. undici's
// parser refuses each of these before a VclHttp is made of them.

import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { get, type ProxyHandle, startProxy } from '../helpers/proxy.ts';

const BAD = ['X A: b', 'X-A : b', 'X-A: a\x00b', 'X-A: a\x01b', 'X-A: a\x7fb', ' X-A: b', 'X-A: a\rb', 'X\xe9: b', ': b'];

let origin: Server;
let proxy: ProxyHandle;
/** The header line the origin sends next; null for a clean response. */
let next: string | null = null;

beforeAll(async () => {
  origin = createServer((s) => {
    s.on('data', () => {
      const extra = next === null ? '' : `${next}\r\n`;
      s.end(Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n${extra}\r\nok`, 'latin1'));
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const port = (origin.address() as { port: number }).port;
  proxy = await startProxy('vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "ORIGIN_PORT"; }\nsub vcl_recv { return (pass); }\n', { origin: { port } as never });
});

afterAll(async () => {
  await proxy?.close();
  origin?.close();
});

it.each(BAD)('a backend header line %j fails the fetch with a 503, and the proxy serves on', async (line) => {
  next = line;
  const r = await get(proxy.port, '/bad');
  expect(r.status).toBe(503);
  next = null;
  const ok = await get(proxy.port, '/good');
  expect(ok.status).toBe(200);
  expect(ok.body).toBe('ok');
});
