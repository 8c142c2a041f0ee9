// Every way a backend can fail a fetch, against real loopback servers that misbehave on
// purpose: refused, connect timeout, first byte timeout, between bytes timeout, reset before
// and during the body, garbage, headers too big. Each ends as a typed value or a typed body
// error, never as an exception out of fetch().

import { afterEach, describe, expect, it } from 'vitest';
import { newBackendGlobalCounters } from '../../src/proxy/backend/counters.ts';
import { BackendBodyError, type FetchResult } from '../../src/proxy/backend/backend.ts';
import { backendFrom, blackholePort, cleanup, closedPort, httpOrigin, rawOrigin, sleep } from './backend-helpers.ts';

afterEach(cleanup);

function kindOf(r: FetchResult): string {
  return r.ok ? `ok ${r.status}` : r.kind;
}

async function bodyError(r: FetchResult): Promise<BackendBodyError> {
  if (!r.ok) throw new Error(`expected a response, got ${r.kind}`);
  try {
    await r.body.readAll();
  } catch (err) {
    if (err instanceof BackendBodyError) return err;
    throw err;
  }
  throw new Error('the body ended without an error');
}

describe('connecting', () => {
  it('a refused connection is a failure value and a counted connect failure', async () => {
    const port = await closedPort();
    const global = newBackendGlobalCounters();
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${port}";`, { globalCounters: global, defaults: { remoteErrorHolddown: 0 } });
    const r = await be.fetch({ method: 'GET', url: '/', headers: [] });
    expect(kindOf(r)).toBe('refused');
    if (!r.ok) {
      expect(r.message).toMatch(/backend test\.b: connection refused/);
      expect(r.code).toBe('ECONNREFUSED');
    }
    expect(be.counters.fail).toBe(1);
    expect(be.counters.fail_econnrefused).toBe(1);
    expect(global.backend_fail).toBe(1);
    expect(global.backend_conn).toBe(0);
    // The backend stays usable: the next fetch fails the same way, it does not hang.
    expect(kindOf(await be.fetch({ method: 'GET', url: '/', headers: [] }))).toBe('refused');
  });

  it('holds new connections down after a refused one (backend_remote_error_holddown), then tries again', async () => {
    const port = await closedPort();
    const global = newBackendGlobalCounters();
    const live = { remoteErrorHolddown: 60 };
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${port}";`, { globalCounters: global, defaults: live });
    const fetch = () => be.fetch({ method: 'GET', url: '/', headers: [] });
    expect(kindOf(await fetch())).toBe('refused');
    const held = await fetch();
    expect(kindOf(held)).toBe('connect_error');
    if (!held.ok) expect(held.code).toBe('EHOLDDOWN');
    expect(kindOf(await fetch())).toBe('connect_error');
    expect(be.counters.fail_econnrefused).toBe(1);
    expect(be.counters.helddown).toBe(2);
    expect(be.counters.fail).toBe(3);
    expect(global.backend_fail).toBe(3);
    // The holddown is read at each failure: a short one ends, and the next fetch connects again.
    live.remoteErrorHolddown = 0.05;
    const other = await backendFrom(`.host = "127.0.0.1"; .port = "${port}";`, { defaults: live });
    expect(kindOf(await other.fetch({ method: 'GET', url: '/', headers: [] }))).toBe('refused');
    await sleep(80);
    expect(kindOf(await other.fetch({ method: 'GET', url: '/', headers: [] }))).toBe('refused');
    expect(other.counters.fail_econnrefused).toBe(2);
    expect(other.counters.helddown).toBe(0);
  });

  it('a missing Unix socket is a connect error', async () => {
    const be = await backendFrom('.path = "/nonexistent/shellac.sock";');
    expect(kindOf(await be.fetch({ method: 'GET', url: '/', headers: [] }))).toBe('connect_error');
    expect(be.counters.fail_other).toBe(1);
  });

  it('connect_timeout from the backend bounds a connection that never completes', async () => {
    const port = await blackholePort();
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${port}"; .connect_timeout = 300ms;`);
    const start = Date.now();
    const r = await be.fetch({ method: 'GET', url: '/', headers: [] });
    const took = Date.now() - start;
    expect(kindOf(r)).toBe('connect_timeout');
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2500);
    expect(be.counters.fail_etimedout).toBe(1);
  });

  it('connect_timeout comes from the defaults when the backend has none', async () => {
    const port = await blackholePort();
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${port}";`, { defaults: { connectTimeout: 0.2 } });
    expect(be.connectTimeout).toBe(0.2);
    expect(kindOf(await be.fetch({ method: 'GET', url: '/', headers: [] }))).toBe('connect_timeout');
  });
});

