// A cache hit (and a miss whose object came whole) is written from the object's stored header
// block (src/cache/header-block.ts) when nothing read resp, from its stored head
// (src/proxy/stored-head.ts) when vcl_deliver left the stored lines alone, and by the general
// writer otherwise. Either way the bytes must be the ones the general writer gives: each case
// compares a GET with a HEAD of the same object (the general writer's head: a response without
// a body never takes the stored writers) followed by the body, X-Varnish and Age aside.

import { type AddressInfo, connect, createServer } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { type Origin, type ProxyHandle, startOrigin, startProxy } from '../helpers/proxy.ts';

let origin: Origin | undefined;
let proxy: ProxyHandle | undefined;
afterEach(async () => {
  await proxy?.close();
  await origin?.close();
  proxy = origin = undefined;
});

const BACKEND = 'vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "ORIGIN_PORT"; }\n';

async function setup(deliver: string, body = 'hello', withDate = true): Promise<void> {
  origin = await startOrigin((_req, res) => {
    // Names in odd cases, a repeated name, an Age and an X-Varnish the proxy replaces, a
    // Content-Length it writes itself; a Date, or none (then the deliver step adds one).
    res.sendDate = false;
    res.writeHead(200, 'Fine', [
      ...(withDate ? [['date', 'Mon, 07 Dec 2026 10:00:00 GMT']] : []),
      ['Content-TYPE', 'text/plain'],
      ['cache-control', 'max-age=600'],
      ['X-Multi', 'one'],
      ['Age', '5'],
      ['X-Varnish', 'from-the-origin'],
      ['x-multi', 'two'],
      ['Content-Length', String(Buffer.byteLength(body))],
    ].flat());
    res.end(body);
  });
  proxy = await startProxy(`${BACKEND}sub vcl_deliver {\n${deliver}\n}\n`, { origin });
}

/**
 * One response's bytes, read to the end of its body (Content-Length, or until the text ends
 * with `end`), on a new connection.
 */
function fetchRaw(port: number, request: string, end?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => sock.write(request));
    let text = '';
    sock.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const headEnd = text.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const cl = /\r\nContent-Length: (\d+)\r\n/i.exec(text.slice(0, headEnd + 2));
      if (end !== undefined ? text.endsWith(end) : cl === null || text.length >= headEnd + 4 + Number(cl[1])) {
        sock.destroy();
        resolve(text);
      }
    });
    sock.on('error', reject);
    setTimeout(() => reject(new Error(`no whole response: ${JSON.stringify(text.slice(0, 300))}`)), 5000).unref();
  });
}

const GET = 'GET /x HTTP/1.1\r\nHost: h\r\n\r\n';

/** What the general writer gives for a GET of the cached object: a HEAD's head, then `body`. */
async function general(port: number, body: string): Promise<string> {
  const head = await fetchRaw(port, 'HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n', '\r\n\r\n');
  return head + body;
}
const normal = (text: string): string => text.replace(/\r\nX-Varnish: [^\r]*/, '\r\nX-Varnish: *').replace(/\r\nAge: \d+/, '\r\nAge: *');

it.each([
  ['the builtin vcl_deliver', ''],
  ['lines added in vcl_deliver', 'set resp.http.X-Cache = "HIT?"; set resp.http.x-other = "1";'],
  ['a stored line removed', 'unset resp.http.X-Multi;'],
  ['a stored line set again', 'set resp.http.Cache-Control = "private";'],
  ['a stored line set to its own value', 'set resp.http.content-type = resp.http.content-type;'],
  ['the reason changed', 'set resp.reason = "Other";'],
  ['the status changed', 'set resp.status = 203;'],
  ['Accept-Ranges set by VCL', 'set resp.http.Accept-Ranges = "none";'],
  ['Connection: close asked by VCL', 'set resp.http.Connection = "close";'],
])('a hit is written as the miss was, with %s', async (_what, deliver) => {
  await setup(deliver);
  const miss = await fetchRaw(proxy!.port, GET);
  const hit = await fetchRaw(proxy!.port, GET);
  expect(hit).toMatch(/\r\nX-Varnish: \d+ \d+\r\n/);
  expect(miss).toMatch(/\r\nX-Varnish: \d+\r\n/);
  const expected = normal(await general(proxy!.port, 'hello'));
  expect(normal(hit)).toBe(expected);
  expect(normal(miss)).toBe(expected);
});

