// Counters as text: varnishstat -1 lines (name, value, average rate, description), the JSON of
// varnishstat -j, the Prometheus text exposition format, and -f glob filtering.

import type { CounterSample } from './counters.ts';

/** The fields of a sample that travel over the admin connection (counters.show -j). */
export type CounterRow = Pick<CounterSample, 'name' | 'value' | 'type' | 'format' | 'docs'>;

/**
 * `-f` filters as varnishstat reads them: globs with `*` and `?` on the full name, `^glob`
 * excludes. With no include pattern everything not excluded passes.
 */
export function counterFilter(patterns: readonly string[]): (name: string) => boolean {
  const include: RegExp[] = [];
  const exclude: RegExp[] = [];
  for (const p of patterns) {
    if (p.startsWith('^')) exclude.push(globRegExp(p.slice(1)));
    else include.push(globRegExp(p));
  }
  return (name) => !exclude.some((re) => re.test(name)) && (include.length === 0 || include.some((re) => re.test(name)));
}

export function globRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

function uptimeFor(rows: readonly CounterRow[], name: string): number {
  return rows.find((r) => r.name === name)?.value ?? 0;
}

/** `NAME   VALUE   RATE DESCRIPTION`; rate is the average per second since start, `.` for gauges. */
export function formatStatLines(rows: readonly CounterRow[]): string {
  const nameWidth = Math.max(0, ...rows.map((r) => r.name.length));
  const mainUptime = uptimeFor(rows, 'MAIN.uptime');
  const mgtUptime = uptimeFor(rows, 'MGT.uptime');
  return rows
    .map((r) => {
      const uptime = r.name.startsWith('MGT.') ? mgtUptime : mainUptime;
      const rate = r.type === 'counter' ? (uptime > 0 ? r.value / uptime : 0).toFixed(2) : '.  ';
      return `${r.name.padEnd(nameWidth)} ${String(r.value).padStart(12)} ${rate.padStart(12)} ${r.docs}\n`;
    })
    .join('');
}

const FLAG = { counter: 'c', gauge: 'g', bitmap: 'b' } as const;
const FORMAT = { count: 'i', bytes: 'B', duration: 'd' } as const;

/** The JSON of varnishstat -j: version, timestamp and one object per counter. */
export function statJson(rows: readonly CounterRow[], now = new Date()): Record<string, unknown> {
  const counters: Record<string, unknown> = {};
  for (const r of rows) {
    counters[r.name] = {
      description: r.docs,
      flag: FLAG[r.type],
      format: r.type === 'bitmap' ? 'b' : FORMAT[r.format],
      value: r.value,
    };
  }
  return { version: 1, timestamp: now.toISOString().slice(0, 19), counters };
}

/** Reads statJson's output back into rows (what `shellac stat` receives). */
export function rowsFromStatJson(json: unknown): CounterRow[] {
  const counters = (json as { counters?: Record<string, Record<string, unknown>> }).counters;
  if (!counters || typeof counters !== 'object') throw new Error('not a counters document');
  const types = { c: 'counter', g: 'gauge', b: 'bitmap' } as const;
  const formats = { i: 'count', B: 'bytes', d: 'duration', b: 'count' } as const;
  return Object.entries(counters).map(([name, c]) => ({
    name,
    value: Number(c.value),
    type: types[c.flag as keyof typeof types] ?? 'counter',
    format: formats[c.format as keyof typeof formats] ?? 'count',
    docs: String(c.description ?? ''),
  }));
}

/**
 * The Prometheus text format: one family per field, `shellac_<group>_<field>`, with VBE and SMA
 * identities as labels (`vcl`, `backend`; `storage`) so a dashboard sums over backends.
 */
export function renderPrometheus(samples: readonly CounterSample[]): string {
  const families = new Map<string, { help: string; type: string; lines: string[] }>();
  for (const s of samples) {
    const metric = `shellac_${s.group.toLowerCase()}_${s.field}`;
    let fam = families.get(metric);
    if (!fam) {
      fam = { help: s.docs, type: s.type === 'counter' ? 'counter' : 'gauge', lines: [] };
      families.set(metric, fam);
    }
    fam.lines.push(`${metric}${labels(s)} ${s.value}`);
  }
  let out = '';
  for (const [metric, fam] of families) {
    out += `# HELP ${metric} ${fam.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${metric} ${fam.type}\n`;
    out += `${fam.lines.join('\n')}\n`;
  }
  return out;
}

function labels(s: CounterSample): string {
  if (s.group === 'SMA') return `{storage="${escapeLabel(s.ident)}"}`;
  if (s.group === 'VBE') {
    // The VCL name has no dots (VCL names are identifiers); the backend name may, after it.
    const dot = s.ident.indexOf('.');
    return `{vcl="${escapeLabel(s.ident.slice(0, dot))}",backend="${escapeLabel(s.ident.slice(dot + 1))}"}`;
  }
  // A VMOD object instance's counters (RATELIMIT.<instance>.<name>).
  if (s.ident !== '') return `{instance="${escapeLabel(s.ident)}"}`;
  return '';
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
