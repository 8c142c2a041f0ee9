// Counters end to end: every counter the proxy issue names exists under Varnish's name and is
// declared with a description; the ones no other scenario pins down move as Varnish's do.

import { afterEach, describe, expect, it } from 'vitest';
import { CACHE_COUNTERS } from '../../src/cache/index.ts';
import { COUNTER_TABLE } from '../../src/mgmt/counter-table.ts';
import { PROXY_COUNTERS } from '../../src/proxy/counters.ts';
import { BACKEND, get, type Origin, type ProxyHandle, sleep, startOrigin, startProxy, stat } from '../helpers/proxy.ts';
import { COUNTERS_NAMED_IN_THE_ISSUE } from '../helpers/issue-counters.ts';

let origin: Origin | undefined;
let proxy: ProxyHandle | undefined;
afterEach(async () => {
  await proxy?.close();
  await origin?.close();
  proxy = origin = undefined;
});

const NAMED_IN_THE_ISSUE = COUNTERS_NAMED_IN_THE_ISSUE;

describe('counters', () => {
  it('has every counter the issue names, starting at 0, and the declared ones have docs', async () => {
    proxy = await startProxy(BACKEND);
    for (const name of NAMED_IN_THE_ISSUE) {
      // stat() throws for a name no table has. The ban list may start with a completed ban.
      const value = stat(proxy, name);
      if (name === 'bans' || name === 'bans_completed') expect(value, name).toBeLessThanOrEqual(1);
      else expect(value, name).toBe(0);
    }
    // Every counter the proxy and the cache keep is documented in the one counter table.
    const docs = new Map<string, string>(COUNTER_TABLE.MAIN.map((c) => [c.name, c.docs]));
    for (const name of [...PROXY_COUNTERS, ...CACHE_COUNTERS]) expect(docs.get(name)?.length ?? 0, name).toBeGreaterThan(5);
    const names = [...PROXY_COUNTERS, ...CACHE_COUNTERS];
    expect(new Set(names).size).toBe(names.length);
  });

  it('counts sessions, backend connections and their reuse', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=0' });
      res.end('x');
    });
    proxy = await startProxy(BACKEND, { origin });
    for (let i = 0; i < 3; i++) await get(proxy.port, `/${i}`);
    expect(stat(proxy, 'sess_conn')).toBe(3);
    expect(stat(proxy, 'client_req')).toBe(3);
    expect(stat(proxy, 's_fetch')).toBe(3);
    expect(stat(proxy, 'backend_conn')).toBe(1);
    expect(stat(proxy, 'backend_reuse')).toBe(2);
    expect(stat(proxy, 'backend_fail')).toBe(0);
  });

  it('counts expired objects', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=1' });
      res.end('x');
    });
    proxy = await startProxy(`${BACKEND}sub vcl_backend_response { set beresp.grace = 0s; set beresp.keep = 0s; }`, { origin });
    await get(proxy.port, '/e');
    expect(stat(proxy, 'n_object')).toBe(1);
    for (let i = 0; i < 60 && stat(proxy, 'n_expired') === 0; i++) await sleep(50);
    expect(stat(proxy, 'n_expired')).toBe(1);
    expect(stat(proxy, 'n_object')).toBe(0);
  });

  it('completes a ban once the lurker has tested every object, and trims the list (as varnishtest shows)', async () => {
    origin = await startOrigin((_req, res) => {
      res.writeHead(200, { 'Cache-Control': 'max-age=100' });
      res.end('x');
    });
    proxy = await startProxy(`${BACKEND}sub vcl_recv { if (req.http.x-ban) { ban("obj.status == " + req.http.x-ban); return (synth(200)); } }`, {
      origin,
      params: [['ban_lurker_age', '0']],
    });
    await get(proxy.port, '/a');
    await get(proxy.port, '/', { headers: { 'X-Ban': '200' } });
    const settled = (): boolean => stat(proxy!, 'n_object') === 0 && stat(proxy!, 'bans') === 1 && stat(proxy!, 'bans_completed') === 1;
    for (let i = 0; i < 100 && !settled(); i++) await sleep(20);
    expect(stat(proxy, 'n_object')).toBe(0);
    expect(stat(proxy, 'bans_lurker_obj_killed')).toBe(1);
    expect(stat(proxy, 'bans')).toBe(1);
    expect(stat(proxy, 'bans_completed')).toBe(1);
    // A ban with nothing to test is completed at once; the older one goes.
    await get(proxy.port, '/', { headers: { 'X-Ban': '201' } });
    for (let i = 0; i < 100 && (stat(proxy, 'bans_added') < 3 || !settled()); i++) await sleep(20);
    expect(stat(proxy, 'bans')).toBe(1);
    expect(stat(proxy, 'bans_completed')).toBe(1);
    // The list's first ban, made at start, counts as added too.
    expect(stat(proxy, 'bans_added')).toBe(3);
  });
});
