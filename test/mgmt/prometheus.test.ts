// The Prometheus exposition of the counter registry and the latency histograms: names by the
// conventions, identities as labels, VMOD groups exported without a list, cumulative buckets,
// and docs/metrics.md as the table generates it. Parsed with the format's rules
// (test/helpers/prom-text.ts), not matched as strings.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { CounterSample } from '../../src/mgmt/counters.ts';
import { CounterRegistry } from '../../src/mgmt/counters.ts';
import { LATENCY_BUCKETS, LatencyMetrics, MAX_SERIES } from '../../src/proxy/latency.ts';
import { startMetricsServer } from '../../src/mgmt/metrics-http.ts';
import { stateFamilyDocs } from '../../src/mgmt/metrics-state.ts';
import { counterFamilies, histogramFamily, metricName, renderExposition, renderMetricDocs } from '../../src/mgmt/prometheus.ts';
import { conventionProblems, parsePromText } from '../helpers/prom-text.ts';

describe('metric names', () => {
  it('adds _total to counters, base units to bytes and seconds, and keeps gauges as they are', () => {
    expect(metricName('MAIN', { name: 'client_req', type: 'counter' })).toBe('shellac_main_client_req_total');
    expect(metricName('MAIN', { name: 's_req_hdrbytes', type: 'counter', format: 'bytes' })).toBe('shellac_main_s_req_hdr_bytes_total');
    expect(metricName('MAIN', { name: 's_pipe_in', type: 'counter', format: 'bytes' })).toBe('shellac_main_s_pipe_in_bytes_total');
    expect(metricName('SMA', { name: 'g_bytes', type: 'gauge', format: 'bytes' })).toBe('shellac_sma_g_bytes');
    expect(metricName('SMA', { name: 'g_space', type: 'gauge', format: 'bytes' })).toBe('shellac_sma_g_space_bytes');
    expect(metricName('MAIN', { name: 'uptime', type: 'counter', format: 'duration' })).toBe('shellac_main_uptime_seconds_total');
    expect(metricName('MAIN', { name: 'n_object', type: 'gauge' })).toBe('shellac_main_n_object');
    expect(metricName('VBE', { name: 'happy', type: 'bitmap' })).toBe('shellac_vbe_happy');
    expect(metricName('RATELIMIT', { name: 'denied', type: 'counter' })).toBe('shellac_vmod_ratelimit_denied_total');
  });
});

describe('the exposition of the registry', () => {
  it('follows the text format and the conventions, with identities as labels', () => {
    const r = new CounterRegistry();
    r.add('MAIN', { client_req: 9, n_object: 2, s_resp_bodybytes: 1234 });
    r.addBackend('boot', 'api', { req: 4, happy: 5 });
    r.addBackend('boot', 'web"1\\x', { req: 5 });
    r.add('SMA', { g_bytes: 100 }, 's0');
    const families = parsePromText(renderExposition(counterFamilies(r.snapshot())));
    for (const f of families.values()) expect(conventionProblems(f)).toEqual([]);
    expect(families.get('shellac_main_client_req_total')).toMatchObject({ type: 'counter', help: 'Well-formed client requests received' });
    expect(families.get('shellac_main_client_req_total')?.samples).toEqual([{ name: 'shellac_main_client_req_total', labels: {}, value: 9 }]);
    expect(families.get('shellac_main_n_object')?.type).toBe('gauge');
    expect(families.get('shellac_main_s_resp_body_bytes_total')?.samples[0].value).toBe(1234);
    expect(families.get('shellac_vbe_req_total')?.samples.map((s) => [s.labels, s.value])).toEqual([
      [{ vcl: 'boot', backend: 'api' }, 4],
      [{ vcl: 'boot', backend: 'web"1\\x' }, 5],
    ]);
    expect(families.get('shellac_vbe_happy')?.type).toBe('gauge');
    expect(families.get('shellac_sma_g_bytes')?.samples[0].labels).toEqual({ storage: 's0' });
    // Every counter of the table is there, MAIN ones at 0 when nobody counts them.
    expect(families.get('shellac_main_cache_hit_total')?.samples[0].value).toBe(0);
  });

  it('exports any group the registry holds: a VMOD module, its instances as labels', () => {
    const base = { ident: '', type: 'counter', format: 'count', docs: 'Requests denied' } as const;
    // The registry as the platform work extends it: groups named after modules (issue 15).
    const samples = [
      { ...base, name: 'RATELIMIT.denied', group: 'RATELIMIT', field: 'denied', value: 3 },
      { ...base, name: 'RATELIMIT.api.denied', group: 'RATELIMIT', ident: 'api', field: 'denied', value: 2 },
      { ...base, name: 'RATELIMIT.buckets', group: 'RATELIMIT', field: 'buckets', type: 'gauge', docs: 'Buckets held', value: 7 },
    ] as unknown as CounterSample[];
    const families = parsePromText(renderExposition(counterFamilies(samples)));
    for (const f of families.values()) expect(conventionProblems(f)).toEqual([]);
    expect(families.get('shellac_vmod_ratelimit_denied_total')?.samples.map((s) => [s.labels, s.value])).toEqual([
      [{ vmod: 'ratelimit' }, 3],
      [{ vmod: 'ratelimit', instance: 'api' }, 2],
    ]);
    expect(families.get('shellac_vmod_ratelimit_buckets')?.type).toBe('gauge');
    // The platform's own counters (VMOD.*) are Shellac's: no module label, no doubled prefix.
    const platform = [{ ...base, name: 'VMOD.jobs_run', group: 'VMOD', field: 'jobs_run', value: 5 }] as unknown as CounterSample[];
    const own = parsePromText(renderExposition(counterFamilies(platform)));
    expect(own.get('shellac_vmod_jobs_run_total')?.samples.map((s) => [s.labels, s.value])).toEqual([[{}, 5]]);
  });
});

