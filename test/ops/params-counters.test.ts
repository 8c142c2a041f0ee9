// Parameters and counters of a running `shellac serve`, from outside: param.set and -p refuse
// bad values with clear messages through `shellac adm`, a set value takes effect on traffic,
// `shellac stat -1` shows MAIN and VBE.<vcl>.<backend> counters moving as requests flow, and
// `GET /metrics` (metrics_listen) serves the same counters in the Prometheus format.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, type Origin, startOrigin } from '../helpers/proxy.ts';
import { adm, type Served, serve, shellac, tempDir, writeIn } from './helpers.ts';

let origin: Origin;
let s: Served;
beforeAll(async () => {
  origin = await startOrigin((_req, res) => res.end('hello'));
  const dir = tempDir();
  const vcl = writeIn(dir, 'main.vcl', `vcl 4.1;\nbackend api { .host = "127.0.0.1"; .port = "${origin.port}"; }\n`);
  s = await serve(['-f', vcl, '-p', 'metrics_listen=127.0.0.1:0']);
});
afterAll(async () => {
  expect(await s.stop()).toBe(0);
  await origin.close();
});

/** `shellac stat -1 -f GLOB` as a map of name to value. */
async function stat(...globs: string[]): Promise<Map<string, number>> {
  const r = await shellac(['stat', '-1', '-T', `127.0.0.1:${s.adminPort}`, '-S', s.secretFile, ...globs.flatMap((g) => ['-f', g])]);
  expect(r.code).toBe(0);
  const out = new Map<string, number>();
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const [name, value] = line.split(/\s+/);
    out.set(name, Number(value));
  }
  return out;
}

