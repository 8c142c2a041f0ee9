// The run-time parameters of one Shellac instance: typed values read by the other parts, set
// from `-p` and the admin CLI with validation, reset, and change listeners. What parameters exist
// is param-table.ts; how they are shown is param-show.ts.
//
// Readers on hot paths keep `params.values` and read a property (`values.max_restarts`): the
// object lives as long as the Params, and a set replaces the property's value in place.

import { BYTE_UNITS, DURATION_UNITS } from './units.ts';
import { PARAM_TABLE, type ParamDecl, type ParamType } from './param-table.ts';

type Decl = (typeof PARAM_TABLE)[number];
export type ParamName = Decl['name'];

type ValueOfType<T extends ParamType> = T extends 'seconds' | 'bytes' | 'uint'
  ? number
  : T extends 'bool'
    ? boolean
    : T extends 'list'
      ? readonly string[]
      : T extends 'bits'
        ? ReadonlySet<string>
        : string;

/** One property per parameter, typed by the table: seconds, bytes and uint are numbers. */
export type ParamValues = { readonly [N in ParamName]: ValueOfType<Extract<Decl, { name: N }>['type']> };
export type ParamValue = ParamValues[ParamName];

/** A refused `-p` or param.set; the message reads as varnishd's. Status 106 on the admin CLI. */
export class ParamError extends Error {
  override name = 'ParamError';
  readonly status: number = 106;
}

/** param.set or param.reset of a parameter protected by `-r`: status 107, as varnishd's. */
export class ParamProtectedError extends ParamError {
  override readonly status = 107;
}

const BY_NAME: ReadonlyMap<string, ParamDecl> = new Map(PARAM_TABLE.map((d) => [d.name, d]));

export function paramDecl(name: string): ParamDecl | undefined {
  return BY_NAME.get(name);
}

export function paramNames(): ParamName[] {
  return PARAM_TABLE.map((d) => d.name).sort();
}

export function isParamName(name: string): name is ParamName {
  return BY_NAME.has(name);
}

// ---- reading values ----

const TRUE_WORDS = new Set(['on', 'true', 'yes', 'enable']);
const FALSE_WORDS = new Set(['off', 'false', 'no', 'disable']);

/** `10`, `0.5`, `1e3`, `10s`, `500ms`, `2m`, `1h`, `1d`, `1w`, `1y` → seconds. */
export function parseSeconds(text: string): number | undefined {
  const m = /^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*(ms|s|m|h|d|w|y)?\s*$/i.exec(text);
  return m ? Number(m[1]) * (m[2] === undefined ? 1 : DURATION_UNITS[m[2].toLowerCase()]) : undefined;
}

/** `512`, `512b`, `8k`, `0.25k`, `1M`, `2G`, `1kB` → bytes (whole). */
export function parseBytes(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d*)?|\.\d+)\s*(?:([kmgtp])b?|b)?\s*$/i.exec(text);
  return m ? Math.floor(Number(m[1]) * (m[2] === undefined ? 1 : BYTE_UNITS[m[2].toLowerCase()])) : undefined;
}

/** Bytes as varnishd prints them: the largest unit that keeps it exact, or two decimals of it. */
export function formatBytes(n: number): string {
  if (n === 0 || n % 256 !== 0) return `${n}b`;
  let t = n;
  for (const unit of 'kMGTP') {
    if (t % 1024 !== 0) return `${(t / 1024).toFixed(2)}${unit}`;
    t /= 1024;
    if (t % 256 !== 0) return `${t}${unit}`;
  }
  return `${t}P`;
}