describe('latency histograms', () => {
  it('puts each observation in the first bucket that holds it, cumulates on export, and bounds label values', () => {
    const m = new LatencyMetrics();
    m.request.observe('hit', 0.00005);
    m.request.observe('hit', 0.0001);
    m.request.observe('hit', 0.0003);
    m.request.observe('miss', 0.2);
    m.request.observe('miss', 60);
    const fam = parsePromText(renderExposition([histogramFamily(m.request)])).get('shellac_request_duration_seconds');
    expect(fam?.type).toBe('histogram');
    expect(conventionProblems(fam!)).toEqual([]);
    const bucket = (handling: string, le: string) =>
      fam?.samples.find((s) => s.name.endsWith('_bucket') && s.labels.handling === handling && s.labels.le === le)?.value;
    expect(bucket('hit', '0.0001')).toBe(2);
    expect(bucket('hit', '0.00025')).toBe(2);
    expect(bucket('hit', '0.0005')).toBe(3);
    expect(bucket('miss', '0.25')).toBe(1);
    expect(bucket('miss', '10')).toBe(1);
    expect(bucket('miss', '+Inf')).toBe(2);
    expect(fam?.samples.find((s) => s.name.endsWith('_sum') && s.labels.handling === 'miss')?.value).toBeCloseTo(60.2);
    // The handlings known in advance are there at 0 before any request.
    expect(bucket('pipe', '+Inf')).toBe(0);
    expect(LATENCY_BUCKETS[0]).toBe(0.0001);
    expect(LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1]).toBe(10);

    for (let i = 0; i < MAX_SERIES + 10; i++) m.fetch.observe(`b${i}`, 0.01);
    expect(m.fetch.series.size).toBe(MAX_SERIES + 1);
    expect(m.fetch.series.get('other')?.count).toBe(10);
  });
});

describe('docs/metrics.md', () => {
  it('is what the counter table and the naming rules generate', () => {
    const file = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
    expect(file).toBe(renderMetricDocs(stateFamilyDocs()));
  });
});

describe('GET /metrics with a failing part', () => {
  it('answers 500 for that scrape and serves the next', async () => {
    const r = new CounterRegistry();
    r.add('MAIN', { client_req: 1 });
    let fail = true;
    const m = await startMetricsServer(r, '127.0.0.1', 0, {
      extra: () => {
        if (fail) throw new Error('backend state unreadable');
        return [];
      },
    });
    try {
      const bad = await fetch(`http://127.0.0.1:${m.port}/metrics`);
      expect(bad.status).toBe(500);
      expect(await bad.text()).toContain('backend state unreadable');
      fail = false;
      const good = await fetch(`http://127.0.0.1:${m.port}/metrics`);
      expect(good.status).toBe(200);
      expect(parsePromText(await good.text()).get('shellac_main_client_req_total')?.samples[0].value).toBe(1);
    } finally {
      await m.close();
    }
  });
});
