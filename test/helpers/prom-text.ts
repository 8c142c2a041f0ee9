// The Prometheus text exposition format (0.0.4), its rules written once for the tests: a strict
// parser that throws on any line the format does not allow, and checks of the conventions
// Prometheus users expect (HELP and TYPE once per family before its samples, counters ending in
// _total, histograms with cumulative `le` buckets ending in +Inf equal to _count).

export interface PromSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PromFamily {
  readonly name: string;
  type: string;
  help: string | undefined;
  readonly samples: PromSample[];
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** The family a sample belongs to: its name less a histogram's or summary's suffix. */
function familyOf(name: string, families: ReadonlyMap<string, PromFamily>): PromFamily | undefined {
  const direct = families.get(name);
  if (direct) return direct;
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue;
    const f = families.get(name.slice(0, -suffix.length));
    if (f && (f.type === 'histogram' || (f.type === 'summary' && suffix !== '_bucket'))) return f;
  }
  return undefined;
}

function unescapeText(text: string, quote: boolean): string {
  return text.replace(quote ? /\\(["\\n])/g : /\\([\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseLabels(text: string, line: number): Record<string, string> {
  const out: Record<string, string> = {};
  let rest = text.trim();
  while (rest !== '') {
    const m = /^([^=\s]+)\s*=\s*"((?:[^"\\\n]|\\["\\n])*)"\s*(,\s*)?/.exec(rest);
    if (!m) throw new Error(`line ${line}: bad labels '${text}'`);
    if (!LABEL.test(m[1]) || m[1].startsWith('__')) throw new Error(`line ${line}: bad label name '${m[1]}'`);
    if (Object.hasOwn(out, m[1])) throw new Error(`line ${line}: label '${m[1]}' twice`);
    out[m[1]] = unescapeText(m[2], true);
    rest = rest.slice(m[0].length);
    if (rest !== '' && m[3] === undefined) throw new Error(`line ${line}: expected ',' in '${text}'`);
  }
  return out;
}

function parseValue(text: string, line: number): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  if (text === 'NaN') return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new Error(`line ${line}: bad value '${text}'`);
  return Number(text);
}

/** Parses an exposition; throws with the line number on anything the format does not allow. */
export function parsePromText(text: string): Map<string, PromFamily> {
  if (text !== '' && !text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, PromFamily>();
  const seen = new Set<string>();
  const lines = text.split('\n').slice(0, -1);
  lines.forEach((raw, i) => {
    const n = i + 1;
    if (raw.trim() === '') return;
    if (raw.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(raw);
      if (!m) return; // a comment
      const [, kind, name, rest] = m;
      if (!METRIC.test(name)) throw new Error(`line ${n}: bad metric name '${name}'`);
      let f = families.get(name);
      if (!f) {
        f = { name, type: 'untyped', help: undefined, samples: [] };
        families.set(name, f);
      }
      if (f.samples.length > 0) throw new Error(`line ${n}: ${kind} for ${name} after its samples`);
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new Error(`line ${n}: second HELP for ${name}`);
        f.help = unescapeText(rest, false);
      } else {
        if (!TYPES.has(rest)) throw new Error(`line ${n}: bad type '${rest}'`);
        if (seen.has(`type ${name}`)) throw new Error(`line ${n}: second TYPE for ${name}`);
        seen.add(`type ${name}`);
        f.type = rest;
      }
      return;
    }
    const m = /^([^\s{]+)(?:\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?$/.exec(raw);
    if (!m) throw new Error(`line ${n}: not a sample: '${raw}'`);
    const [, name, labelText, valueText] = m;
    if (!METRIC.test(name)) throw new Error(`line ${n}: bad metric name '${name}'`);
    const labels = parseLabels(labelText ?? '', n);
    const key = `${name}{${Object.entries(labels)
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(',')}}`;
    if (seen.has(key)) throw new Error(`line ${n}: series ${key} twice`);
    seen.add(key);
    let f = familyOf(name, families);
    if (!f) {
      f = { name, type: 'untyped', help: undefined, samples: [] };
      families.set(name, f);
    }
    f.samples.push({ name, labels, value: parseValue(valueText, n) });
  });
  return families;
}

/** Every rule of the conventions a family breaks (empty when it follows them all). */
export function conventionProblems(f: PromFamily): string[] {
  const out: string[] = [];
  if (f.type === 'untyped') out.push(`${f.name}: no TYPE`);
  if (!f.help) out.push(`${f.name}: no HELP`);
  if (f.type === 'counter' && !f.name.endsWith('_total')) out.push(`${f.name}: a counter not ending in _total`);
  if (f.type !== 'counter' && f.name.endsWith('_total')) out.push(`${f.name}: ends in _total but is a ${f.type}`);
  if (/_(milliseconds|microseconds|kilobytes|megabytes|ms|us)(_|$)/.test(f.name)) out.push(`${f.name}: not in base units`);
  for (const s of f.samples) {
    if (s.value < 0 && f.type === 'counter') out.push(`${s.name}: a negative counter`);
  }
  if (f.type === 'histogram') {
    const bySeries = new Map<string, { le: number; value: number }[]>();
    const counts = new Map<string, number>();
    for (const s of f.samples) {
      const { le, ...rest } = s.labels;
      const key = JSON.stringify(rest);
      if (s.name === `${f.name}_bucket`) {
        if (le === undefined) out.push(`${s.name}: a bucket without le`);
        else bySeries.set(key, [...(bySeries.get(key) ?? []), { le: parseValue(le, 0), value: s.value }]);
      } else if (s.name === `${f.name}_count`) counts.set(key, s.value);
      else if (s.name !== `${f.name}_sum`) out.push(`${s.name}: not a histogram sample`);
    }
    for (const [key, buckets] of bySeries) {
      const sorted = [...buckets].sort((a, b) => a.le - b.le);
      if (sorted[sorted.length - 1]?.le !== Number.POSITIVE_INFINITY) out.push(`${f.name}${key}: no +Inf bucket`);
      for (let i = 1; i < sorted.length; i++) if (sorted[i].value < sorted[i - 1].value) out.push(`${f.name}${key}: buckets not cumulative`);
      if (counts.get(key) !== sorted[sorted.length - 1]?.value) out.push(`${f.name}${key}: +Inf bucket differs from _count`);
    }
  }
  return out;
}
