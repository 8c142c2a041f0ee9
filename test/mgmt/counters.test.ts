import { afterEach, describe, expect, it } from 'vitest';
import { COUNTER_TABLE } from '../../src/mgmt/counter-table.ts';
import { counterFilter, formatStatLines, rowsFromStatJson, statJson } from '../../src/mgmt/counter-format.ts';
import { CounterRegistry } from '../../src/mgmt/counters.ts';
import { type MetricsServer, parseMetricsListen, startMetricsServer } from '../../src/mgmt/metrics-http.ts';
import { newCacheCounters } from '../../src/cache/counters.ts';
import { newBackendCounters, newBackendGlobalCounters } from '../../src/proxy/backend/counters.ts';
import { newProxyCounters } from '../../src/proxy/counters.ts';
import { COUNTERS_NAMED_IN_THE_ISSUE } from '../helpers/issue-counters.ts';

function fakeClock(start = 1_000_000) {
  let now = start;
  return { clock: () => now, advance: (ms: number) => (now += ms) };
}

describe('the counter table', () => {
  it('has the issue-5 counters and the VBE family, each once', () => {
    const main = COUNTER_TABLE.MAIN.map((d) => d.name as string);
    for (const n of COUNTERS_NAMED_IN_THE_ISSUE) {
      expect(main, n).toContain(n);
    }
    expect(new Set(main).size).toBe(main.length);
    const vbe = COUNTER_TABLE.VBE.map((d) => d.name as string);
    for (const n of ['happy', 'req', 'conn', 'bereq_bodybytes', 'beresp_bodybytes', 'fail', 'unhealthy', 'busy']) expect(vbe).toContain(n);
  });

  it('accepts the counter objects the cache, the proxy and the backends bump', () => {
    const r = new CounterRegistry();
    expect(() => r.add('MAIN', newCacheCounters())).not.toThrow();
    expect(() => r.add('MAIN', newProxyCounters())).not.toThrow();
    expect(() => r.add('MAIN', newBackendGlobalCounters())).not.toThrow();
    expect(() => r.addBackend('boot', 'default', newBackendCounters())).not.toThrow();
  });
});

describe('the registry', () => {
  it('sums MAIN sources, reads them at snapshot time, and counts uptime', () => {
    const t = fakeClock();
    const r = new CounterRegistry({ clock: t.clock });
    const proxy = { client_req: 0, cache_hit: 0 };
    const cache = { cache_hitpass: 2, n_object: 0 };
    r.add('MAIN', proxy);
    r.add('MAIN', cache);
    r.add('MAIN', { client_req: 10 });
    proxy.client_req += 5;
    cache.n_object = 3;
    t.advance(4500);
    expect(r.value('client_req')).toBe(15);
    expect(r.value('MAIN.n_object')).toBe(3);
    expect(r.value('MAIN.cache_hitpass')).toBe(2);
    expect(r.value('MAIN.cache_miss')).toBe(0);
    expect(r.value('MAIN.uptime')).toBe(4);
    expect(r.value('MGT.uptime')).toBe(4);
  });

  it('reads getters, so a part can expose a computed value', () => {
    const r = new CounterRegistry();
    const vcls = new Set(['boot', 'v2']);
    r.add('MAIN', {
      get n_vcl() {
        return vcls.size;
      },
    });
    expect(r.value('n_vcl')).toBe(2);
    vcls.add('v3');
    expect(r.value('n_vcl')).toBe(3);
  });

  it('refuses a field the table does not declare, and a missing or extra identity', () => {
    const r = new CounterRegistry();
    expect(() => r.add('MAIN', { client_reqs: 1 } as never)).toThrow(/MAIN\.client_reqs is not declared/);
    expect(() => r.addBackend('boot', 'b1', { requests: 1 } as never)).toThrow(/VBE\.boot\.b1\.requests is not declared/);
    expect(() => r.add('VBE', { req: 1 }, '')).toThrow(/needs an identity/);
    expect(() => (r.add as (g: string, s: object, i?: string) => void)('MAIN', {}, 'x')).toThrow(/takes no identity/);
  });

  it('lists MGT, MAIN, then storages and backends in the order they came, and forgets removed ones', () => {
    const r = new CounterRegistry();
    const offB2 = r.addBackend('boot', 'b2', { req: 1 });
    r.addBackend('boot', 'b1', { req: 2, happy: 0b101 });
    r.add('SMA', { g_space: 1024 }, 's0');
    const names = r.snapshot().map((s) => s.name);
    expect(names[0]).toBe('MGT.uptime');
    expect(names.indexOf('MAIN.uptime')).toBeGreaterThan(names.indexOf('MGT.child_start'));
    expect(names.indexOf('SMA.s0.g_space')).toBeGreaterThan(names.indexOf('MAIN.n_test_gunzip'));
    expect(names.indexOf('VBE.boot.b2.req')).toBeLessThan(names.indexOf('VBE.boot.b1.req'));
    expect(r.value('VBE.boot.b1.happy')).toBe(5);
    expect(names.filter((n) => n.startsWith('VBE.boot.b1.')).length).toBe(COUNTER_TABLE.VBE.length);
    offB2();
    expect(r.value('VBE.boot.b2.req')).toBeUndefined();
    expect(r.value('VBE.boot.b1.req')).toBe(2);
  });
});

