// http_resp_hdr_len and http_resp_size on backend responses (issue 11; Varnish's c00040): a
// header line or a response head over the limit fails the fetch (503), one at the limit passes.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Origin, type ProxyHandle, get, startOrigin, startProxy, BACKEND } from '../helpers/proxy.ts';

let origin: Origin;
let proxy: ProxyHandle;
beforeAll(async () => {
  origin = await startOrigin((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    // A header line `x-pad: <n - 7 bytes>` is n bytes as Varnish counts it (name, colon, blank, value).
    const line = Number(u.searchParams.get('line') ?? 0);
    if (line > 0) res.setHeader('x-pad', 'v'.repeat(line - 7));
    const many = Number(u.searchParams.get('many') ?? 0);
    for (let i = 0; i < many; i++) res.setHeader(`x-h${String(i).padStart(3, '0')}`, 'v'.repeat(30));
    res.end('ok');
  });
  proxy = await startProxy(`${BACKEND.replace('ORIGIN_PORT', String(origin.port))}sub vcl_recv { return (pass); }\n`, {
    params: [
      ['http_resp_hdr_len', '64'],
      ['http_resp_size', '1k'],
    ],
  });
});
afterAll(async () => {
  await proxy?.close();
  await origin?.close();
});

describe('backend response head limits', () => {
  it('passes a header line at http_resp_hdr_len and fails the fetch one byte over', async () => {
    expect((await get(proxy.port, '/?line=64')).status).toBe(200);
    expect((await get(proxy.port, '/?line=65')).status).toBe(503);
  });

  it('fails the fetch when the whole head is over http_resp_size', async () => {
    // 20 lines of 36 bytes with their CRLF: 760 bytes, plus node's own headers: under 1k.
    expect((await get(proxy.port, '/?many=20')).status).toBe(200);
    // 30 lines: 1140 bytes.
    expect((await get(proxy.port, '/?many=30')).status).toBe(503);
    // The next request is served: the refused response's connection was not reused half-read.
    expect((await get(proxy.port, '/?line=10')).status).toBe(200);
  });
});
