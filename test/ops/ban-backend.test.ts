// Bans and backend health from the admin CLI of a running `shellac serve`, seen on traffic:
// `ban` makes matching cached objects refetch and leaves the others, ban.list shows the bans;
// backend.set_health sick turns misses into 503 while cached objects are still served, and
// auto gives the backend back to its (absent) probe.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, type Origin, startOrigin } from '../helpers/proxy.ts';
import { adm, type Served, serve, tempDir, writeIn } from './helpers.ts';

let origin: Origin;
let s: Served;
const fetched = new Map<string, number>();

beforeAll(async () => {
  origin = await startOrigin((req, res) => {
    const url = req.url ?? '';
    const n = (fetched.get(url) ?? 0) + 1;
    fetched.set(url, n);
    res.setHeader('cache-control', 'max-age=300');
    res.setHeader('x-tag', url.startsWith('/shop') ? 'shop' : 'other');
    res.end(`${url} #${n}`);
  });
  const vcl = writeIn(tempDir(), 'main.vcl', `vcl 4.1;\nbackend origin { .host = "127.0.0.1"; .port = "${origin.port}"; }\n`);
  s = await serve(['-f', vcl]);
});
afterAll(async () => {
  expect(await s.stop()).toBe(0);
  await origin.close();
});

const body = async (path: string): Promise<string> => (await get(s.port, path)).body;

describe('ban and ban.list', () => {
  it('bans cached objects by URL, and only those', async () => {
    for (const p of ['/news/1', '/news/2', '/about']) expect(await body(p)).toBe(`${p} #1`);
    expect(await body('/news/1')).toBe('/news/1 #1');
    const r = await adm(s, 'ban', 'req.url', '~', '^/news');
    expect(r.code).toBe(0);
    expect(await body('/news/1')).toBe('/news/1 #2');
    expect(await body('/news/2')).toBe('/news/2 #2');
    expect(await body('/about')).toBe('/about #1');
    // The refetched object is newer than the ban.
    expect(await body('/news/1')).toBe('/news/1 #2');
  });

  it('bans on object headers, given as one quoted command line', async () => {
    for (const p of ['/shop/a', '/shop/b']) expect(await body(p)).toBe(`${p} #1`);
    const r = await adm(s, 'ban obj.http.x-tag == "shop" && req.url !~ "/b$"');
    expect(r.code).toBe(0);
    expect(await body('/shop/a')).toBe('/shop/a #2');
    expect(await body('/shop/b')).toBe('/shop/b #1');
    expect(await body('/about')).toBe('/about #1');
  });

  it('lists the bans, newest first, and refuses a bad expression with 106', async () => {
    const list = await adm(s, 'ban.list');
    expect(list.code).toBe(0);
    const lines = list.stdout.split('\n');
    expect(lines[0]).toBe('Present bans:');
    expect(lines[1]).toMatch(/^\d+\.\d+\s+\d+ -\s+obj\.http\.x-tag == shop && req\.url !~ \/b\$$/);
    expect(lines.filter((l) => l === 'Present bans:')).toHaveLength(1);
    expect(list.stdout).toMatch(/ req\.url ~ \^\/news$/m);
    const json = JSON.parse((await adm(s, 'ban.list', '-j')).stdout) as unknown[];
    expect(json.slice(3)).toContainEqual(expect.objectContaining({ spec: expect.stringContaining('req.url ~'), req: true, obj: false }));
    const bad = await adm(s, 'ban', 'req.nosuch', '==', '1');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('Unknown or unsupported field "req.nosuch"');
    expect(bad.stderr).toContain('Command failed with error code 106');
  });
});

describe('backend.list and backend.set_health', () => {
  it('lists the backends of the active VCL', async () => {
    const r = await adm(s, 'backend.list');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Backend name\s+Admin\s+Probe\s+Health\s+Last change$/m);
    expect(r.stdout).toMatch(/^boot\.origin\s+healthy\s+0\/0\s+healthy\s+\w{3}, /m);
  });

  it('sick makes misses 503 while cached objects are still served; auto restores it', async () => {
    expect((await adm(s, 'backend.set_health', 'boot.*', 'sick')).code).toBe(0);
    expect((await adm(s, 'backend.list', 'origin')).stdout).toMatch(/^boot\.origin\s+sick\s+/m);
    const miss = await get(s.port, '/new-while-sick');
    expect(miss.status).toBe(503);
    expect(fetched.get('/new-while-sick')).toBeUndefined();
    expect(await body('/about')).toBe('/about #1');
    expect((await adm(s, 'backend.set_health', 'origin', 'auto')).code).toBe(0);
    expect((await adm(s, 'backend.list')).stdout).toMatch(/^boot\.origin\s+healthy\s+/m);
    const after = await get(s.port, '/new-while-sick');
    expect(after.status).toBe(200);
    expect(after.body).toBe('/new-while-sick #1');
  });

  it('refuses an unknown pattern or state', async () => {
    const none = await adm(s, 'backend.set_health', 'nomatch', 'sick');
    expect(none.code).toBe(1);
    expect(none.stdout).toContain('No Backends matches');
    const state = await adm(s, 'backend.set_health', 'origin', 'poorly');
    expect(state.code).toBe(1);
    expect(state.stderr).toContain('error code 106');
  });
});
