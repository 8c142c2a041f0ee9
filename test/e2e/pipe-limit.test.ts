// pipe_sess_max and MAIN.n_pipe (Varnish's v00059): a pipe counts in n_pipe while its tunnel is
// open; beyond pipe_sess_max a request that would pipe gets a 503 and its connection is closed
// (pipe_limited, sc_pipe_overflow).

import { connect, type Server, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyHandle, raw, startProxy } from '../helpers/proxy.ts';
import { until } from '../ops/helpers.ts';

let origin: Server;
let originPort = 0;
let proxy: ProxyHandle;
beforeAll(async () => {
  // An origin that reads a request and answers only when the client sends "go".
  origin = createServer((s) => {
    s.on('data', (b) => {
      if (b.toString().includes('go')) s.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  originPort = (origin.address() as { port: number }).port;
  proxy = await startProxy(`vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "${originPort}"; }\nsub vcl_recv { return (pipe); }\n`, {
    params: [['pipe_sess_max', '1']],
  });
});
afterAll(async () => {
  await proxy?.close();
  await new Promise((r) => origin.close(r));
});

describe('pipe_sess_max', () => {
  it('counts open pipes and refuses one beyond the limit with a 503', async () => {
    const c = proxy.srv.counters;
    expect(c.n_pipe).toBe(0);
    const first = connect(proxy.port, '127.0.0.1');
    let got = '';
    first.on('data', (b) => {
      got += b.toString();
    });
    first.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(await until(() => c.n_pipe === 1, 5000)).toBe(true);

    const second = await raw(proxy.port, 'GET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(second.text).toMatch(/^HTTP\/1\.1 503 /);
    expect(second.closed).toBe(true);
    expect(c.pipe_limited).toBe(1);
    expect(c.sc_pipe_overflow).toBe(1);

    first.write('go');
    expect(await until(() => got.includes('ok') && c.n_pipe === 0, 5000)).toBe(true);
    first.destroy();
  });
});