describe('waiting for the response', () => {
  it('first_byte_timeout: headers that never come', async () => {
    const origin = await rawOrigin(() => {});
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}"; .first_byte_timeout = 200ms;`);
    const start = Date.now();
    const r = await be.fetch({ method: 'GET', url: '/', headers: [] });
    expect(kindOf(r)).toBe('first_byte_timeout');
    expect(Date.now() - start).toBeGreaterThanOrEqual(190);
    expect(Date.now() - start).toBeLessThan(800);
  });

  it('a per-fetch first byte timeout overrides the backend and the defaults', async () => {
    const origin = await rawOrigin((socket) => {
      setTimeout(() => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'), 400);
    });
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}"; .first_byte_timeout = 5s;`, {
      defaults: { firstByteTimeout: 10 },
    });
    expect(be.firstByteTimeout).toBe(5);
    expect(kindOf(await be.fetch({ method: 'GET', url: '/', headers: [] }, { firstByteTimeout: 0.1 }))).toBe('first_byte_timeout');
    // Within its timeout the same slow origin answers.
    const r = await be.fetch({ method: 'GET', url: '/', headers: [] }, { firstByteTimeout: 2 });
    expect(kindOf(r)).toBe('ok 200');
  });

  it('between_bytes_timeout: a body that stalls after its first bytes', async () => {
    const origin = await rawOrigin((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nfirst bytes');
    });
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}"; .between_bytes_timeout = 200ms;`);
    const r = await be.fetch({ method: 'GET', url: '/', headers: [] });
    expect(kindOf(r)).toBe('ok 200');
    const start = Date.now();
    const err = await bodyError(r);
    expect(Date.now() - start).toBeLessThan(800);
    expect(err.kind).toBe('between_bytes_timeout');
    expect(err.message).toMatch(/backend test\.b: between bytes timeout/);
  });

  it('a body trickling faster than between_bytes_timeout is not cut', async () => {
    const origin = await rawOrigin((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
      let n = 0;
      const t = setInterval(() => {
        socket.write('x');
        if (++n === 5) clearInterval(t);
      }, 60);
    });
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}"; .between_bytes_timeout = 200ms;`);
    const r = await be.fetch({ method: 'GET', url: '/', headers: [] });
    if (!r.ok) throw new Error(r.message);
    expect((await r.body.readAll()).toString()).toBe('xxxxx');
  });

  it('a reader slower than between_bytes_timeout is not the backend stalling', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 'z');
    const origin = await httpOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Length': String(big.length) });
      res.end(big);
    });
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}"; .between_bytes_timeout = 150ms;`);
    const r = await be.fetch({ method: 'GET', url: '/', headers: [] });
    if (!r.ok) throw new Error(r.message);
    let got = 0;
    let pauses = 0;
    for await (const chunk of r.body) {
      got += chunk.length;
      if (pauses < 2) {
        pauses++;
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
    }
    expect(got).toBe(big.length);
  });
});

describe('broken responses', () => {
  it('a connection closed before any response is a reset', async () => {
    const origin = await rawOrigin((socket) => socket.destroy());
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    expect(kindOf(await be.fetch({ method: 'GET', url: '/', headers: [] }))).toBe('reset');
  });

  it('a connection reset in the middle of the body fails the body, not the head', async () => {
    const origin = await rawOrigin((socket) => {
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nsome of it');
      setTimeout(() => socket.resetAndDestroy(), 50);
    });
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const r = await be.fetch({ method: 'GET', url: '/', headers: [] });
    expect(kindOf(r)).toBe('ok 200');
    expect((await bodyError(r)).kind).toBe('reset');
  });

  it('a chunked body cut short by a close is a reset', async () => {
    const origin = await rawOrigin((socket) => {
      socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
    });
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    expect((await bodyError(await be.fetch({ method: 'GET', url: '/', headers: [] }))).kind).toBe('reset');
  });

  it('garbage instead of HTTP', async () => {
    const origin = await rawOrigin((socket) => socket.end('this is not HTTP at all\r\n\r\n'));
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const r = await be.fetch({ method: 'GET', url: '/', headers: [] });
    expect(kindOf(r)).toBe('garbage');
  });

  it('a response head bigger than http_resp_size', async () => {
    const origin = await rawOrigin((socket) => socket.end(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(5000)}\r\nContent-Length: 0\r\n\r\n`));
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`, { defaults: { maxHeaderSize: 2048 } });
    expect(kindOf(await be.fetch({ method: 'GET', url: '/', headers: [] }))).toBe('garbage');
  });

  it('a request body stream that fails is a failure value', async () => {
    const origin = await httpOrigin((_req, res) => res.end('ok'));
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}";`);
    const { Readable } = await import('node:stream');
    const body = new Readable({
      read() {
        this.destroy(new Error('client went away'));
      },
    });
    const r = await be.fetch({ method: 'POST', url: '/', headers: [['Content-Length', '10']], body });
    expect(r.ok).toBe(false);
    // The slot was given back: another fetch works.
    const again = await be.fetch({ method: 'GET', url: '/', headers: [] });
    expect(kindOf(again)).toBe('ok 200');
  });
});