describe('parameters through the CLI', () => {
  it('refuses a value out of bounds, of the wrong type, or an unknown name, and says why', async () => {
    const low = await adm(s, 'param.set', 'default_ttl', '-5');
    expect(low.code).toBe(1);
    expect(low.stdout).toContain('Must be greater or equal to 0.000');
    expect(low.stdout).toContain("(attempting to set param 'default_ttl' to '-5')");
    expect(low.stderr).toContain('Command failed with error code 106');
    const word = await adm(s, 'param.set', 'vcl_cooldown', 'abc');
    expect(word.code).toBe(1);
    expect(word.stdout).toContain('Invalid number (abc)');
    const unknown = await adm(s, 'param.set', 'no_such_param', '1');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('Unknown parameter "no_such_param".');
    const few = await adm(s, 'param.set', 'default_ttl');
    expect(few.code).toBe(1);
    expect(few.stderr).toContain('Command failed with error code 104');
    // Nothing changed.
    expect((await adm(s, 'param.show', 'default_ttl')).stdout).toContain('Value is: 120.000 [seconds] (default)');
  });

  it('sets, shows and resets a value; param.show -l gives the docs', async () => {
    expect((await adm(s, 'param.set', 'default_ttl', '1m')).code).toBe(0);
    expect((await adm(s, 'param.show', 'default_ttl')).stdout).toContain('Value is: 60.000 [seconds]');
    expect((await adm(s, 'param.show', 'changed')).stdout).toMatch(/^default_ttl\s+60\.000 \[seconds\]$/m);
    expect((await adm(s, 'param.reset', 'default_ttl')).code).toBe(0);
    expect((await adm(s, 'param.show', 'default_ttl')).stdout).toContain('(default)');
    expect((await adm(s, 'param.show', '-l')).stdout).toMatch(/^vcl_cooldown\n\s+Value is: 600\.000 \[seconds\] \(default\)/m);
  });

  it('a value set at run time applies to the next objects: default_ttl 1s expires them', async () => {
    expect((await adm(s, 'param.set', 'default_ttl', '1')).code).toBe(0);
    expect((await adm(s, 'param.set', 'default_grace', '0')).code).toBe(0);
    const fetches = () => origin.seen.filter((r) => r.url === '/ttl').length;
    await get(s.port, '/ttl');
    await get(s.port, '/ttl');
    expect(fetches()).toBe(1);
    await new Promise((r) => setTimeout(r, 1300));
    await get(s.port, '/ttl');
    expect(fetches()).toBe(2);
    expect((await adm(s, 'param.reset', 'default_ttl')).code).toBe(0);
    expect((await adm(s, 'param.reset', 'default_grace')).code).toBe(0);
  });

  it('refuses a bad -p at start with exit 2 and the reason', async () => {
    const r = await shellac(['serve', '-a', '127.0.0.1:0', '-b', '127.0.0.1:9', '-n', tempDir(), '-p', 'default_ttl=-1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Must be greater or equal to 0.000');
    const name = await shellac(['serve', '-a', '127.0.0.1:0', '-b', '127.0.0.1:9', '-n', tempDir(), '-p', 'bogus=1']);
    expect(name.code).toBe(2);
    expect(name.stderr).toContain('Unknown parameter "bogus".');
  });
});

describe('counters', () => {
  it('moves MAIN and VBE counters in shellac stat -1 as requests flow', async () => {
    const before = await stat('MAIN.client_req', 'MAIN.cache_miss', 'MAIN.cache_hit', 'VBE.*.req');
    const apiBefore = before.get('VBE.boot.api.req') ?? -1;
    expect(apiBefore).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < 3; i++) expect((await get(s.port, `/c${i}`)).status).toBe(200);
    expect((await get(s.port, '/c0')).status).toBe(200);
    const after = await stat('MAIN.client_req', 'MAIN.cache_miss', 'MAIN.cache_hit', 'VBE.*.req');
    expect((after.get('MAIN.client_req') ?? 0) - (before.get('MAIN.client_req') ?? 0)).toBe(4);
    expect((after.get('MAIN.cache_miss') ?? 0) - (before.get('MAIN.cache_miss') ?? 0)).toBe(3);
    expect((after.get('MAIN.cache_hit') ?? 0) - (before.get('MAIN.cache_hit') ?? 0)).toBe(1);
    expect(after.get('VBE.boot.api.req')).toBe(apiBefore + 3);
  });

  it('follows VCLs: a loaded VCL brings its VBE counters, a discarded one takes them away', async () => {
    const dir = tempDir();
    const file = writeIn(dir, 'two.vcl', `vcl 4.1;\nbackend web { .host = "127.0.0.1"; .port = "${origin.port}"; }\n`);
    expect((await adm(s, 'vcl.load', 'two', file)).code).toBe(0);
    expect((await adm(s, 'vcl.use', 'two')).code).toBe(0);
    const api = (await stat('VBE.boot.api.req')).get('VBE.boot.api.req');
    expect((await get(s.port, '/via-two')).status).toBe(200);
    const during = await stat('VBE.*.req');
    expect(during.get('VBE.two.web.req')).toBe(1);
    expect(during.get('VBE.boot.api.req')).toBe(api);
    expect((await adm(s, 'vcl.use', 'boot')).code).toBe(0);
    expect((await adm(s, 'vcl.discard', 'two')).code).toBe(0);
    const gone = await stat('VBE.*.req');
    expect(gone.has('VBE.two.web.req')).toBe(false);
    expect(gone.get('VBE.boot.api.req')).toBe(api);
  });

  it('serves the same counters on GET /metrics', async () => {
    expect(s.metricsPort).toBeGreaterThan(0);
    const counters = await stat('MAIN.client_req', 'VBE.boot.api.req');
    const r = await get(s.metricsPort ?? 0, '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toContain('text/plain; version=0.0.4');
    expect(r.body).toMatch(/^# TYPE shellac_main_client_req_total counter$/m);
    const m = /^shellac_main_client_req_total (\d+)$/m.exec(r.body);
    expect(Number(m?.[1])).toBe(counters.get('MAIN.client_req'));
    expect(r.body).toContain(`\nshellac_vbe_req_total{vcl="boot",backend="api"} ${counters.get('VBE.boot.api.req')}\n`);
    expect(r.body).not.toContain('vcl="two"');
    expect((await get(s.metricsPort ?? 0, '/other')).status).toBe(404);
  });
});
