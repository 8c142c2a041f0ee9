// The framing table (test/http1/cases.ts) end to end: raw bytes to a real Shellac that passes
// every request to an origin recording the exact bytes it gets. Each case asserts the status,
// whether the connection closed, what the origin received (nothing for a refused request, no
// complete request for a body that broke), and that the process goes on serving.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, type ProxyHandle, startProxy, stat } from '../helpers/proxy.ts';
import { type RawOrigin, startRawOrigin } from '../helpers/raw-origin.ts';
import { CASES } from './cases.ts';
import { ambiguous, runCase } from './run-case.ts';

let origin: RawOrigin;
let proxy: ProxyHandle;

beforeAll(async () => {
  origin = await startRawOrigin();
  proxy = await startProxy('vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "ORIGIN_PORT"; }\nsub vcl_recv { return (pass); }\n', { origin: origin as never });
});

afterAll(async () => {
  await proxy?.close();
  await origin?.close();
});

describe('request framing, case by case as varnishd 7.1 answers', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const refusedBefore = stat(proxy, 'client_req_400') + stat(proxy, 'client_req_417');
    expect(await runCase(proxy.port, origin, c)).toEqual([]);
    if (c.origin === 'nothing' && c.status !== null) expect(stat(proxy, 'client_req_400') + stat(proxy, 'client_req_417')).toBe(refusedBefore + 1);
    // The process is alive and serves a new connection.
    expect((await get(proxy.port, '/alive')).status).toBe(200);
  });

  it('never let a request with two framings, or a wrong length, reach the origin', () => {
    expect(origin.requests.length).toBeGreaterThan(50);
    for (const r of origin.requests) expect(ambiguous(r), r.raw).toBeNull();
    // No smuggled request ever got through.
    expect(origin.requests.filter((r) => r.url === '/smuggled')).toEqual([]);
  });
});