describe('counters as text', () => {
  it('prints varnishstat -1 lines: name, value, average rate, description', () => {
    const t = fakeClock();
    const r = new CounterRegistry({ clock: t.clock });
    r.add('MAIN', { client_req: 50, n_object: 7 });
    r.addBackend('boot', 'default', { req: 20, conn: 2 });
    t.advance(10_000);
    const rows = r.snapshot().filter((s) => ['MAIN.uptime', 'MAIN.client_req', 'MAIN.n_object', 'VBE.boot.default.req', 'VBE.boot.default.conn'].includes(s.name));
    const lines = formatStatLines(rows).split('\n');
    expect(lines[0]).toMatch(/^MAIN\.uptime +10 +1\.00 Seconds since the server started serving$/);
    expect(lines[1]).toMatch(/^MAIN\.client_req +50 +5\.00 Well-formed client requests received$/);
    expect(lines[2]).toMatch(/^MAIN\.n_object +7 +\. +Objects in the cache$/);
    expect(lines[3]).toMatch(/^VBE\.boot\.default\.conn +2 +\. /);
    expect(lines[4]).toMatch(/^VBE\.boot\.default\.req +20 +2\.00 Requests sent$/);
    // Values line up in one column, so the VTC runner's `NAME VALUE` reading works.
    const valueEnds = lines.filter(Boolean).map((l) => /^\S+ +\d+/.exec(l)![0].length);
    expect(new Set(valueEnds).size).toBe(1);
  });

  it('gives varnishstat -j JSON and reads it back', () => {
    const r = new CounterRegistry();
    r.add('MAIN', { s_resp_bodybytes: 1234, n_object: 3 });
    r.addBackend('boot', 'b', { happy: 3 });
    const json = statJson(r.snapshot(), new Date('2030-01-02T03:04:05Z'));
    expect(json.version).toBe(1);
    expect(json.timestamp).toBe('2030-01-02T03:04:05');
    const counters = json.counters as Record<string, { flag: string; format: string; value: number; description: string }>;
    expect(counters['MAIN.s_resp_bodybytes']).toEqual({ description: 'Bytes of response bodies sent to clients', flag: 'c', format: 'B', value: 1234 });
    expect(counters['MAIN.n_object'].flag).toBe('g');
    expect(counters['MAIN.uptime'].format).toBe('d');
    expect(counters['VBE.boot.b.happy']).toMatchObject({ flag: 'b', format: 'b', value: 3 });
    const back = rowsFromStatJson(JSON.parse(JSON.stringify(json)));
    expect(back.find((x) => x.name === 'MAIN.s_resp_bodybytes')).toEqual({
      name: 'MAIN.s_resp_bodybytes',
      value: 1234,
      type: 'counter',
      format: 'bytes',
      docs: 'Bytes of response bodies sent to clients',
    });
  });

  it('filters with -f globs, ^ excluding', () => {
    const keep = counterFilter(['MAIN.cache_*', '^*grace']);
    expect(keep('MAIN.cache_hit')).toBe(true);
    expect(keep('MAIN.cache_hit_grace')).toBe(false);
    expect(keep('MAIN.client_req')).toBe(false);
    const notVbe = counterFilter(['^VBE.*']);
    expect(notVbe('MAIN.client_req')).toBe(true);
    expect(notVbe('VBE.boot.b.req')).toBe(false);
    expect(counterFilter(['MAIN.s_?ass'])('MAIN.s_pass')).toBe(true);
  });
});

describe('GET /metrics', () => {
  let m: MetricsServer | undefined;
  afterEach(async () => {
    await m?.close();
    m = undefined;
  });

  it('serves the counters as they are at request time over real HTTP', async () => {
    const r = new CounterRegistry();
    const main = { client_req: 1 };
    r.add('MAIN', main);
    m = await startMetricsServer(r, '127.0.0.1', 0);
    const first = await fetch(`http://127.0.0.1:${m.port}/metrics`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(await first.text()).toContain('\nshellac_main_client_req_total 1\n');
    main.client_req = 42;
    expect(await (await fetch(`http://127.0.0.1:${m.port}/metrics`)).text()).toContain('\nshellac_main_client_req_total 42\n');
    const other = await fetch(`http://127.0.0.1:${m.port}/`);
    expect(other.status).toBe(404);
    await other.text();
  });

  it('reads metrics_listen', () => {
    expect(parseMetricsListen('')).toBeUndefined();
    expect(parseMetricsListen('127.0.0.1:9131')).toEqual({ host: '127.0.0.1', port: 9131 });
    expect(parseMetricsListen('[::1]:9131')).toEqual({ host: '::1', port: 9131 });
    expect(parseMetricsListen(':9131')).toEqual({ host: '', port: 9131 });
    expect(() => parseMetricsListen('nope')).toThrow(/expected host:port/);
  });
});
