// The platform stanzas of a manifest: `$Counter`, `$Param`, `$Command`, `$Requires` and the
// version form of `$ABI`. Each reads one stanza's text into a typed entry or says what is wrong
// with it; vcc.ts files the entry, checks its name is new and gives it the prose that follows.

import type { ParamDecl } from '../common/param-table.ts';
import { ParamError, parseParamValue } from '../common/params.ts';
import { VMOD_PARAM_TYPES, type VmodCommand, type VmodCounter, type VmodParam, type VmodParamType } from './manifest.ts';
import { isIdentifier } from './vcc-signature.ts';

/** An entry before its prose is known. */
type Draft<T> = Omit<T, 'doc' | 'line'>;

/** Words of a stanza, a quoted word kept whole (quotes removed). */
function tokens(text: string): string[] | string {
  const out: string[] = [];
  const re = /\s*(?:"([^"]*)"|([^\s"]+))/y;
  let end = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    out.push(m[1] ?? m[2]);
    end = re.lastIndex;
  }
  if (text.slice(end).trim() !== '') return 'a quoted word never closes';
  return out;
}

/** `$Counter NAME counter|gauge`. */
export function parseCounter(text: string): Draft<VmodCounter> | string {
  const w = tokens(text);
  if (typeof w === 'string') return `$Counter: ${w}`;
  if (w.length !== 2) return "$Counter needs 'NAME TYPE' (TYPE counter or gauge)";
  const [name, type] = w;
  if (!isIdentifier(name)) return `$Counter: '${name}' is not a name`;
  if (type !== 'counter' && type !== 'gauge') return `$Counter ${name}: unknown type '${type}' (counter or gauge)`;
  return { name, type };
}

/** `$Command NAME "ARGUMENTS"` (the arguments may be left out for a command that takes none). */
export function parseCommand(text: string): Draft<VmodCommand> | string {
  const m = /^\s*(\S+)\s*(?:"([^"]*)")?\s*$/.exec(text);
  if (!m) return `$Command needs 'NAME "ARGUMENTS"'`;
  if (!/^[a-z][a-z0-9_]*$/.test(m[1])) return `$Command: '${m[1]}' is not a command name (lower case letters, digits and _)`;
  return { name: m[1], usage: (m[2] ?? '').trim() };
}

/** `$Requires MODULE`. */
export function parseRequires(text: string): string | { module: string } {
  const w = text.trim().split(/\s+/);
  if (w.length !== 1 || !isIdentifier(w[0])) return `$Requires needs one VMOD name, not '${text.trim()}'`;
  return { module: w[0] };
}

/** `$ABI 2.0`: a Shellac VMOD API version, major.minor. */
export function isApiVersion(word: string): boolean {
  return /^\d+\.\d+$/.test(word);
}

/** `$Param NAME TYPE DEFAULT [min=X] [max=Y] [readonly]`; TYPE `enum{a,b}` lists the words. */
export function parseParam(text: string, module: string): Draft<VmodParam> | string {
  const w = tokens(text);
  if (typeof w === 'string') return `$Param: ${w}`;
  if (w.length < 3) return "$Param needs 'NAME TYPE DEFAULT [min=X] [max=Y] [readonly]'";
  const [name, typeWord, def, ...rest] = w;
  if (!isIdentifier(name)) return `$Param: '${name}' is not a name`;
  const e = /^enum\{([^}]*)\}$/.exec(typeWord);
  const type = (e ? 'enum' : typeWord) as VmodParamType;
  if (!VMOD_PARAM_TYPES.includes(type)) return `$Param ${name}: unknown type '${typeWord}' (${VMOD_PARAM_TYPES.join(', ')})`;
  const param: { -readonly [K in keyof Draft<VmodParam>]: Draft<VmodParam>[K] } = { name, type, default: def, readonly: false };
  if (e) {
    const values = e[1].split(',').map((v) => v.trim());
    if (values.some((v) => !isIdentifier(v))) return `$Param ${name}: bad enum words '${e[1]}'`;
    param.values = values;
  }
  for (const opt of rest) {
    const o = /^(min|max)=(.+)$/.exec(opt);
    if (opt === 'readonly') param.readonly = true;
    else if (o && (type === 'uint' || type === 'timeout' || type === 'bytes')) param[o[1] as 'min' | 'max'] = o[2];
    else return `$Param ${name}: unknown option '${opt}' (min=X and max=Y for numbers, readonly)`;
  }
  const decl = paramDeclOf(module, { ...param, doc: '', line: 0 });
  for (const [what, value] of [['min', param.min], ['max', param.max], ['default', def]] as const) {
    if (value === undefined) continue;
    try {
      parseParamValue(what === 'default' ? decl : { ...decl, min: undefined, max: undefined }, value);
    } catch (err) {
      if (err instanceof ParamError) return `$Param ${name}: bad ${what} '${value}': ${err.message}`;
      throw err;
    }
  }
  return param;
}

const CORE_TYPE: Readonly<Record<VmodParamType, ParamDecl['type']>> = {
  bool: 'bool',
  uint: 'uint',
  timeout: 'seconds',
  bytes: 'bytes',
  string: 'string',
  enum: 'enum',
};
const UNIT: Readonly<Record<VmodParamType, string>> = { bool: 'bool', uint: '', timeout: 'seconds', bytes: 'bytes', string: '', enum: '' };

/** A `$Param` as the core parameter table writes one: `<module>.<name>`, same types and checks. */
export function paramDeclOf(module: string, p: VmodParam): ParamDecl {
  return {
    name: `${module}.${p.name}`,
    type: CORE_TYPE[p.type],
    unit: UNIT[p.type],
    default: p.default,
    min: p.min,
    max: p.max,
    values: p.values,
    flags: p.readonly ? ['readonly'] : [],
    docs: p.doc || `A parameter of the ${module} VMOD.`,
  };
}
