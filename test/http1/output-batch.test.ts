// Answers made in one turn of the event loop wait in one shared arena and leave together at its
// end (src/http1/response.ts, outputFor and writeOut). Each must leave whole, with its own bytes,
// in its connection's order, also when other bytes follow it on the same socket in that turn.

import { connect, type Socket } from 'node:net';
import { expect, it } from 'vitest';
import { BACKEND, closedAfterEach, get, raw, sleep, startOrigin, startProxy } from '../helpers/proxy.ts';

const close = closedAfterEach();

/** The body of object n: its own length and bytes, so that a piece of another's shows. */
const body = (n: number): Buffer => Buffer.from(Array.from({ length: 500 + n * 97 }, (_, i) => 0x21 + ((i * 3 + n * 11) % 90)));

/** Reads from `sock` until `n` whole responses (by Content-Length) came or the socket ends. */
function responses(sock: Socket, n: number): Promise<{ head: string; body: Buffer }[]> {
  return new Promise((resolve) => {
    let all = Buffer.alloc(0);
    const out: { head: string; body: Buffer }[] = [];
    const done = (): void => {
      sock.destroy();
      resolve(out);
    };
    const timer = setTimeout(done, 5000);
    sock.on('data', (c: Buffer) => {
      all = Buffer.concat([all, c]);
      for (;;) {
        const end = all.indexOf('\r\n\r\n');
        if (end < 0) break;
        const head = all.subarray(0, end).toString('latin1');
        const total = end + 4 + Number(/Content-Length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (all.length < total) break;
        out.push({ head, body: all.subarray(end + 4, total) });
        all = all.subarray(total);
      }
      if (out.length >= n) {
        clearTimeout(timer);
        done();
      }
    });
    sock.on('end', () => {
      clearTimeout(timer);
      done();
    });
    sock.on('error', () => {});
  });
}

async function cachedObjects(count: number) {
  const origin = close.origin(
    await startOrigin((req, res) => {
      const n = Number(req.url?.slice(1));
      const b = body(n);
      res.writeHead(200, { 'Cache-Control': 'max-age=600', 'Content-Length': b.length });
      res.end(b);
    }),
  );
  const proxy = close.proxy(await startProxy(BACKEND, { origin }));
  for (let n = 0; n < count; n++) expect((await get(proxy.port, `/${n}`)).status).toBe(200);
  return proxy;
}

it('answers many clients whose requests are read in one turn, each with its own bytes', async () => {
  const count = 40;
  const proxy = await cachedObjects(count);
  for (let round = 0; round < 3; round++) {
    const socks = await Promise.all(
      Array.from({ length: count }, () => new Promise<Socket>((resolve) => {
        const s = connect(proxy.port, '127.0.0.1', () => resolve(s));
      })),
    );
    const answers = socks.map((s) => responses(s, 2));
    // All at once: most are read in the same poll of the event loop, and answered in one batch.
    // Two requests each, the second after the first's answer can have been made.
    // The Host get() sends, so that these are hits of what it cached.
    const host = `Host: 127.0.0.1:${proxy.port}`;
    for (const [n, s] of socks.entries()) s.write(`GET /${n} HTTP/1.1\r\n${host}\r\n\r\n`);
    await sleep(1);
    for (const [n, s] of socks.entries()) s.write(`GET /${count - 1 - n} HTTP/1.1\r\n${host}\r\n\r\n`);
    const got = await Promise.all(answers);
    got.forEach((rs, n) => {
      expect(rs).toHaveLength(2);
      expect(rs[0].head.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
      expect(rs[0].head).toMatch(/\r\nX-Varnish: \d+ \d+\r\n/);
      expect(rs[0].body.equals(body(n))).toBe(true);
      expect(rs[1].body.equals(body(count - 1 - n))).toBe(true);
    });
  }
});

it('writes an answer before the 400 that closes its connection, and before the close it asked for', async () => {
  const proxy = await cachedObjects(1);
  // A hit, then in the same read a request refused: the hit's answer leaves first, whole.
  const host = `Host: 127.0.0.1:${proxy.port}`;
  const refused = await raw(proxy.port, `GET /0 HTTP/1.1\r\n${host}\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n`);
  const first = refused.text.indexOf('HTTP/1.1 200 OK\r\n');
  expect(first).toBe(0);
  expect(refused.text.indexOf('HTTP/1.1 400 Bad Request\r\n')).toBeGreaterThan(first + body(0).length);
  // A hit with Connection: close: the answer, then the close.
  const closing = await raw(proxy.port, `GET /0 HTTP/1.1\r\n${host}\r\nConnection: close\r\n\r\n`);
  expect(closing.text).toMatch(/\r\nX-Varnish: \d+ \d+\r\n/);
  expect(closing.closed).toBe(true);
  expect(closing.text.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
  expect(closing.text.endsWith(body(0).toString('latin1'))).toBe(true);
});