it('writes the stored lines in their order, then what delivery adds', async () => {
  await setup('set resp.http.X-Cache = "yes";');
  await fetchRaw(proxy!.port, GET);
  const hit = await fetchRaw(proxy!.port, GET);
  expect(normal(hit)).toBe(
    [
      'HTTP/1.1 200 Fine',
      'date: Mon, 07 Dec 2026 10:00:00 GMT',
      'Content-TYPE: text/plain',
      'cache-control: max-age=600',
      'X-Multi: one',
      'x-multi: two',
      'X-Varnish: *',
      'Age: *',
      `Via: ${proxy!.srv.via}`,
      'X-Cache: yes',
      'Accept-Ranges: bytes',
      'Content-Length: 5',
      'Connection: keep-alive',
      '',
      'hello',
    ].join('\r\n'),
  );
});

it('writes a hit of an object whose origin sent no Date as the miss was', async () => {
  await setup('', 'hello', false);
  const miss = await fetchRaw(proxy!.port, GET);
  const hit = await fetchRaw(proxy!.port, GET);
  // The fetch gave the object a Date of its own (as Varnish does): both carry that one.
  expect(hit).toMatch(/\r\nDate: [^\r]+ GMT\r\n/);
  expect(normal(hit)).toBe(normal(miss));
  expect(normal(hit)).toBe(normal(await general(proxy!.port, 'hello')));
});

it('a hit made of a synthetic object (vcl_backend_error) is written as the miss was', async () => {
  origin = await startOrigin((_req, res) => res.destroy());
  proxy = await startProxy(`${BACKEND}sub vcl_backend_error {\n set beresp.ttl = 60s;\n set beresp.http.X-Made = "here";\n return (deliver);\n}\n`, { origin });
  const miss = await fetchRaw(proxy!.port, GET);
  const hit = await fetchRaw(proxy!.port, GET);
  expect(hit).toMatch(/\r\nX-Varnish: \d+ \d+\r\n/);
  expect(normal(hit)).toBe(normal(miss));
  const body = hit.slice(hit.indexOf('\r\n\r\n') + 4);
  expect(normal(hit)).toBe(normal(await general(proxy!.port, body)));
});

it('closes after a hit when the client asks', async () => {
  await setup('');
  await fetchRaw(proxy!.port, GET);
  const hit = await fetchRaw(proxy!.port, 'GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
  expect(hit).toMatch(/\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello$/);
});

it('writes a body past the size joined to its head whole, after the head', async () => {
  const big = 'abcdefghij'.repeat(20_000);
  await setup('', big);
  const miss = await fetchRaw(proxy!.port, GET);
  const hit = await fetchRaw(proxy!.port, GET);
  expect(hit.endsWith(`\r\n\r\n${big}`)).toBe(true);
  expect(normal(hit)).toBe(normal(miss));
  expect(normal(hit)).toBe(normal(await general(proxy!.port, big)));
});

it('writes a hit of a body that came in pieces, each copied from where it is stored', async () => {
  origin = await startOrigin((_req, res) => {
    res.writeHead(200, { 'Cache-Control': 'max-age=600' });
    // Chunked, three pieces apart in time: the object keeps them as three pieces.
    res.write('a'.repeat(3000));
    setTimeout(() => res.write('b'.repeat(5000)), 20);
    setTimeout(() => res.end('c'.repeat(7)), 40);
  });
  proxy = await startProxy(BACKEND, { origin });
  // The miss read to its end: the object is whole before the hit.
  const miss = await fetchRaw(proxy!.port, GET, '\r\n0\r\n\r\n');
  expect(miss).toMatch(/\r\nTransfer-Encoding: chunked\r\n/);
  const hit = await fetchRaw(proxy!.port, GET);
  expect(hit.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
  expect(hit).toMatch(/\r\nContent-Length: 8007\r\nConnection: keep-alive\r\n\r\n/);
  expect(hit.endsWith(`\r\n\r\n${'a'.repeat(3000)}${'b'.repeat(5000)}ccccccc`)).toBe(true);
  expect(normal(hit)).toBe(normal(await general(proxy!.port, `${'a'.repeat(3000)}${'b'.repeat(5000)}ccccccc`)));
});

it('writes a hit of an HTTP/1.0 response with a status line of HTTP/1.1, as the miss was', async () => {
  // A raw origin: HTTP/1.0, an Age, then the connection closes.
  const server = createServer((sock) => {
    sock.once('data', () => sock.end('HTTP/1.0 200 OK\r\nCache-Control: max-age=600\r\nAge: 3\r\nContent-Length: 5\r\n\r\nhello'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const port = (server.address() as AddressInfo).port;
    proxy = await startProxy(BACKEND.replace('ORIGIN_PORT', String(port)));
    const miss = await fetchRaw(proxy!.port, GET);
    const hit = await fetchRaw(proxy!.port, GET);
    expect(hit.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    expect(hit).toMatch(/\r\nX-Varnish: \d+ \d+\r\n/);
    expect(normal(hit)).toBe(normal(miss));
    expect(normal(hit)).toBe(normal(await general(proxy!.port, 'hello')));
  } finally {
    server.close();
  }
});
