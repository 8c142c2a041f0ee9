// Metrics as Prometheus users expect them: the text exposition format (0.0.4), names by
// Prometheus's conventions, and a documented mapping from each Varnish counter name.
//
// A counter `GROUP[.ident].field` becomes the family `shellac_<group>_<field>` (the group in
// lower case; a VMOD's group is its module name and becomes `shellac_vmod_<module>_<field>`):
// - a field counted in bytes ends in `_bytes` (`s_req_hdrbytes` → `s_req_hdr_bytes`,
//   `g_space` → `g_space_bytes`), one counted in seconds in `_seconds`;
// - a counter (type counter) ends in `_total`; gauges and bitmaps are gauges;
// - the identity becomes labels: `{storage}` for SMA, `{vcl, backend}` for VBE, `{instance}` for
//   a VMOD object's counters, and `{vmod}` (the module) on every VMOD counter;
// - `# HELP` is the counter table's description.
// Whatever the registry holds is exported (VMOD counters included), so the mapping is a rule, not
// a list; `metricName` applies it, and docs/metrics.md is generated from it.
//
// Other families (latency histograms, VCL and backend state) come in as MetricFamily values.

import type { CounterSample } from './counters.ts';
import { COUNTER_TABLE, type CounterDecl, type CounterFormat, type CounterGroup } from './counter-table.ts';
import { LATENCY_BUCKETS, type LatencyHistogram } from '../proxy/latency.ts';

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface MetricSample {
  /** Added to the family name: `_bucket`, `_sum`, `_count` for histograms; '' otherwise. */
  readonly suffix: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly samples: readonly MetricSample[];
}

/** Groups that are Shellac's own; any other group is a VMOD's (`RATELIMIT`). */
const OWN_GROUPS: ReadonlySet<string> = new Set<CounterGroup>(['MGT', 'MAIN', 'SMA', 'SMF', 'VBE']);
/** The VMOD platform's own counters (`VMOD.jobs_run`): `shellac_vmod_<field>`, no module label. */
const PLATFORM_GROUP = 'VMOD';

