// The last line of defence (issue 10): a VMOD whose errors escape (test/fixtures/vmods/tcrash:
// a throw from a timer, a promise rejected and never awaited, a throw while the request waits
// on it) does not end the serving process. The error is counted in MAIN.uncaught_error and
// logged with the request's xid; a request still waiting is ended with a 503 and its
// connection closed; the next request is served, by the same child (no restart).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminClient } from '../../src/mgmt/admin-client.ts';
import { get, type Origin, raw, startOrigin } from '../helpers/proxy.ts';
import { FIXTURE_VMODS, okBody, type Served, serve, tempDir, until, writeIn } from './helpers.ts';

let origin: Origin;
let s: Served;
let c: AdminClient;
beforeAll(async () => {
  origin = await startOrigin((req, res) => res.end(`body of ${req.url}`));
  const vcl = `vcl 4.1;
import tcrash;
backend default { .host = "127.0.0.1"; .port = "${origin.port}"; }
sub vcl_recv {
  # Answered at once, so that the error comes after the request is over.
  if (req.url == "/timer") { set req.http.x-r = tcrash.throw_later(300ms); return (synth(200)); }
  if (req.url == "/stray") { set req.http.x-r = tcrash.stray_rejection(); return (synth(200)); }
  if (req.url == "/hang") { set req.http.x-r = tcrash.hang_then_throw(100ms); }
  return (pass);
}
sub vcl_synth { set resp.http.x-r = req.http.x-r; }
`;
  s = await serve(['-f', writeIn(tempDir(), 'crash.vcl', vcl), '-M', FIXTURE_VMODS]);
  c = await s.admin();
});
afterAll(async () => {
  c?.close();
  expect(await s.stop()).toBe(0);
  await origin.close();
});

async function counter(name: string): Promise<number> {
  const m = new RegExp(`^${name.replace('.', '\\.')}\\s+(\\d+)`, 'm').exec(await okBody(c, ['counters.show', name]));
  return Number(m?.[1]);
}

describe('errors that escape a VMOD', () => {
  it('a throw from a timer is caught, counted and logged; the next request is served', async () => {
    const r = await get(s.port, '/timer');
    expect(r.status).toBe(200);
    expect(r.headers['x-r']).toBe('armed');
    expect(await until(async () => (await counter('MAIN.uncaught_error')) === 1, 10_000)).toBe(true);
    // The log line passes through the manager's stderr: it may come a moment after the count.
    expect(await until(() => /uncaught exception caught, request \d+ \(already over\); serving on/.test(s.stderr()), 10_000)).toBe(true);
    expect(s.stderr()).toContain('tcrash: thrown from a timer');
    expect((await get(s.port, '/next')).body).toBe('body of /next');
  });

  it('a stray promise rejection is caught, counted and logged with the xid', async () => {
    const r = await get(s.port, '/stray');
    expect(r.headers['x-r']).toBe('strayed');
    expect(await until(async () => (await counter('MAIN.uncaught_error')) === 2, 10_000)).toBe(true);
    expect(await until(() => /"xid":\d+[^\n]*unhandled rejection caught, request \d+ \(already over\)/.test(s.stderr()), 10_000)).toBe(true);
    expect((await get(s.port, '/next')).body).toBe('body of /next');
  });

  it('a throw while the request waits ends that request with a 503 and closes its connection', async () => {
    const r = await raw(s.port, 'GET /hang HTTP/1.1\r\nHost: x\r\n\r\n', 10_000);
    expect(r.text).toMatch(/^HTTP\/1\.1 503 /);
    expect(r.closed).toBe(true);
    expect(await counter('MAIN.uncaught_error')).toBe(3);
    expect(await until(() => /uncaught exception caught, request \d+ ended; serving on/.test(s.stderr()), 10_000)).toBe(true);
    expect((await get(s.port, '/next')).body).toBe('body of /next');
  });

  it('kept the same child: nothing was restarted', async () => {
    expect(await counter('MGT.child_start')).toBe(1);
    expect(await counter('MGT.child_died')).toBe(0);
    expect(await counter('MGT.child_stop')).toBe(0);
  });
});

describe('errors that escape a VMOD, on a VCL without async VMOD calls', () => {
  // Such a request enters its async context at its first await only (a hit pays nothing):
  // a timer started before it is caught without an xid, one started after it with the xid.
  let s2: Served;
  let c2: AdminClient;
  beforeAll(async () => {
    const vcl = `vcl 4.1;
import tcrash;
backend default { .host = "127.0.0.1"; .port = "${origin.port}"; }
sub vcl_recv {
  if (req.url == "/early") { set req.http.x-r = tcrash.throw_later(200ms); return (synth(200)); }
  return (pass);
}
sub vcl_deliver { if (req.url == "/late") { set resp.http.x-r = tcrash.throw_later(300ms); } }
`;
    s2 = await serve(['-f', writeIn(tempDir(), 'sync.vcl', vcl), '-M', FIXTURE_VMODS]);
    c2 = await s2.admin();
  });
  afterAll(async () => {
    c2?.close();
    expect(await s2.stop()).toBe(0);
  });

  it('catches both, with the xid when the timer started after the first await', async () => {
    expect((await get(s2.port, '/early')).status).toBe(200);
    expect(await until(() => /uncaught exception caught, outside any request/.test(s2.stderr()), 10_000)).toBe(true);
    expect((await get(s2.port, '/late')).headers['x-r']).toBe('armed');
    expect(await until(() => /"xid":\d+[^\n]*uncaught exception caught, request \d+ \(already over\)/.test(s2.stderr()), 10_000)).toBe(true);
    const stat = await okBody(c2, ['counters.show', 'MAIN.uncaught_error', 'MGT.child_start']);
    expect(stat).toMatch(/MAIN\.uncaught_error\s+2\s/);
    expect(stat).toMatch(/MGT\.child_start\s+1\s/);
    expect((await get(s2.port, '/next')).body).toBe('body of /next');
  });
});