/** Reads `text` as a value of `decl`; throws ParamError with the reason (bounds included). */
export function parseParamValue(decl: ParamDecl, text: string, current?: ParamValue): ParamValue {
  switch (decl.type) {
    case 'seconds': {
      const v = parseSeconds(text);
      if (v === undefined || !Number.isFinite(v)) throw new ParamError(`Invalid number (${text})`);
      if (decl.min !== undefined && v < parseSeconds(decl.min)!) {
        throw new ParamError(`Must be greater or equal to ${formatSeconds(parseSeconds(decl.min)!)}`);
      }
      if (decl.max !== undefined && v > parseSeconds(decl.max)!) {
        throw new ParamError(`Must be less than or equal to ${formatSeconds(parseSeconds(decl.max)!)}`);
      }
      return v;
    }
    case 'uint': {
      if (!/^\s*\d+\s*$/.test(text)) throw new ParamError(`Not a number (${text})`);
      const v = Number(text);
      if (!Number.isSafeInteger(v)) throw new ParamError(`Not a number (${text})`);
      if (decl.min !== undefined && v < Number(decl.min)) throw new ParamError(`Must be at least ${decl.min}`);
      if (decl.max !== undefined && v > Number(decl.max)) throw new ParamError(`Must be no more than ${decl.max}`);
      return v;
    }
    case 'bytes': {
      const v = parseBytes(text);
      if (v === undefined || !Number.isSafeInteger(v)) {
        throw new ParamError(`Invalid size (${text}): a number with an optional unit b, k, m, g, t or p, such as '80k' or '120M'`);
      }
      if (decl.min !== undefined && v < parseBytes(decl.min)!) throw new ParamError(`Must be at least ${decl.min}`);
      if (decl.max !== undefined && v > parseBytes(decl.max)!) throw new ParamError(`Must be no more than ${decl.max}`);
      return v;
    }
    case 'bool': {
      const w = text.trim().toLowerCase();
      if (TRUE_WORDS.has(w)) return true;
      if (FALSE_WORDS.has(w)) return false;
      throw new ParamError('use "on" or "off"');
    }
    case 'list':
      return text.split(':').filter((s) => s !== '');
    case 'bits':
      return parseBits(decl, text, current instanceof Set ? current : undefined);
    case 'string':
      return text;
    case 'enum': {
      const w = text.trim();
      if (!(decl.values ?? []).includes(w)) throw new ParamError(`Must be one of ${(decl.values ?? []).join(', ')} (${text})`);
      return w;
    }
  }
}

/** `+a,-b`, `none`, `default`; applied in order to the current set (or the empty set). */
function parseBits(decl: ParamDecl, text: string, current: ReadonlySet<string> | undefined): ReadonlySet<string> {
  const out = new Set(current ?? []);
  for (const raw of text.split(',')) {
    const tok = raw.trim();
    if (tok === '') continue;
    if (tok === 'none') {
      out.clear();
      continue;
    }
    if (tok === 'default') {
      out.clear();
      for (const b of parseBits(decl, decl.default, new Set())) out.add(b);
      continue;
    }
    const sign = tok[0];
    const bit = tok.slice(1);
    if (sign !== '+' && sign !== '-') throw new ParamError(`Missing '+' or '-' (${tok})`);
    if (decl.mask ? !/^\w+$/.test(bit) : !(decl.bits && Object.hasOwn(decl.bits, bit))) {
      throw new ParamError(`Unknown ${decl.name} bit (${tok})`);
    }
    // A mask holds what is switched off: `-name` adds to it.
    if ((sign === '+') !== Boolean(decl.mask)) out.add(bit);
    else out.delete(bit);
  }
  return out;
}

// ---- printing values ----

export function formatSeconds(v: number): string {
  return v.toFixed(3);
}

/** The value as param.show prints it, without the unit. */
export function formatParamValue(decl: ParamDecl, v: ParamValue): string {
  switch (decl.type) {
    case 'seconds':
      return formatSeconds(v as number);
    case 'bytes':
      return formatBytes(v as number);
    case 'uint':
      return String(v);
    case 'bool':
      return v ? 'on' : 'off';
    case 'list':
      return (v as readonly string[]).join(':');
    case 'bits':
      return formatBits(decl, v as ReadonlySet<string>);
    case 'string':
    case 'enum':
      return v as string;
  }
}

function formatBits(decl: ParamDecl, set: ReadonlySet<string>): string {
  if (decl.mask) return set.size === 0 ? 'none' : [...set].map((b) => `-${b}`).join(',');
  const order = Object.keys(decl.bits ?? {});
  const on = order.filter((b) => set.has(b));
  return on.length === 0 ? 'none' : on.map((b) => `+${b}`).join(',');
}

// ---- the live parameter set ----

export type ParamListener = (name: ParamName, params: Params) => void;

export class Params {
  /** The live values: one property per parameter, updated in place by set and reset. */
  readonly values: ParamValues;
  readonly #mutable: Record<string, ParamValue>;
  readonly #listeners = new Set<ParamListener>();
  /** Parameters declared at run time by VMODs (`$Param`): `<module>.<name>`. */
  readonly #declared = new Map<string, ParamDecl>();
  /** Parameters `-r` made read-only: param.set and param.reset refuse them. */
  readonly #protected = new Set<string>();
  /** `-p module.name=value` given before the VMOD that declares it was loaded. */
  readonly #pending = new Map<string, string>();

  /**
   * Defaults, then each `[name, value]` in order (from `-p`); a bad one throws ParamError. A
   * dotted name (`ratelimit.burst`) is a VMOD's parameter: kept, and checked when declared.
   */
  constructor(overrides: Iterable<readonly [string, string]> = []) {
    const values: Record<string, ParamValue> = {};
    for (const d of PARAM_TABLE) values[d.name] = parseParamValue(d, d.default);
    this.#mutable = values;
    this.values = values as unknown as ParamValues;
    for (const [name, text] of overrides) {
      if (name.includes('.') && !this.has(name)) this.#pending.set(name, text);
      else this.set(name, text, { startup: true });
    }
  }