/** Characters a metric name cannot hold become `_`. */
function clean(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

/** The field with its unit, as Prometheus names units: in base units, at the end. */
function withUnit(field: string, format: CounterFormat): string {
  if (format === 'bytes') {
    if (field.endsWith('_bytes') || field === 'bytes') return field;
    if (field.endsWith('bytes')) return `${field.slice(0, -5)}_bytes`;
    return `${field}_bytes`;
  }
  if (format === 'duration' && !field.endsWith('_seconds')) return `${field}_seconds`;
  return field;
}

/** The family name of a counter of `group` declared as `d`. */
export function metricName(group: string, d: Pick<CounterDecl, 'name' | 'type' | 'format'>): string {
  const prefix = OWN_GROUPS.has(group) || group === PLATFORM_GROUP ? `shellac_${clean(group)}` : `shellac_vmod_${clean(group)}`;
  const base = `${prefix}_${clean(withUnit(d.name, d.format ?? 'count'))}`;
  return d.type === 'counter' ? `${base}_total` : base;
}

function counterLabels(s: CounterSample): Record<string, string> {
  // A VMOD's counters carry the module as a label too, so that `{vmod="ratelimit"}` or
  // `{vmod!=""}` selects them without knowing each name.
  if (!OWN_GROUPS.has(s.group) && s.group !== PLATFORM_GROUP) return s.ident === '' ? { vmod: s.group.toLowerCase() } : { vmod: s.group.toLowerCase(), instance: s.ident };
  if (s.ident === '') return {};
  if (s.group === 'SMA' || s.group === 'SMF') return { storage: s.ident };
  if (s.group === 'VBE') {
    // The VCL name has no dots (VCL names are identifiers); the backend name may, after it.
    const dot = s.ident.indexOf('.');
    return { vcl: s.ident.slice(0, dot), backend: s.ident.slice(dot + 1) };
  }
  return { instance: s.ident };
}

/** The registry's counters as families, in the order they come, one family per name. */
export function counterFamilies(samples: readonly CounterSample[]): MetricFamily[] {
  const families = new Map<string, { name: string; type: MetricType; help: string; samples: MetricSample[] }>();
  for (const s of samples) {
    const name = metricName(s.group, { name: s.field, type: s.type, format: s.format });
    let fam = families.get(name);
    if (!fam) {
      fam = { name, type: s.type === 'counter' ? 'counter' : 'gauge', help: s.docs, samples: [] };
      families.set(name, fam);
    }
    fam.samples.push({ suffix: '', labels: counterLabels(s), value: s.value });
  }
  return [...families.values()];
}

/** A latency histogram as a family: cumulative `le` buckets, +Inf, sum and count per label. */
export function histogramFamily(h: LatencyHistogram): MetricFamily {
  const samples: MetricSample[] = [];
  for (const [value, s] of h.series) {
    let cumulative = 0;
    LATENCY_BUCKETS.forEach((le, i) => {
      cumulative += s.counts[i];
      samples.push({ suffix: '_bucket', labels: { [h.label]: value, le: String(le) }, value: cumulative });
    });
    samples.push({ suffix: '_bucket', labels: { [h.label]: value, le: '+Inf' }, value: s.count });
    samples.push({ suffix: '_sum', labels: { [h.label]: value }, value: s.sum });
    samples.push({ suffix: '_count', labels: { [h.label]: value }, value: s.count });
  }
  return { name: h.name, type: 'histogram', help: h.help, samples };
}

/** The text format: HELP and TYPE once per family, then its samples. */
export function renderExposition(families: readonly MetricFamily[]): string {
  let out = '';
  for (const f of families) {
    out += `# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) out += `${f.name}${s.suffix}${renderLabels(s.labels)} ${formatValue(s.value)}\n`;
  }
  return out;
}

function renderLabels(labels: Readonly<Record<string, string>>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

/** docs/metrics.md: every counter of the table, its Varnish name and its metric. */
export function renderMetricDocs(extra: readonly Pick<MetricFamily, 'name' | 'type' | 'help'>[]): string {
  const ident: Readonly<Record<CounterGroup, string>> = { MGT: '', MAIN: '', SMA: '.<storage>', SMF: '.<storage>', VBE: '.<vcl>.<backend>' };
  const labels: Readonly<Record<CounterGroup, string>> = { MGT: '', MAIN: '', SMA: '`storage`', SMF: '`storage`', VBE: '`vcl`, `backend`' };
  let out = '# Metrics\n\n';
  out += '<!-- Generated by `node src/mgmt/metric-docs.ts > docs/metrics.md` from src/mgmt/counter-table.ts\n';
  out += '     and src/mgmt/prometheus.ts; test/mgmt/prometheus.test.ts fails when it drifts. -->\n\n';
  out += 'What `GET /metrics` serves (see [operations.md](operations.md#prometheus)). Each Varnish counter\n';
  out += 'keeps its `shellac stat` name; its Prometheus name follows the rules in `src/mgmt/prometheus.ts`:\n';
  out += 'counters end in `_total`, bytes in `_bytes`, seconds in `_seconds`, identities are labels. A\n';
  out += "VMOD's counter `MODULE.name` (or `MODULE.instance.name`) becomes `shellac_vmod_<module>_<name>`,\n";
  out += 'with `_total` for a counter, the label `vmod` (the module) and the label `instance` for an\n';
  out += "object's counters.\n\n";
  out += '## Beyond the counters\n\n| metric | type | description |\n| --- | --- | --- |\n';
  for (const f of extra) out += `| \`${f.name}\` | ${f.type} | ${f.help} |\n`;
  out += '\n## Counters\n\n| Varnish counter | metric | type | labels | description |\n| --- | --- | --- | --- | --- |\n';
  for (const group of Object.keys(COUNTER_TABLE) as CounterGroup[]) {
    for (const d of COUNTER_TABLE[group] as readonly CounterDecl[]) {
      const type = d.type === 'counter' ? 'counter' : 'gauge';
      out += `| \`${group}${ident[group]}.${d.name}\` | \`${metricName(group, d)}\` | ${type} | ${labels[group]} | ${d.docs} |\n`;
    }
  }
  return out;
}
