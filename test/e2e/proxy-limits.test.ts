// Malformed and oversized requests end to end: each gets Varnish 7.1's answer (a 400 and a
// closed connection, or a silent close past http_req_size) and none reaches the backend; idle
// clients are closed after timeout_idle.

import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BACKEND, get, type Origin, type ProxyHandle, raw, startOrigin, startProxy, stat } from '../helpers/proxy.ts';

let origin: Origin | undefined;
let proxy: ProxyHandle | undefined;
afterEach(async () => {
  await proxy?.close();
  await origin?.close();
  proxy = origin = undefined;
});

async function setup(params: [string, string][] = []): Promise<void> {
  origin = await startOrigin((_req, res) => {
    res.writeHead(200, { 'Cache-Control': 'max-age=100' });
    res.end('ok');
  });
  proxy = await startProxy(BACKEND, { origin, params });
}

const headers = (n: number, len = 1): string => Array.from({ length: n }, (_, i) => `X-${i}: ${'a'.repeat(len)}\r\n`).join('');

describe('malformed requests', () => {
  it.each([
    // varnishd counts the close as sc_rx_junk when its HTTP/1 parser refuses the head, as
    // sc_rx_bad when a later check does (duplicate headers).
    ['a bad request line', 'GARBAGE\r\n\r\n', 'sc_rx_junk'],
    ['Content-Length with Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 'sc_rx_junk'],
    ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'sc_rx_bad'],
    ['two Content-Length headers', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx', 'sc_rx_bad'],
    ['a bad header line', 'GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n', 'sc_rx_junk'],
  ])('refuses %s with a 400 and closes', async (_what, bytes, counter) => {
    await setup();
    const r = await raw(proxy!.port, bytes);
    expect(r.text).toMatch(/^HTTP\/1\.1 400 /);
    expect(r.closed).toBe(true);
    expect(origin!.seen).toHaveLength(0);
    expect(stat(proxy!, 'client_req_400')).toBe(1);
    expect(stat(proxy!, counter)).toBe(1);
    // The proxy goes on serving.
    expect((await get(proxy!.port, '/')).status).toBe(200);
  });

  it('refuses a header longer than http_req_hdr_len and more headers than http_max_hdr', async () => {
    await setup([
      ['http_req_hdr_len', '100'],
      ['http_max_hdr', '32'],
    ]);
    const long = await raw(proxy!.port, `GET / HTTP/1.1\r\nHost: x\r\n${headers(1, 150)}\r\n`);
    expect(long.text).toMatch(/^HTTP\/1\.1 400 /);
    const many = await raw(proxy!.port, `GET / HTTP/1.1\r\nHost: x\r\n${headers(40)}\r\n`);
    expect(many.text).toMatch(/^HTTP\/1\.1 400 /);
    const fine = await raw(proxy!.port, `GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers(10, 50)}\r\n`);
    expect(fine.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(origin!.seen).toHaveLength(1);
    expect(stat(proxy!, 'client_req_400')).toBe(2);
  });

  it('reads the same header lines again under limits lowered on a live connection', async () => {
    // A connection's repeated lines are not read again (src/http1/head.ts LinesMemo), unless
    // the limits they were read under changed.
    await setup();
    const request = `GET / HTTP/1.1\r\nHost: x\r\n${headers(40)}\r\n`;
    const sock = connect(proxy!.port, '127.0.0.1');
    let text = '';
    sock.on('data', (d: Buffer) => {
      text += d.toString('latin1');
    });
    const answers = async (n: number): Promise<void> => {
      for (let i = 0; i < 200 && (text.match(/HTTP\/1\.1 /g) ?? []).length < n; i++) await new Promise((r) => setTimeout(r, 10));
    };
    for (let i = 1; i <= 3; i++) {
      sock.write(request);
      await answers(i);
    }
    expect(text.match(/HTTP\/1\.1 200 /g)).toHaveLength(3);
    proxy!.srv.params.set('http_max_hdr', '32');
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.write(request);
    await closed;
    expect(text.match(/HTTP\/1\.1 /g)).toHaveLength(4);
    expect(text).toMatch(/HTTP\/1\.1 400 Bad Request\r\n\r\n$/);
    expect(stat(proxy!, 'client_req_400')).toBe(1);
  });

  it('closes without an answer when a request head is larger than http_req_size', async () => {
    await setup([['http_req_size', '1024']]);
    const r = await raw(proxy!.port, `GET / HTTP/1.1\r\nHost: x\r\n${headers(15, 100)}\r\n`);
    expect(r.closed).toBe(true);
    expect(r.text).toBe('');
    expect(origin!.seen).toHaveLength(0);
    expect(stat(proxy!, 'sc_rx_overflow')).toBe(1);
  });
});

describe('timeout_idle', () => {
  it('closes a connection that sends nothing, and one left idle after a response', async () => {
    await setup([['timeout_idle', '0.3']]);
    const silent = raw(proxy!.port, '', 3000);
    const started = Date.now();
    const idle = new Promise<{ text: string; afterMs: number }>((resolve) => {
      const s = connect(proxy!.port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
      let text = '';
      s.on('data', (d: Buffer) => {
        text += d;
      });
      s.on('close', () => resolve({ text, afterMs: Date.now() - started }));
    });
    const a = await silent;
    expect(a.closed).toBe(true);
    expect(a.text).toBe('');
    const b = await idle;
    expect(b.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(b.afterMs).toBeGreaterThanOrEqual(250);
    expect(b.afterMs).toBeLessThan(2500);
    // Nothing came after the response, nor on the silent connection: an idle close.
    expect(stat(proxy!, 'sc_rx_close_idle')).toBe(2);
  });
});
