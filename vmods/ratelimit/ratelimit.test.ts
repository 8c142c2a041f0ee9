// The ratelimit VMOD through a real `shellac serve`: traffic over loopback is limited per key,
// its counters show in `shellac stat` and /metrics, its parameter is set with -p and param.set
// (and bad values refused as core parameters are), and its admin commands list and reset the
// buckets, with -j, and only after authentication.

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, type Origin, startOrigin } from '../../test/helpers/proxy.ts';
import { adm, type Served, serve, shellac, tempDir, writeIn } from '../../test/ops/helpers.ts';

let origin: Origin;
let s: Served;

const VCL = (port: number) => `vcl 4.1;
import ratelimit;
backend api { .host = "127.0.0.1"; .port = "${port}"; }
sub vcl_init {
  new per_client = ratelimit.bucket(rate = 0.001);
}
sub vcl_recv {
  if (!per_client.allow(req.http.x-key)) {
    return (synth(429, "Too Many Requests"));
  }
  return (pass);
}
`;

beforeAll(async () => {
  origin = await startOrigin((_req, res) => res.end('ok'));
  const dir = tempDir();
  const vcl = writeIn(dir, 'main.vcl', VCL(origin.port));
  s = await serve(['-f', vcl, '-p', 'ratelimit.burst=3', '-p', 'metrics_listen=127.0.0.1:0']);
}, 30_000);
afterAll(async () => {
  expect(await s.stop()).toBe(0);
  await origin.close();
});

async function statOf(glob: string): Promise<Map<string, number>> {
  const r = await shellac(['stat', '-1', '-T', `127.0.0.1:${s.adminPort}`, '-S', s.secretFile, '-f', glob]);
  expect(r.code).toBe(0);
  return new Map(r.stdout.split('\n').filter(Boolean).map((l) => [l.split(/\s+/)[0], Number(l.split(/\s+/)[1])]));
}

describe('ratelimit in a running server', () => {
  it('allows the burst given with -p, then denies, per key', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(s.port, '/', { headers: { 'x-key': 'alice' } })).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect((await get(s.port, '/', { headers: { 'x-key': 'bob' } })).status).toBe(200);
  });

  it('shows its counters in shellac stat and /metrics', async () => {
    const c = await statOf('RATELIMIT.*');
    expect(c.get('RATELIMIT.allowed')).toBe(4);
    expect(c.get('RATELIMIT.denied')).toBe(2);
    expect(c.get('RATELIMIT.keys')).toBe(2);
    // The family names are the exporter's to choose (a VMOD prefix, a _total suffix): only the
    // module and counter names and the values are this VMOD's.
    const metrics = await get(s.metricsPort!, '/metrics');
    expect(metrics.body).toMatch(/^# TYPE shellac_\w*ratelimit_denied\w* counter$/m);
    expect(metrics.body).toMatch(/^shellac_\w*ratelimit_denied\w*\{vmod="ratelimit"\} 2$/m);
    expect(metrics.body).toMatch(/^shellac_\w*ratelimit_keys\w*\{vmod="ratelimit"\} 2$/m);
  });

  it('lists its parameters with their docs and refuses bad values as core parameters do', async () => {
    const show = await adm(s, 'param.show', 'ratelimit.burst');
    expect(show.stdout).toContain('Value is: 3');
    expect(show.stdout).toContain('Default is: 10');
    expect(show.stdout).toContain('The burst of buckets made with `burst = 0`');
    const bad = await adm(s, 'param.set', 'ratelimit.burst', '0');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('Must be at least 1');
    expect(bad.stdout).toContain("(attempting to set param 'ratelimit.burst' to '0')");
    const word = await adm(s, 'param.set', 'ratelimit.idle_after', 'soon');
    expect(word.stdout).toContain('Invalid number (soon)');
    expect((await adm(s, 'param.set', 'ratelimit.burst', '5')).code).toBe(0);
    // A new key gets the new burst: five allowed, the sixth denied.
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(s.port, '/', { headers: { 'x-key': 'carol' } })).status);
    expect(statuses.filter((x) => x === 200)).toHaveLength(5);
    expect(statuses[5]).toBe(429);
  });

  it('lists and resets buckets through its admin commands, in text and JSON', async () => {
    const help = await adm(s, 'help', 'ratelimit.reset');
    expect(help.stdout).toContain('ratelimit.reset <bucket> [<key>]');
    expect(help.stdout).toContain('Refills one key');
    const list = await adm(s, 'ratelimit.list', '-j');
    expect(list.code).toBe(0);
    const rows = JSON.parse(list.stdout).slice(3);
    expect(rows[0].bucket).toBe('per_client');
    expect(Object.keys(rows[0].keys).sort()).toEqual(['alice', 'bob', 'carol']);
    expect(rows[0].keys.alice).toBeLessThan(1);
    const reset = await adm(s, 'ratelimit.reset', 'per_client', 'alice');
    expect(reset.stdout).toContain('1 key reset');
    expect((await get(s.port, '/', { headers: { 'x-key': 'alice' } })).status).toBe(200);
    const unknown = await adm(s, 'ratelimit.reset', 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain("no bucket 'nope'");
  });

  it('serves its commands only after authentication', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect(s.adminPort, '127.0.0.1');
      let text = '';
      sock.on('data', (b) => {
        text += b.toString();
        if (text.includes('Authentication required.') && !text.includes('ratelimit.list\n')) sock.write('ratelimit.list\n');
      });
      sock.on('close', () => resolve(text));
      sock.on('error', reject);
    });
    expect(answer).toMatch(/^101 /m);
    expect(answer).not.toContain('per_client');
  });
});
