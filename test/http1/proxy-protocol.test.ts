// PROXY protocol listeners (`-a host:port,PROXY`): v1 and v2 headers give client.ip and
// server.ip, the socket gives remote.ip and local.ip; a malformed header closes the connection
// without an answer and nothing is read as a request.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { Params } from '../../src/common/params.ts';
import { Shellac } from '../../src/proxy/server.ts';
import { raw } from '../helpers/proxy.ts';

const VCL = `vcl 4.1;
backend default none;
sub vcl_recv { return (synth(200)); }
sub vcl_synth {
  set resp.http.x-client = client.ip;
  set resp.http.x-server = server.ip;
  set resp.http.x-remote = remote.ip;
  set resp.http.x-local = local.ip;
  set resp.http.x-url = req.url;
  set resp.http.x-socket = local.socket;
  set resp.http.x-endpoint = local.endpoint;
}
`;

let srv: Shellac;
let port: number;

beforeAll(async () => {
  srv = new Shellac({ params: new Params([]), storageBytes: 1 << 20 });
  await srv.vcls.load('boot', { source: VCL });
  [{ port }] = await srv.listen([{ name: 'p', host: '127.0.0.1', port: 0, proxy: true }]);
});

afterAll(async () => {
  await srv?.close(100);
});

const REQ = 'GET /x HTTP/1.1\r\nHost: h\r\n\r\n';
const header = (text: string, name: string): string | undefined => new RegExp(`\\r\\n${name}: ([^\\r]*)`, 'i').exec(text)?.[1];

function v2(cmd: number, family: number, addresses: Buffer, tlvs: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');
  const fixed = Buffer.from([0x20 | cmd, family, 0, 0]);
  fixed.writeUInt16BE(addresses.length + tlvs.length, 2);
  return Buffer.concat([head, fixed, addresses, tlvs]);
}
const V4 = Buffer.from([192, 0, 2, 1, 198, 51, 100, 2, 0x16, 0x2e, 0, 80]);

it.each([
  ['v1 TCP4', Buffer.from(`PROXY TCP4 192.0.2.1 198.51.100.2 5678 80\r\n${REQ}`), '192.0.2.1', '198.51.100.2'],
  ['v1 TCP6', Buffer.from(`PROXY TCP6 2001:db8::1 2001:db8::2 5678 443\r\n${REQ}`), '2001:db8::1', '2001:db8::2'],
  ['v1 UNKNOWN', Buffer.from(`PROXY UNKNOWN\r\n${REQ}`), '127.0.0.1', '127.0.0.1'],
  ['v2 PROXY TCP4', Buffer.concat([v2(1, 0x11, V4), Buffer.from(REQ)]), '192.0.2.1', '198.51.100.2'],
  ['v2 PROXY TCP4 with an authority TLV', Buffer.concat([v2(1, 0x11, V4, Buffer.from([0x02, 0, 3, 0x61, 0x2e, 0x62])), Buffer.from(REQ)]), '192.0.2.1', '198.51.100.2'],
  ['v2 LOCAL', Buffer.concat([v2(0, 0x00, Buffer.alloc(0)), Buffer.from(REQ)]), '127.0.0.1', '127.0.0.1'],
])('%s: client.ip and server.ip from the header, remote.ip and local.ip from the socket', async (_what, bytes, client, server) => {
  const r = await raw(port, bytes, 500);
  expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
  expect(header(r.text, 'x-client')).toBe(client);
  expect(header(r.text, 'x-server')).toBe(server);
  expect(header(r.text, 'x-remote')).toBe('127.0.0.1');
  expect(header(r.text, 'x-local')).toBe('127.0.0.1');
  // The listener, as varnishd names it: its -a name and bound address.
  expect(header(r.text, 'x-socket')).toBe('p');
  expect(header(r.text, 'x-endpoint')).toBe(`127.0.0.1:${port}`);
});

it('reads the header once: the requests after it share it', async () => {
  const r = await raw(port, `PROXY TCP4 192.0.2.9 198.51.100.2 1 2\r\n${REQ}GET /y HTTP/1.1\r\nHost: h\r\n\r\n`, 500);
  expect(r.text.match(/x-client: 192\.0\.2\.9/gi)).toHaveLength(2);
  expect(header(r.text, 'x-url')).toBe('/x');
});

it.each([
  ['no header at all', Buffer.from(REQ)],
  ['a bad v1 address', Buffer.from(`PROXY TCP4 300.0.0.1 198.51.100.2 1 2\r\n${REQ}`)],
  ['a v1 family that does not match its addresses', Buffer.from(`PROXY TCP4 2001:db8::1 198.51.100.2 1 2\r\n${REQ}`)],
  ['a bad v1 port', Buffer.from(`PROXY TCP4 192.0.2.1 198.51.100.2 1 70000\r\n${REQ}`)],
  ['a v1 line past 107 bytes', Buffer.from(`PROXY TCP4 ${'1'.repeat(110)}\r\n${REQ}`)],
  ['a v1 line with a field missing', Buffer.from(`PROXY TCP4 192.0.2.1 198.51.100.2 1\r\n${REQ}`)],
  ['v2 with version 1', Buffer.concat([Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1'), Buffer.from([0x11, 0x11, 0, 12]), V4, Buffer.from(REQ)])],
  ['v2 with addresses cut short', Buffer.concat([v2(1, 0x11, V4.subarray(0, 8)), Buffer.from(REQ)])],
  ['v2 with a TLV longer than the header', Buffer.concat([v2(1, 0x11, V4, Buffer.from([0x02, 0, 9, 0x61])), Buffer.from(REQ)])],
  ['v2 over UDP', Buffer.concat([v2(1, 0x12, V4), Buffer.from(REQ)])],
])('%s: closed without an answer', async (_what, bytes) => {
  const r = await raw(port, bytes, 2000);
  expect(r.closed).toBe(true);
  expect(r.text).toBe('');
});
