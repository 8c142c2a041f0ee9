// VCL temperature on a running server, driven through the admin protocol: an `auto` VCL goes
// cold `vcl_cooldown` after its last use (set low with param.set), not while a request still
// runs on it, and not while a VMOD holds it; `vcl.state NAME cold` is refused with the list of
// holders; every change reaches the test VMOD's event function (tvmod records them); the
// probes of a cold VCL stop, and start again when it warms.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AdminClient } from '../../src/mgmt/admin-client.ts';
import { resetTestVmodState, testVmodState } from '../fixtures/vmods/state.ts';
import { get, type Origin, startOrigin } from '../helpers/proxy.ts';
import { type InProcess, inProcess, okBody, until } from './helpers.ts';

let origin: Origin;
let probes = 0;
let h: InProcess;
let c: AdminClient;

function vmodVcl(port: number): string {
  return `vcl 4.1;
import tvmod;
probe p { .url = "/probe"; .interval = 0.1s; .timeout = 1s; .window = 3; .threshold = 1; .initial = 1; }
backend default { .host = "127.0.0.1"; .port = "${port}"; .probe = p; }
sub vcl_recv { return (pass); }
sub vcl_deliver { set resp.http.x-vcl = "hot"; }
`;
}

const temperature = async (name: string): Promise<string> => {
  const rows = JSON.parse(await okBody(c, ['vcl.list', '-j'])).slice(3) as { name: string; temperature: string }[];
  return rows.find((r) => r.name === name)?.temperature ?? 'missing';
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  origin = await startOrigin((req, res) => {
    if (req.url === '/probe') probes++;
    setTimeout(() => res.end('ok'), req.url === '/slow' ? 2500 : 0);
  });
  h = await inProcess(`vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "${origin.port}"; }\nsub vcl_recv { return (pass); }\n`);
  c = await h.admin();
  expect(await okBody(c, ['param.set', 'vcl_cooldown', '1'])).toBe('');
});
afterAll(async () => {
  c.close();
  await h.close();
  await origin.close();
});
beforeEach(() => {
  resetTestVmodState();
});

describe('temperature', () => {
  it('warms a loaded VCL, serves on it, and cools it vcl_cooldown after its last use; probes stop', async () => {
    await okBody(c, ['vcl.inline', 'hot', vmodVcl(origin.port)]);
    const log = testVmodState().log;
    expect(log).toEqual(['tvmod:load:hot', 'tvmod:warm:hot']);
    await okBody(c, ['vcl.use', 'hot']);
    expect((await get(h.port, '/')).headers['x-vcl']).toBe('hot');
    const before = probes;
    expect(await until(() => probes > before + 2, 3000)).toBe(true);

    await okBody(c, ['vcl.use', 'boot']);
    expect(await temperature('hot')).toBe('warm');
    expect(await until(async () => (await temperature('hot')) === 'cold', 4000)).toBe(true);
    expect(log).toEqual(['tvmod:load:hot', 'tvmod:warm:hot', 'tvmod:cold:hot']);
    const cooled = probes;
    await sleep(500);
    expect(probes - cooled).toBeLessThanOrEqual(1);
  });

  it('warms a cold VCL on vcl.use, its probes start again; a request in flight keeps it warm', async () => {
    const before = probes;
    await okBody(c, ['vcl.use', 'hot']);
    expect(testVmodState().log).toEqual(['tvmod:warm:hot']);
    expect(await until(() => probes > before + 2, 3000)).toBe(true);
    const slow = get(h.port, '/slow');
    await sleep(100);
    await okBody(c, ['vcl.use', 'boot']);
    const rows = JSON.parse(await okBody(c, ['vcl.list', '-j'])).slice(3) as { name: string; busy: number }[];
    // The request and its fetch each hold the VCL, as Varnish's req and busyobj do.
    expect(rows.find((r) => r.name === 'hot')?.busy).toBe(2);
    await sleep(1800);
    expect(await temperature('hot')).toBe('warm');
    expect((await slow).status).toBe(200);
    expect(await until(async () => (await temperature('hot')) === 'cold', 4000)).toBe(true);
  });

  it('refuses vcl.state cold with the holders while a VMOD holds the VCL, and does not cool it', async () => {
    const state = testVmodState();
    state.holdOnWarm = true;
    await okBody(c, ['vcl.state', 'hot', 'warm']);
    expect(state.log).toEqual(['tvmod:warm:hot']);
    expect(state.release).not.toBeNull();
    const refused = await c.command(['vcl.state', 'hot', 'cold']);
    expect(refused.status).toBe(300);
    expect(refused.body).toContain('tvmod background work');
    expect(await okBody(c, ['vcl.list'])).toMatch(/^available\s+warm\s+warm\s+0\s+hot\s+\(held by tvmod background work\)$/m);
    // Back to auto: the cooldown passes, the hold keeps it warm.
    await okBody(c, ['vcl.state', 'hot', 'auto']);
    await sleep(2200);
    expect(await temperature('hot')).toBe('warm');
    state.release?.();
    expect(await until(async () => (await temperature('hot')) === 'cold', 4000)).toBe(true);
    expect(state.log).toEqual(['tvmod:warm:hot', 'tvmod:cold:hot']);
  });

  it('vcl.state cold cools at once, and discard sends the last event', async () => {
    await okBody(c, ['vcl.state', 'hot', 'warm']);
    expect(await temperature('hot')).toBe('warm');
    await okBody(c, ['vcl.state', 'hot', 'cold']);
    expect(await temperature('hot')).toBe('cold');
    await okBody(c, ['vcl.discard', 'hot']);
    expect(testVmodState().log).toEqual(['tvmod:warm:hot', 'tvmod:cold:hot', 'tvmod:discard:hot', 'tvmod:free:vcl:1']);
  });

  it('keeps a VCL discarded during a request listed as discarded until the request ends, then frees it', async () => {
    await okBody(c, ['vcl.inline', 'going', vmodVcl(origin.port)]);
    await okBody(c, ['vcl.use', 'going']);
    const slow = get(h.port, '/slow');
    await sleep(100);
    await okBody(c, ['vcl.use', 'boot']);
    await okBody(c, ['vcl.discard', 'going']);
    // Busy 2: the request and its fetch.
    expect(await okBody(c, ['vcl.list'])).toMatch(/^discarded\s+auto\s+warm\s+2\s+going$/m);
    const counters = async () => Object.fromEntries((await okBody(c, ['counters.show', 'MAIN.n_vcl*'])).trim().split('\n').map((l) => l.split(/\s+/).slice(0, 2)));
    expect(await counters()).toMatchObject({ 'MAIN.n_vcl': '2', 'MAIN.n_vcl_discard': '1' });
    // The name stays taken until it is freed.
    expect((await c.command(['vcl.inline', 'going', vmodVcl(origin.port)])).status).toBe(106);
    expect(testVmodState().log).not.toContain('tvmod:discard:going');
    expect((await slow).status).toBe(200);
    expect(await okBody(c, ['vcl.list'])).not.toMatch(/\bgoing\b/);
    expect(testVmodState().log.slice(-3)).toEqual(['tvmod:cold:going', 'tvmod:discard:going', 'tvmod:free:vcl:1']);
    expect(await counters()).toMatchObject({ 'MAIN.n_vcl': '1', 'MAIN.n_vcl_avail': '1', 'MAIN.n_vcl_discard': '0' });
  });
});
