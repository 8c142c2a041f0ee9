// A response is put together in one kept buffer when its socket will take it at once
// (src/http1/response.ts, outputFor): a socket that cannot (its client does not read) keeps that
// buffer, and later responses to other clients must not write over what it still has to send.

import { connect, type Socket } from 'node:net';
import { expect, it } from 'vitest';
import { BACKEND, closedAfterEach, get, sleep, startOrigin, startProxy } from '../helpers/proxy.ts';

const SIZE = 60_000;
/** A body whose every byte says which object it belongs to and where it is. */
const body = (seed: number): Buffer => Buffer.from(Array.from({ length: SIZE }, (_, i) => 0x21 + ((i * 7 + seed) % 90)));

const close = closedAfterEach();

/** Sends GET path n times on one connection, one after another, without reading the answers. */
function unreadClient(port: number, path: string, n: number): { sock: Socket; sent: () => Promise<void> } {
  const sock = connect(port, '127.0.0.1');
  sock.pause();
  const sent = async (): Promise<void> => {
    for (let i = 0; i < n; i++) {
      // The Host the helper's get() sends, so that these are hits of what it cached.
      sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      await sleep(2);
    }
  };
  return { sock, sent };
}

/** Reads n responses from a paused socket and returns their bodies. */
async function readAll(sock: Socket, n: number): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  sock.resume();
  let bodies: Buffer[] = [];
  for (let wait = 0; wait < 1000 && bodies.length < n; wait++) {
    await sleep(10);
    bodies = [];
    let all = Buffer.concat(chunks);
    for (;;) {
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) break;
      const cl = /Content-Length: (\d+)/i.exec(all.subarray(0, end).toString('latin1'));
      const total = end + 4 + Number(cl?.[1] ?? 0);
      if (all.length < total) break;
      bodies.push(all.subarray(end + 4, total));
      all = all.subarray(total);
    }
  }
  return bodies;
}

it("keeps the bytes a slow client's socket still holds while other clients are answered", async () => {
  const origin = close.origin(
    await startOrigin((req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=600' });
      res.end(body(req.url === '/a' ? 1 : 2));
    }),
  );
  const proxy = close.proxy(await startProxy(BACKEND, { origin }));
  // Both objects in the cache first.
  expect((await get(proxy.port, '/a')).status).toBe(200);
  expect((await get(proxy.port, '/b')).status).toBe(200);
  // A client asks for /a many times and reads nothing: its socket fills, and a write the
  // kernel takes only in part keeps its buffer.
  const slow = unreadClient(proxy.port, '/a', 80);
  await slow.sent();
  // Meanwhile other clients are answered /b, each put together in an output buffer.
  for (let i = 0; i < 40; i++) {
    const r = await get(proxy.port, '/b');
    expect(r.status).toBe(200);
  }
  const bodies = await readAll(slow.sock, 80);
  slow.sock.destroy();
  expect(bodies).toHaveLength(80);
  const a = body(1);
  for (const b of bodies) expect(b.equals(a)).toBe(true);
});
