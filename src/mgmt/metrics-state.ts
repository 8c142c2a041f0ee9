// The /metrics families that are not counters of the registry: the latency histograms, which
// VCL is in use, and whether each backend is healthy now (a probe's verdict, or the admin's
// backend.set_health), read from the server when scraped.

import { NoneBackend } from '../proxy/backend/backend.ts';
import type { Shellac } from '../proxy/server.ts';
import { LatencyMetrics } from '../proxy/latency.ts';
import { histogramFamily, type MetricFamily, type MetricSample } from './prometheus.ts';

const VCL_INFO = {
  name: 'shellac_vcl_info',
  type: 'gauge',
  help: 'One per loaded VCL, labelled with its name and temperature; 1 for the active VCL, 0 for the others',
} as const;
const BACKEND_HEALTHY = {
  name: 'shellac_backend_healthy',
  type: 'gauge',
  help: 'Backends of the loaded VCLs: 1 when healthy (by its probe or by backend.set_health), 0 when sick',
} as const;

/** Name, type and HELP of every family served besides the counters (for docs/metrics.md). */
export function stateFamilyDocs(): Pick<MetricFamily, 'name' | 'type' | 'help'>[] {
  return [...new LatencyMetrics().all().map((h) => ({ name: h.name, type: 'histogram' as const, help: h.help })), VCL_INFO, BACKEND_HEALTHY];
}

/** The families read from `srv` at each scrape. */
export function stateFamilies(srv: Shellac): MetricFamily[] {
  const vcls: MetricSample[] = [];
  const health: MetricSample[] = [];
  const active = srv.vcls.activeName;
  for (const e of srv.vcls.entries()) {
    if (e.target !== null) continue;
    vcls.push({ suffix: '', labels: { vcl: e.name, temperature: e.vcl.temperature }, value: e.name === active ? 1 : 0 });
    for (const b of e.vcl.allBackends()) {
      // A `none` backend is no backend to Varnish.
      if (b instanceof NoneBackend) continue;
      health.push({ suffix: '', labels: { vcl: e.name, backend: b.name }, value: b.healthy(null) ? 1 : 0 });
    }
  }
  const latency = srv.latency?.all().map(histogramFamily) ?? [];
  return [...latency, { ...VCL_INFO, samples: vcls }, { ...BACKEND_HEALTHY, samples: health }];
}
