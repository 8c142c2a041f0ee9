// PROXY protocol listeners (`-a host:port,PROXY`): v1 and v2 headers give client.ip and
// server.ip, the socket gives remote.ip and local.ip; a malformed header closes the connection
// without an answer and nothing is read as a request.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { Params } from '../../src/common/params.ts';
import { Shellac } from '../../src/proxy/server.ts';
import { raw } from '../helpers/proxy.ts';
import { sslTlv, tlv, V4, v2, v2WithCrc } from '../helpers/proxy-v2.ts';

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


it.each([
  ['v1 TCP4', Buffer.from(`PROXY TCP4 192.0.2.1 198.51.100.2 5678 80\r\n${REQ}`), '192.0.2.1', '198.51.100.2'],
  ['v1 TCP6', Buffer.from(`PROXY TCP6 2001:db8::1 2001:db8::2 5678 443\r\n${REQ}`), '2001:db8::1', '2001:db8::2'],
  ['v1 UNKNOWN', Buffer.from(`PROXY UNKNOWN\r\n${REQ}`), '127.0.0.1', '127.0.0.1'],
  ['v2 PROXY TCP4', Buffer.concat([v2(1, 0x11, V4), Buffer.from(REQ)]), '192.0.2.1', '198.51.100.2'],
  ['v2 PROXY TCP4 with an authority TLV', Buffer.concat([v2(1, 0x11, V4, Buffer.from([0x02, 0, 3, 0x61, 0x2e, 0x62])), Buffer.from(REQ)]), '192.0.2.1', '198.51.100.2'],
  ['v2 LOCAL', Buffer.concat([v2(0, 0x00, Buffer.alloc(0)), Buffer.from(REQ)]), '127.0.0.1', '127.0.0.1'],
  // The cases below were checked against varnishd 7.1 with the same bytes.
  ['v2 with a right CRC32C', Buffer.concat([v2WithCrc(tlv(0x01, 'h2')), Buffer.from(REQ)]), '192.0.2.1', '198.51.100.2'],
  ['v2 with an SSL TLV and sub-TLVs', Buffer.concat([v2(1, 0x11, V4, sslTlv(7, 0, [tlv(0x21, 'TLSv1.3')])), Buffer.from(REQ)]), '192.0.2.1', '198.51.100.2'],
  // varnishd takes these and keeps the socket's addresses, TLVs unread.
  ['v2 LOCAL with a wrong CRC32C', Buffer.concat([Buffer.from([...v2WithCrc(Buffer.alloc(0), true)].map((b, i) => (i === 12 ? 0x20 : b))), Buffer.from(REQ)]), '127.0.0.1', '127.0.0.1'],
  ['v2 PROXY over UDP', Buffer.concat([v2(1, 0x12, V4), Buffer.from(REQ)]), '127.0.0.1', '127.0.0.1'],
  ['v2 PROXY over a Unix socket', Buffer.concat([v2(1, 0x31, Buffer.alloc(216)), Buffer.from(REQ)]), '127.0.0.1', '127.0.0.1'],
  ['v2 PROXY with addresses cut short', Buffer.concat([v2(1, 0x11, V4.subarray(0, 8)), Buffer.from(REQ)]), '127.0.0.1', '127.0.0.1'],
  ['v2 PROXY unspecified', Buffer.concat([v2(1, 0x00, Buffer.alloc(0)), Buffer.from(REQ)]), '127.0.0.1', '127.0.0.1'],
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
  ['v2 with a TLV longer than the header', Buffer.concat([v2(1, 0x11, V4, Buffer.from([0x02, 0, 9, 0x61])), Buffer.from(REQ)])],
  ['v2 with a TLV cut short (2 bytes left)', Buffer.concat([v2(1, 0x11, V4, Buffer.from([0x02, 0])), Buffer.from(REQ)])],
  ['v2 with a wrong CRC32C', Buffer.concat([v2WithCrc(tlv(0x01, 'h2'), true), Buffer.from(REQ)])],
  ['v2 with a CRC32C TLV of 3 bytes', Buffer.concat([v2(1, 0x11, V4, tlv(0x03, Buffer.alloc(3))), Buffer.from(REQ)])],
  ['v2 with an SSL TLV shorter than 5 bytes', Buffer.concat([v2(1, 0x11, V4, tlv(0x20, Buffer.from([1, 0]))), Buffer.from(REQ)])],
  ['v2 with a broken SSL sub-TLV', Buffer.concat([v2(1, 0x11, V4, tlv(0x20, Buffer.from([1, 0, 0, 0, 0, 0x21, 0]))), Buffer.from(REQ)])],
  ['v2 with command 2', Buffer.concat([v2(2, 0x11, V4), Buffer.from(REQ)])],
])('%s: closed without an answer', async (_what, bytes) => {
  const r = await raw(port, bytes, 2000);
  expect(r.closed).toBe(true);
  expect(r.text).toBe('');
});