  /** `-r name,name`: these can no longer be changed at run time. An unknown name throws. */
  protect(names: Iterable<string>): void {
    for (const name of names) {
      if (!this.has(name)) throw new ParamError(`Unknown parameter ${name}`);
      this.#protected.add(name);
    }
  }

  isProtected(name: string): boolean {
    return this.#protected.has(name);
  }

  get<N extends ParamName>(name: N): ParamValues[N] {
    return this.values[name];
  }

  /** The declaration of a core or declared parameter. */
  decl(name: string): ParamDecl | undefined {
    return BY_NAME.get(name) ?? this.#declared.get(name);
  }

  has(name: string): boolean {
    return this.decl(name) !== undefined;
  }

  /** Every parameter name, core and declared, sorted. */
  names(): string[] {
    return [...paramNames(), ...this.#declared.keys()].sort();
  }

  /**
   * Declares a VMOD's parameter (again, after a reload: the value set so far is kept when the
   * new declaration accepts it). A `-p` value given at start is checked now; a bad one throws.
   */
  declare(decl: ParamDecl): void {
    if (BY_NAME.has(decl.name)) throw new ParamError(`"${decl.name}" is a core parameter`);
    const before = this.#declared.get(decl.name);
    const current = before === undefined ? undefined : formatParamValue(before, this.#mutable[decl.name]);
    this.#declared.set(decl.name, decl);
    const pending = this.#pending.get(decl.name);
    this.#mutable[decl.name] = parseParamValue(decl, decl.default);
    if (pending !== undefined) {
      this.#pending.delete(decl.name);
      this.set(decl.name, pending, { startup: true });
      return;
    }
    if (current !== undefined) {
      try {
        this.#mutable[decl.name] = parseParamValue(decl, current);
      } catch {
        // The new declaration refuses the old value: the new default holds.
      }
    }
  }

  /**
   * Validates and sets; throws ParamError (unknown name, bad value, out of bounds, a readonly
   * parameter outside `startup`, which is what -p passes).
   */
  set(name: string, text: string, opts: { startup?: boolean } = {}): void {
    const decl = this.decl(name);
    if (!decl) throw new ParamError(`Unknown parameter "${name}".`);
    if (this.#protected.has(name) && opts.startup !== true) throw new ParamProtectedError(`parameter "${name}" is protected.`);
    if (decl.flags?.includes('readonly') && opts.startup !== true) {
      throw new ParamError(`parameter "${name}" is read only: it is not tunable online, set it with -p at start`);
    }
    let v: ParamValue;
    try {
      v = parseParamValue(decl, text, this.#mutable[name]);
      const problem = decl.check?.(v, this.#mutable) ?? null;
      if (problem !== null) throw new ParamError(problem);
    } catch (e) {
      if (!(e instanceof ParamError)) throw e;
      throw new ParamError(`${e.message}\n\n(attempting to set param '${name}' to '${text}')`);
    }
    this.#mutable[name] = v;
    this.#notify(name as ParamName);
  }

  /**
   * What the manager replays into a new child (`param.replay`): a VMOD parameter whose VMOD is
   * not loaded yet (its VCL comes later in the replay) is held as a `-p` value is, and set when
   * the VMOD declares it; any other is set (`text`) or reset (`undefined`) at once.
   */
  replay(name: string, text: string | undefined): void {
    if (name.includes('.') && !this.has(name)) {
      if (text === undefined) this.#pending.delete(name);
      else this.#pending.set(name, text);
      return;
    }
    if (text === undefined) this.reset(name);
    else this.set(name, text);
  }

  reset(name: string): void {
    const decl = this.decl(name);
    if (!decl) throw new ParamError(`Unknown parameter "${name}".`);
    if (this.#protected.has(name)) throw new ParamProtectedError(`parameter "${name}" is protected.`);
    if (decl.flags?.includes('readonly')) throw new ParamError(`parameter "${name}" is read only: it is not tunable online`);
    this.#mutable[name] = parseParamValue(decl, decl.default);
    this.#notify(name as ParamName);
  }

  /** The value as param.show prints it (`120.000`, `32k`, `on`), without the unit. */
  text(name: string): string {
    return formatParamValue(this.decl(name)!, this.#mutable[name]);
  }

  isDefault(name: string): boolean {
    const decl = this.decl(name)!;
    return this.text(name) === formatParamValue(decl, parseParamValue(decl, decl.default));
  }

  /** Called after every set or reset (even to the same value); returns the unsubscribe. */
  onChange(listener: ParamListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #notify(name: ParamName): void {
    for (const l of this.#listeners) l(name, this);
  }
}
