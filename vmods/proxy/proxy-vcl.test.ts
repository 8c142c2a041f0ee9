// The proxy VMOD through a running Shellac: real PROXY v2 headers with TLVs on a `,PROXY`
// listener, and what each function answers. The expected answers are varnishd 7.1's for the
// same bytes (vmod_proxy, checked with a PROXY listener and the same VCL).

import { afterAll, beforeAll, expect, it } from 'vitest';
import { Params } from '../../src/common/params.ts';
import { Shellac } from '../../src/proxy/server.ts';
import { raw } from '../../test/helpers/proxy.ts';
import { sslTlv, tlv, V4, v2, v2WithCrc } from '../../test/helpers/proxy-v2.ts';

const FUNCTIONS = ['alpn', 'authority', 'is_ssl', 'client_has_cert_sess', 'client_has_cert_conn', 'ssl_verify_result', 'ssl_version', 'client_cert_cn', 'ssl_cipher', 'cert_sign', 'cert_key'];

const VCL = `vcl 4.1;
import proxy;
backend default none;
sub vcl_recv { return (synth(200)); }
sub vcl_synth {
${FUNCTIONS.map((f) => `  set resp.http.x-${f} = proxy.${f}();`).join('\n')}
}
`;

let srv: Shellac;
let proxyPort: number;
let plainPort: number;

beforeAll(async () => {
  srv = new Shellac({ params: new Params([]), storageBytes: 1 << 20 });
  await srv.vcls.load('boot', { source: VCL });
  [{ port: proxyPort }, { port: plainPort }] = await srv.listen([
    { name: 'p', host: '127.0.0.1', port: 0, proxy: true },
    { name: 'a', host: '127.0.0.1', port: 0 },
  ]);
});

afterAll(async () => {
  await srv?.close(100);
});

const REQ = Buffer.from('GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');

/** The functions' answers, as the response headers carry them. */
async function answers(port: number, header: Buffer): Promise<Record<string, string>> {
  const r = await raw(port, Buffer.concat([header, REQ]));
  expect(r.text).toMatch(/^HTTP\/1\.1 200 /);
  const out: Record<string, string> = {};
  for (const f of FUNCTIONS) out[f] = new RegExp(`\\r\\nx-${f}: ([^\\r]*)`).exec(r.text)?.[1] ?? '(none)';
  return out;
}

const NOTHING = { alpn: '', authority: '', is_ssl: 'false', client_has_cert_sess: 'false', client_has_cert_conn: 'false', ssl_verify_result: '0', ssl_version: '', client_cert_cn: '', ssl_cipher: '', cert_sign: '', cert_key: '' };

it('reads every TLV and sub-TLV a TLS terminator sends', async () => {
  const tlvs = Buffer.concat([
    tlv(0x01, 'h2'),
    tlv(0x02, 'example.com'),
    sslTlv(0x07, 0, [tlv(0x21, 'TLSv1.3'), tlv(0x22, 'client cn'), tlv(0x23, 'TLS_AES_128_GCM_SHA256'), tlv(0x24, 'SHA256'), tlv(0x25, 'RSA2048')]),
  ]);
  expect(await answers(proxyPort, v2WithCrc(tlvs))).toEqual({
    alpn: 'h2',
    authority: 'example.com',
    is_ssl: 'true',
    client_has_cert_sess: 'true',
    client_has_cert_conn: 'true',
    ssl_verify_result: '0',
    ssl_version: 'TLSv1.3',
    client_cert_cn: 'client cn',
    ssl_cipher: 'TLS_AES_128_GCM_SHA256',
    cert_sign: 'SHA256',
    cert_key: 'RSA2048',
  });
});

it.each([
  ['an SSL TLV without the SSL flag, verify 20', sslTlv(0x00, 20, [tlv(0x21, 'TLSv1.2')]), { ssl_verify_result: '20', ssl_version: 'TLSv1.2' }],
  ['a certificate on this connection only', sslTlv(0x03, 0), { is_ssl: 'true', client_has_cert_conn: 'true' }],
  ['two ALPN TLVs: the first counts', Buffer.concat([tlv(0x01, 'first'), tlv(0x01, 'second')]), { alpn: 'first' }],
  ['a NUL in a value ends the string', tlv(0x01, 'a\0b'), { alpn: 'a' }],
  ['an SSL sub-type sent at the top level is found too', tlv(0x21, 'toplevel'), { ssl_version: 'toplevel' }],
  ['bytes past ASCII come as sent', tlv(0x02, Buffer.from('é', 'utf8')), { authority: Buffer.from('é', 'utf8').toString('latin1') }],
])('%s', async (_what, tlvs, expected) => {
  expect(await answers(proxyPort, v2(1, 0x11, V4, tlvs))).toEqual({ ...NOTHING, ...expected });
});

it.each([
  ['a v2 LOCAL header (its TLVs are not read)', v2(0, 0x11, V4, tlv(0x01, 'h2'))],
  ['a v1 header', Buffer.from('PROXY TCP4 192.0.2.1 198.51.100.2 1 2\r\n')],
])('nothing from %s', async (_what, header) => {
  expect(await answers(proxyPort, header)).toEqual(NOTHING);
});

it('nothing on a listener without PROXY', async () => {
  expect(await answers(plainPort, Buffer.alloc(0))).toEqual(NOTHING);
});

it('may not be called from vcl_backend_fetch (client only, as in Varnish)', async () => {
  const bad = VCL.replace('sub vcl_recv', 'sub vcl_backend_fetch { set bereq.http.x = proxy.alpn(); }\nsub vcl_recv');
  await expect(srv.vcls.load('backend-side', { source: bad })).rejects.toThrow(/proxy\.alpn|not allowed|restricted|client/i);
});
