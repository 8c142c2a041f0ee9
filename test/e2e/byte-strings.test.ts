// VCL strings are byte strings (Varnish's r00545): a literal with characters beyond ASCII reaches
// the wire as the VCL source's UTF-8 bytes, in a header and in a synthetic body; a regex literal
// matches those bytes in a request header; lower()/upper() change ASCII letters only.

import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProxyHandle, raw, startProxy } from '../helpers/proxy.ts';

const VCL = `vcl 4.1;
backend be none;
sub vcl_recv {
  if (req.http.x-in ~ "^ø") { return (synth(200, "matched")); }
  return (synth(200));
}
sub vcl_synth {
  set resp.http.foo = "æøå";
  set resp.http.low = "ÆbC".lower();
  set resp.body = "æøå body";
  return (deliver);
}
`;

/** The raw bytes of a response to `headers`. */
function fetchBytes(port: number, headers: Record<string, string> = {}): Promise<{ head: Buffer; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1', path: '/', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ head: Buffer.from(res.rawHeaders.join('\n'), 'latin1'), body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

let proxy: ProxyHandle;
beforeAll(async () => {
  proxy = await startProxy(VCL);
});
afterAll(async () => {
  await proxy?.close();
});

describe('VCL strings are byte strings', () => {
  it('writes a literal as the UTF-8 bytes of the source, in headers and bodies', async () => {
    const r = await fetchBytes(proxy.port);
    expect(r.head.includes(Buffer.from('foo\næøå'))).toBe(true);
    expect(r.head.includes(Buffer.from('low\nÆbc'))).toBe(true);
    expect(r.body.equals(Buffer.from('æøå body'))).toBe(true);
  });

  it('matches a regex literal against the bytes of a request header', async () => {
    const bytes = Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nX-In: '), Buffer.from('øl'), Buffer.from('\r\nConnection: close\r\n\r\n')]);
    const r = await raw(proxy.port, bytes);
    expect(r.text).toMatch(/^HTTP\/1\.1 200 matched\r\n/);
  });
});
