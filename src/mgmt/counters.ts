// The counter registry: parts hand it plain objects of numbers they bump themselves (one
// property increment on the hot path), and it reads them only when someone asks (stat, /metrics,
// the admin CLI, tests). It never reaches into a part: a source is an object whose own
// enumerable properties are counters named as in counter-table.ts (getters are fine for values
// computed on demand, such as a map's size).
//
// MAIN and MGT sources are summed: several parts may count into MAIN. SMA and VBE sources are
// keyed by an identity: the storage name (`s0`) or `<vcl>.<backend>` (`boot.default`).

import {
  type BackendCounterSource,
  COUNTER_TABLE,
  type CounterDecl,
  type CounterFormat,
  type CounterGroup,
  type CounterType,
  type MainCounterSource,
  type StorageCounterSource,
} from './counter-table.ts';

/** One counter's value at snapshot time, with what the table says of it. */
export interface CounterSample {
  /** The full name: `MAIN.client_req`, `VBE.boot.default.req`. */
  readonly name: string;
  /** MGT, MAIN, SMA, VBE, or a VMOD's section (its name in capitals: `RATELIMIT`). */
  readonly group: CounterGroup | (string & {});
  /** `boot.default` for VBE, `s0` for SMA, '' for MAIN and MGT. */
  readonly ident: string;
  /** The field: `client_req`, `req`. */
  readonly field: string;
  readonly value: number;
  readonly type: CounterType;
  readonly format: CounterFormat;
  readonly docs: string;
}

type Source = Readonly<Record<string, unknown>>;

/**
 * Counters declared at run time rather than in the table: a VMOD's `$Counter`s, shown as
 * `<section>.<name>` or `<section>.<ident>.<name>` (an object instance's).
 */
export interface CounterSectionSource {
  readonly section: string;
  readonly ident: string;
  readonly decls: readonly { readonly name: string; readonly type: 'counter' | 'gauge'; readonly doc: string }[];
  readonly source: Readonly<Record<string, number>>;
}

interface Entry {
  /** MGT, MAIN, SMA, VBE, or a VMOD's section (its name in capitals: `RATELIMIT`). */
  readonly group: CounterGroup | (string & {});
  readonly ident: string;
  readonly source: Source;
}

const DECLS: Readonly<Record<CounterGroup, ReadonlyMap<string, CounterDecl>>> = {
  MGT: new Map(COUNTER_TABLE.MGT.map((d) => [d.name, d])),
  MAIN: new Map(COUNTER_TABLE.MAIN.map((d) => [d.name, d])),
  SMA: new Map(COUNTER_TABLE.SMA.map((d) => [d.name, d])),
  SMF: new Map(COUNTER_TABLE.SMF.map((d) => [d.name, d])),
  VBE: new Map(COUNTER_TABLE.VBE.map((d) => [d.name, d])),
};

export class CounterRegistry {
  readonly #entries: Entry[] = [];
  readonly #sections = new Set<() => Iterable<CounterSectionSource>>();
  readonly #started: number;
  readonly #mgtStarted: number;
  readonly #clock: () => number;

  /**
   * `clock` gives milliseconds (Date.now by default); uptimes count from construction, and
   * MGT.uptime from `mgtStarted` when given (a child counts the manager's uptime there).
   */
  constructor(opts: { clock?: () => number; mgtStarted?: number } = {}) {
    this.#clock = opts.clock ?? Date.now;
    this.#started = this.#clock();
    this.#mgtStarted = opts.mgtStarted ?? this.#started;
  }

