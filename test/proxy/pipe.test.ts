// Pipe end to end over loopback: a client talks through a front door (node:http's 'upgrade', or
// a raw listener) that hands its socket to pipe(); the backend sees bereq's head and then the
// raw bytes both ways. Also the idle timeout, a backend that closes first, a refused backend
// (the client can still be answered), and max_connections counting pipes.

import { createServer } from 'node:http';
import { type AddressInfo, connect, createServer as createNetServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/proxy/backend/backend.ts';
import { newBackendGlobalCounters } from '../../src/proxy/backend/counters.ts';
import type { BackendFailure } from '../../src/proxy/backend/failure.ts';
import { type PipeDone, pipe } from '../../src/proxy/pipe.ts';
import { VclHttp } from '../../src/runtime/http.ts';
import { backendFrom, cleanup, closedPort, rawOrigin, until } from './backend-helpers.ts';

afterEach(cleanup);

type PipeResult = PipeDone | BackendFailure;

/** A raw front door: reads one request head, builds bereq from it, and pipes the rest. */
async function rawFront(backend: Backend, timeout: number, edit?: (bereq: VclHttp) => void) {
  const results: PipeResult[] = [];
  const counters = newBackendGlobalCounters();
  // Half-open, as node:http's sockets are: a client's end of stream must not end our side.
  const server = createNetServer({ allowHalfOpen: true }, (socket) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.removeListener('data', onData);
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const [method, url, proto] = lines[0].split(' ');
      const bereq = VclHttp.request(method, url, proto);
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        bereq.append(line.slice(0, colon), line.slice(colon + 1).trim());
      }
      edit?.(bereq);
      void pipe({ client: socket, head: buf.subarray(end + 4), backend, bereq, timeout, counters }).then((r) => {
        results.push(r);
        if (!r.ok) socket.end('HTTP/1.1 503 Backend fetch failed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      });
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    results,
    counters,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Connects, writes, and collects everything until the server closes. */
function converse(port: number, script: (socket: Socket, received: () => string) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (c: Buffer) => {
      text += c.toString('latin1');
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
    socket.on('connect', () => script(socket, () => text));
  });
}

describe('pipe', () => {
  it('tunnels an upgraded connection both ways, counting bytes', async () => {
    const originHeads: string[] = [];
    const origin = await rawOrigin((socket, head, rest) => {
      originHeads.push(head);
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n');
      socket.write(rest.toString('latin1').toUpperCase());
      socket.on('data', (c: Buffer) => socket.write(c.toString('latin1').toUpperCase()));
      socket.on('end', () => socket.end());
    });
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const counters = newBackendGlobalCounters();
    const results: PipeResult[] = [];
    const front = createServer();
    front.on('upgrade', (req, socket, head) => {
      const bereq = VclHttp.request(req.method ?? 'GET', req.url ?? '/', `HTTP/${req.httpVersion}`);
      bereq.appendRaw(req.rawHeaders);
      bereq.set('X-Varnish', '1001');
      void pipe({ client: socket, head, backend: be, bereq, timeout: 5, counters }).then((r) => results.push(r));
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const port = (front.address() as AddressInfo).port;

    const request = 'GET /ws HTTP/1.1\r\nHost: front\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n';
    const text = await converse(port, (socket, received) => {
      socket.write(`${request}hello`);
      void until(() => received().includes('HELLO'), 3000, 'the echo').then(() => {
        socket.write(' world');
        return until(() => received().includes(' WORLD'), 3000, 'the second echo').then(() => socket.end());
      });
    });
    await until(() => results.length === 1, 3000, 'the pipe to end');
    front.close();

    expect(text).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(text.endsWith('HELLO WORLD')).toBe(true);
    expect(originHeads[0]).toBe('GET /ws HTTP/1.1\r\nHost: front\r\nUpgrade: echo\r\nConnection: Upgrade\r\nX-Varnish: 1001\r\n\r\n');
    const r = results[0];
    if (!r.ok) throw new Error(r.message);
    expect(r.in).toBe(11);
    expect(r.out).toBe(text.length);
    expect(r.endedBy).toBe('client');
    expect(counters.s_pipe_in).toBe(11);
    expect(counters.s_pipe_out).toBe(text.length);
    expect(counters.s_pipe_hdrbytes).toBe(originHeads[0].length);
    expect(be.counters.pipe_out).toBe(11);
    expect(be.counters.pipe_in).toBe(text.length);
    expect(be.counters.pipe_hdrbytes).toBe(originHeads[0].length);
    expect(be.counters.conn).toBe(0);
  });

  it('passes a backend that answers and closes through to the client', async () => {
    const origin = await rawOrigin((socket) => {
      socket.end('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npiped body');
    });
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const front = await rawFront(be, 5, (bereq) => bereq.set('Connection', 'close'));
    const text = await converse(front.port, (socket) => socket.write('GET /p HTTP/1.1\r\nHost: x\r\n\r\n'));
    await until(() => front.results.length === 1, 3000, 'the pipe to end');
    await front.close();
    expect(text).toBe('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npiped body');
    const r = front.results[0];
    expect(r.ok && r.endedBy).toBe('backend');
  });

  it('closes both sides when nothing moves for pipe_timeout', async () => {
    let backendClosed = false;
    const origin = await rawOrigin((socket) => {
      socket.on('close', () => {
        backendClosed = true;
      });
    });
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const front = await rawFront(be, 0.2);
    const start = Date.now();
    await converse(front.port, (socket) => socket.write('GET /idle HTTP/1.1\r\nHost: x\r\n\r\n'));
    const took = Date.now() - start;
    await until(() => front.results.length === 1 && backendClosed, 3000, 'the pipe to end');
    await front.close();
    expect(took).toBeGreaterThanOrEqual(180);
    expect(took).toBeLessThan(2000);
    const r = front.results[0];
    expect(r.ok && r.endedBy).toBe('timeout');
  });

  it('traffic keeps an idle timeout from firing', async () => {
    const origin = await rawOrigin((socket, _head, rest) => {
      socket.write(rest);
      socket.on('data', (c: Buffer) => socket.write(c));
      socket.on('end', () => socket.end());
    });
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const front = await rawFront(be, 0.2);
    const text = await converse(front.port, (socket) => {
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      let n = 0;
      const t = setInterval(() => {
        socket.write(`${n}`);
        if (++n === 6) {
          clearInterval(t);
          socket.end();
        }
      }, 80);
    });
    await until(() => front.results.length === 1, 3000, 'the pipe to end');
    await front.close();
    expect(text).toBe('012345');
    expect(front.results[0].ok && (front.results[0] as PipeDone).endedBy).not.toBe('timeout');
  });

  it('a refused backend is a failure before anything reached the client', async () => {
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${await closedPort()}";`);
    const front = await rawFront(be, 5);
    const text = await converse(front.port, (socket) => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await front.close();
    expect(text).toMatch(/^HTTP\/1\.1 503 /);
    const r = front.results[0];
    expect(r.ok ? 'ok' : r.kind).toBe('refused');
    expect(be.counters.fail_econnrefused).toBe(1);
  });

  it('a pipe holds one of max_connections while it runs', async () => {
    const origin = await rawOrigin(() => {});
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}"; .max_connections = 1;`);
    const front = await rawFront(be, 0.3);
    const done = converse(front.port, (socket) => socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    await until(() => be.counters.conn === 1, 3000, 'the pipe connection');
    const busy = await be.fetch({ method: 'GET', url: '/', headers: [] });
    expect(busy.ok ? 'ok' : busy.kind).toBe('busy');
    await done;
    await until(() => front.results.length === 1, 3000, 'the pipe to end');
    await front.close();
    // The slot is back: this fetch is sent (and times out on the silent origin).
    const after = await be.fetch({ method: 'GET', url: '/', headers: [] }, { firstByteTimeout: 0.05 });
    expect(after.ok ? 'ok' : after.kind).toBe('first_byte_timeout');
  });
});
