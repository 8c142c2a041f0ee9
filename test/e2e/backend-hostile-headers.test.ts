// Hostile bytes in a backend response head (issue 10): a header with a bad name or value fails
// the fetch (a 503 to the client), never the process; the test runs Shellac in this process,
// so a throw that escaped would fail it. Each case gets a 503 from varnishd 7.1 too. Bytes
// 0x80-0xff in a value are obs-text, which HTTP allows and Varnish passes on. (An obs-fold is
// joined, as varnishd joins it: test/e2e/backend-client.test.ts.)

import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, type ProxyHandle, startProxy } from '../helpers/proxy.ts';

let head = '';
let origin: Server;
let proxy: ProxyHandle;
beforeAll(async () => {
  origin = createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => s.end(Buffer.from(`HTTP/1.1 200 OK\r\n${head}\r\nContent-Length: 2\r\n\r\nok`, 'latin1')));
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  const port = (origin.address() as { port: number }).port;
  proxy = await startProxy(`vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "${port}"; }\nsub vcl_recv { return (pass); }\n`);
});
afterAll(async () => {
  await proxy.close();
  origin.close();
});

describe('a backend response head with hostile bytes', () => {
  it.each([
    ['whitespace before the colon', 'X-A : b'],
    ['a space in the name', 'X A: b'],
    ['an empty name', ': b'],
    ['a NUL in the value', 'X-A: a\x00b'],
    ['a control byte in the value', 'X-A: a\x01b'],
    ['a bare CR in the value', 'X-A: a\rb'],
  ])('%s: the fetch fails with a 503, and the next one is served', async (_what, line) => {
    head = line;
    expect((await get(proxy.port, '/bad')).status).toBe(503);
    head = 'X-A: fine';
    const r = await get(proxy.port, '/good');
    expect(r.status).toBe(200);
    expect(r.headers['x-a']).toBe('fine');
  });

  it('passes obs-text (bytes 0x80-0xff) in a value on', async () => {
    head = 'X-A: \xff\xfe';
    const r = await get(proxy.port, '/obs');
    expect(r.status).toBe(200);
    expect(Buffer.from(String(r.headers['x-a']), 'latin1')).toEqual(Buffer.from([0xff, 0xfe]));
  });
});