  /**
   * Adds a source of counters; returns the function that removes it (a discarded VCL's
   * backends, a closed storage). Throws when a field is not declared for the group: the table
   * is the one place counters are named.
   */
  add(group: 'MAIN', source: MainCounterSource): () => void;
  add(group: 'MGT', source: Source): () => void;
  add(group: 'SMA' | 'SMF', source: StorageCounterSource, storage: string): () => void;
  add(group: 'VBE', source: BackendCounterSource, vclDotBackend: string): () => void;
  add(group: CounterGroup, source: object, ident = ''): () => void {
    const decls = DECLS[group];
    if (!decls) throw new Error(`unknown counter group ${group}`);
    if ((group === 'SMA' || group === 'SMF' || group === 'VBE') === (ident === '')) {
      throw new Error(`counter group ${group} ${ident ? 'takes no' : 'needs an'} identity`);
    }
    for (const key of Object.keys(source)) {
      if (!decls.has(key)) {
        throw new Error(`counter ${group}.${ident ? `${ident}.` : ''}${key} is not declared in src/mgmt/counter-table.ts`);
      }
    }
    const entry: Entry = { group, ident, source: source as Source };
    this.#entries.push(entry);
    return () => {
      const i = this.#entries.indexOf(entry);
      if (i >= 0) this.#entries.splice(i, 1);
    };
  }

  /**
   * Adds a provider of run-time sections (the VMOD platform's), read at each snapshot; returns
   * its removal. Their names come with them, not from the table.
   */
  addSections(provider: () => Iterable<CounterSectionSource>): () => void {
    this.#sections.add(provider);
    return () => this.#sections.delete(provider);
  }

  /** A backend's counters, shown as VBE.<vcl>.<backend>.<field>. */
  addBackend(vcl: string, backend: string, source: BackendCounterSource): () => void {
    return this.add('VBE', source, `${vcl}.${backend}`);
  }

  /** Seconds since the registry was made (the process's and the server's uptime). */
  uptime(): number {
    return Math.floor((this.#clock() - this.#started) / 1000);
  }

  /** Every counter now: MGT, MAIN (all declared, 0 when nobody counts it), SMA, VBE. */
  snapshot(): CounterSample[] {
    const out: CounterSample[] = [];
    const uptime = this.uptime();
    for (const group of ['MGT', 'MAIN'] as const) {
      const sums = new Map<string, number>();
      for (const e of this.#entries) if (e.group === group) addInto(sums, e.source);
      sums.set('uptime', group === 'MGT' ? Math.floor((this.#clock() - this.#mgtStarted) / 1000) : uptime);
      if (group === 'MGT') sums.set('child_start', Math.max(1, sums.get('child_start') ?? 0));
      for (const d of COUNTER_TABLE[group]) out.push(sample(group, '', d, sums.get(d.name) ?? 0));
    }
    for (const group of ['SMA', 'SMF', 'VBE'] as const) {
      const byIdent = new Map<string, Map<string, number>>();
      for (const e of this.#entries) {
        if (e.group !== group) continue;
        let sums = byIdent.get(e.ident);
        if (!sums) {
          sums = new Map();
          byIdent.set(e.ident, sums);
        }
        addInto(sums, e.source);
      }
      for (const [ident, sums] of byIdent) {
        for (const d of COUNTER_TABLE[group]) out.push(sample(group, ident, d, sums.get(d.name) ?? 0));
      }
    }
    for (const provider of this.#sections) {
      for (const sec of provider()) {
        for (const d of sec.decls) {
          const v = sec.source[d.name];
          out.push(sample(sec.section, sec.ident, { name: d.name, type: d.type, docs: d.doc.split('\n')[0] }, Number.isFinite(v) ? v : 0));
        }
      }
    }
    return out;
  }

  /** One counter by full name (`MAIN.client_req`) or MAIN field (`client_req`); for tests. */
  value(name: string): number | undefined {
    const full = name.includes('.') ? name : `MAIN.${name}`;
    return this.snapshot().find((s) => s.name === full)?.value;
  }
}

function addInto(sums: Map<string, number>, source: Source): void {
  for (const key of Object.keys(source)) {
    const v = source[key];
    if (typeof v === 'number' && Number.isFinite(v)) sums.set(key, (sums.get(key) ?? 0) + v);
  }
}

function sample(group: CounterSample['group'], ident: string, d: CounterDecl, value: number): CounterSample {
  return {
    name: ident ? `${group}.${ident}.${d.name}` : `${group}.${d.name}`,
    group,
    ident,
    field: d.name,
    value,
    type: d.type,
    format: d.format ?? 'count',
    docs: d.docs,
  };
}
