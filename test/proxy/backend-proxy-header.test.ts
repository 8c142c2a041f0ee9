// Backends with .proxy_header: each connection starts with a PROXY preamble (version 1 text or
// version 2 binary) naming client.ip and server.ip, and is used for one request only.

import { type AddressInfo, connect, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { proxyPreamble } from '../../src/proxy/backend/proxy-header.ts';
import { pipe } from '../../src/proxy/pipe.ts';
import { VclHttp } from '../../src/runtime/http.ts';
import { parseIp } from '../../src/common/ip.ts';
import { backendFrom, cleanup, rawOrigin } from './backend-helpers.ts';

afterEach(cleanup);

const v4 = { client: parseIp('192.0.2.1:5555'), server: parseIp('198.51.100.2:80') };

describe('proxy_header', () => {
  it('version 1: a text line before the request, one connection per request', async () => {
    const heads: string[] = [];
    let connections = 0;
    const origin = await rawOrigin((socket, head) => {
      heads.push(head);
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    origin.server.on('connection', () => connections++);
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}"; .proxy_header = 1;`);
    for (let i = 0; i < 2; i++) {
      const r = await be.fetch({ method: 'GET', url: `/${i}`, headers: [] }, { proxy: v4 });
      if (!r.ok) throw new Error(r.message);
      expect((await r.body.readAll()).toString()).toBe('ok');
    }
    expect(heads[0].startsWith('PROXY TCP4 192.0.2.1 198.51.100.2 5555 80\r\nGET /0 HTTP/1.1\r\n')).toBe(true);
    expect(heads[1].startsWith('PROXY TCP4 192.0.2.1 198.51.100.2 5555 80\r\nGET /1 HTTP/1.1\r\n')).toBe(true);
    expect(connections).toBe(2);
  });

  it('version 2: the binary header with IPv6 addresses', async () => {
    // The v2 signature itself holds a blank line: read until the request's, past the header.
    const heads: Buffer[] = [];
    const origin = createServer((socket) => {
      let got = Buffer.alloc(0);
      socket.on('data', (c: Buffer) => {
        got = Buffer.concat([got, c]);
        if (got.indexOf('\r\n\r\n', 16) < 0) return;
        heads.push(got);
        socket.end('HTTP/1.1 204 No Content\r\n\r\n');
      });
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
    const port = (origin.address() as AddressInfo).port;
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${port}"; .proxy_header = 2;`);
    const proxy = { client: parseIp('[2001:db8::1]:1234'), server: parseIp('[2001:db8::2]:443') };
    const r = await be.fetch({ method: 'GET', url: '/', headers: [] }, { proxy });
    expect(r.ok && r.status).toBe(204);
    const h = heads[0];
    expect(h.subarray(0, 12)).toEqual(Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1'));
    expect([...h.subarray(12, 16)]).toEqual([0x21, 0x21, 0x00, 36]);
    expect(h.subarray(16, 32)).toEqual(Buffer.from(proxy.client!.bytes));
    expect(h.subarray(32, 48)).toEqual(Buffer.from(proxy.server!.bytes));
    expect(h.readUInt16BE(48)).toBe(1234);
    expect(h.readUInt16BE(50)).toBe(443);
    expect(h.subarray(52).toString('latin1').startsWith('GET / HTTP/1.1\r\n')).toBe(true);
    origin.close();
  });

  it('without addresses: UNKNOWN (version 1) and LOCAL (version 2)', () => {
    expect(proxyPreamble(1, undefined).toString('latin1')).toBe('PROXY UNKNOWN\r\n');
    expect([...proxyPreamble(2, { client: v4.client, server: null }).subarray(12)]).toEqual([0x20, 0x00, 0x00, 0x00]);
  });

  it('a pipe to such a backend starts with the preamble too', async () => {
    const heads: string[] = [];
    const origin = await rawOrigin((socket, head) => {
      heads.push(head);
      socket.end('HTTP/1.1 200 OK\r\n\r\n');
    });
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}"; .proxy_header = 1;`);
    const front = createServer({ allowHalfOpen: true }, (socket) => {
      void pipe({ client: socket, backend: be, bereq: VclHttp.request('GET', '/p'), timeout: 5, proxy: v4 });
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const text = await new Promise<string>((resolve) => {
      const s = connect((front.address() as AddressInfo).port, '127.0.0.1');
      let got = '';
      s.on('data', (c: Buffer) => {
        got += c.toString('latin1');
      });
      s.on('close', () => resolve(got));
    });
    front.close();
    expect(text).toBe('HTTP/1.1 200 OK\r\n\r\n');
    expect(heads[0]).toBe('PROXY TCP4 192.0.2.1 198.51.100.2 5555 80\r\nGET /p HTTP/1.1\r\n\r\n');
  });
});
