// Turns a VMOD manifest into the TypeScript interface its implementation must satisfy. The file
// it writes is checked in beside the implementation; the implementation ends with
// `self satisfies VmodName`, so a missing export, a wrong argument type or a wrong return type
// is a tsc error rather than a surprise at load or run time.
//
// Function-typed properties (not method signatures) are generated on purpose: TypeScript checks
// their parameters strictly (contravariantly), so an implementation cannot narrow `string | null`
// to `string` unnoticed.

import type { VclType } from '../vcl/spec.ts';
import type { PrivKind, VmodArg, VmodFunction, VmodManifest, VmodObject } from './manifest.ts';
import { isPrivKind } from './manifest.ts';
import { commandsMember, platformTypeNames, platformTypes, usesPlatform } from './vmod-platform-docs.ts';
import { signatureText } from './vmod-signature.ts';

/** What each VCL type is in TypeScript; the names come from src/vmod/api.ts. */
const TS_TYPE: Readonly<Record<VclType, string>> = {
  ACL: 'AclRef | null',
  BACKEND: 'Director | null',
  BLOB: 'Uint8Array | null',
  BODY: 'unknown',
  BOOL: 'boolean',
  BYTES: 'number',
  DURATION: 'number',
  ENUM: 'string',
  HEADER: 'HeaderRef',
  HTTP: 'VclHttp',
  INSTANCE: 'unknown',
  INT: 'number',
  IP: 'VclIp | null',
  PROBE: 'ProbeRef | null',
  REAL: 'number',
  REGEX: 'VclRegex',
  STEVEDORE: 'unknown',
  STRANDS: 'readonly (string | null)[]',
  STRING: 'string | null',
  STRING_LIST: 'readonly (string | null)[]',
  SUB: 'SubRef',
  TIME: 'number',
  VOID: 'void',
};

/** The api.ts names a TS type text uses, to import only those. */
const API_NAMES = ['AclRef', 'Director', 'HeaderRef', 'ProbeRef', 'SubRef', 'VclHttp', 'VclIp', 'VclRegex'];

/** The key of each PRIV_* kind in the generated `Privs` type parameter. */
const PRIV_KEY: Readonly<Record<PrivKind, string>> = {
  PRIV_CALL: 'call',
  PRIV_TASK: 'task',
  PRIV_TOP: 'top',
  PRIV_VCL: 'vcl',
};

/** Words that cannot name a parameter in TypeScript; an argument so named gets a `_` suffix. */
const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally ' +
    'for function if import in instanceof new null return super switch this throw true try typeof var void ' +
    'while with implements interface let package private protected public static yield await ctx arguments eval'
  ).split(' '),
);

/** `directors` → `Directors`, `shard_param` → `ShardParam`. */
export function pascalCase(name: string): string {
  return name
    .split('_')
    .filter((p) => p !== '')
    .map((p) => p[0].toUpperCase() + p.slice(1))
    .join('');
}

/** The name of the module's interface: `VmodDirectors`. */
export function moduleTypeName(m: { readonly name: string }): string {
  return `Vmod${pascalCase(m.name)}`;
}

/** The name of an object's instance interface: `VmodDirectorsRoundRobin`. */
export function objectTypeName(m: { readonly name: string }, o: { readonly name: string }): string {
  return `${moduleTypeName(m)}${pascalCase(o.name)}`;
}

/** The TypeScript parameter name of each argument: its manifest name, or `argN` / `priv_kind`. */
export function paramNames(args: readonly VmodArg[]): string[] {
  return args.map((a, i) => {
    if (isPrivKind(a.type)) return `priv_${PRIV_KEY[a.type]}`;
    if (a.name === undefined) return `arg${i + 1}`;
    return RESERVED.has(a.name) ? `${a.name}_` : a.name;
  });
}

/**
 * The key of a holder in the `Privs` type. A method's PRIV_TASK and PRIV_TOP are its object's
 * own holders, not the ones the VMOD's functions share, so they get keys of their own.
 */
type PrivKey = 'call' | 'task' | 'top' | 'vcl' | 'objectTask' | 'objectTop';
const PRIV_KEYS: readonly PrivKey[] = ['call', 'task', 'top', 'objectTask', 'objectTop', 'vcl'];

function privKey(kind: PrivKind, inMethod: boolean): PrivKey {
  if (inMethod && kind === 'PRIV_TASK') return 'objectTask';
  if (inMethod && kind === 'PRIV_TOP') return 'objectTop';
  return PRIV_KEY[kind] as PrivKey;
}

/** The TS type of one argument as the implementation receives it. */
function argType(a: VmodArg, privs: string, inMethod: boolean): string {
  if (isPrivKind(a.type)) return `PrivHolder<${privs}['${privKey(a.type, inMethod)}']>`;
  const base = a.enumValues ? a.enumValues.map((v) => `'${v}'`).join(' | ') : TS_TYPE[a.type as VclType];
  // An optional argument that was left out arrives as undefined, even when it has a default:
  // that is how the implementation learns whether it was given.
  return a.optional ? `${base} | undefined` : base;
}

function params(args: readonly VmodArg[], privs: string, inMethod = false): string[] {
  const names = paramNames(args);
  return args.map((a, i) => `${names[i]}: ${argType(a, privs, inMethod)}`);
}

/** A member `name: (params) => ret;`, with one parameter per line when it would be long. */
function member(name: string, head: string, list: readonly string[], ret: string): string {
  const line = `  ${name}: ${head}(${list.join(', ')}) => ${ret};\n`;
  if (line.length <= 100) return line;
  return `  ${name}: ${head}(\n${list.map((p) => `    ${p},\n`).join('')}  ) => ${ret};\n`;
}

function usesPriv(fns: Iterable<VmodFunction | VmodObject>): boolean {
  for (const f of fns) if (f.args.some((a) => isPrivKind(a.type))) return true;
  return false;
}

/** The holder keys a manifest uses anywhere, in a fixed order; an $Event implies PRIV_VCL. */
function privKinds(m: VmodManifest): PrivKey[] {
  const seen = new Set<PrivKey>();
  const add = (args: readonly VmodArg[], inMethod: boolean) => {
    for (const a of args) if (isPrivKind(a.type)) seen.add(privKey(a.type, inMethod));
  };
  for (const f of [...m.functions.values(), ...m.objects.values()]) add(f.args, false);
  for (const o of m.objects.values()) for (const meth of o.methods.values()) add(meth.args, true);
  if (m.event !== undefined) seen.add('vcl');
  return PRIV_KEYS.filter((k) => seen.has(k));
}

/** JSDoc text of an entry: its signature as the manual shows it. */
function jsdoc(text: string, indent: string): string {
  return `${indent}/** ${text.replace(/\*\//g, '*\\/')} */\n`;
}

/** The generated interface file for a manifest; `apiImport` is the path of src/vmod/api.ts from it. */
export function generateInterface(m: VmodManifest, opts: { apiImport: string; source: string }): string {
  const modType = moduleTypeName(m);
  const kinds = privKinds(m);
  const privsType = `${modType}Privs`;
  const generic = kinds.length > 0;
  const typeParams = generic ? `<P extends ${privsType} = ${privsType}>` : '';
  const P = generic ? 'P' : 'never';
  const parts: string[] = [];

  if (generic) {
    parts.push(
      `/**\n * The state this VMOD keeps in each kind of PRIV_* holder. The implementation names its own\n * types here: \`self satisfies ${modType}<{ ${kinds.map((k) => `${k}: ...`).join('; ')} }>\`.${
        kinds.some((k) => k.startsWith('object')) ? "\n * objectTask and objectTop are the holders of methods: one per object, apart from the VMOD's." : ''
      }\n */\n` + `export interface ${privsType} {\n${kinds.map((k) => `  ${k}?: unknown;\n`).join('')}}\n`,
    );
  }

  for (const o of m.objects.values()) {
    const own = usesPriv(o.methods.values());
    const lines = [...o.methods.values()].map(
      (f) =>
        jsdoc(signatureText(f, `x${o.name}.`), '  ') +
        member(f.name, '', ['ctx: VmodContext', ...params(f.args, P, true)], `Awaitable<${TS_TYPE[f.ret]}>`),
    );
    parts.push(
      `/** An object made by \`new x${o.name} = ${m.name}.${o.name}(...)\`. */\n` +
        `export interface ${objectTypeName(m, o)}${own ? typeParams : ''} {\n${lines.join('')}}\n`,
    );
  }

  const members: string[] = [];
  for (const entry of entriesInOrder(m)) {
    if ('methods' in entry) {
      const own = usesPriv(entry.methods.values());
      const ctorParams = ['ctx: VmodContext', 'vclName: string', ...params(entry.args, P)];
      members.push(
        jsdoc(`new x${entry.name} = ${m.name}.${signatureText({ ...entry, ret: undefined }, '')}`, '  ') +
          member(entry.name, 'new ', ctorParams, `${objectTypeName(m, entry)}${own ? '<P>' : ''}`),
      );
    } else {
      members.push(
        jsdoc(signatureText(entry, `${m.name}.`), '  ') +
          member(entry.name, '', ['ctx: VmodContext', ...params(entry.args, P)], `Awaitable<${TS_TYPE[entry.ret]}>`),
      );
    }
  }
  const platform = usesPlatform(m);
  if (m.event !== undefined) {
    const t = platformTypeNames(m);
    const eventCtx = platform ? `VmodEventContext<${t.counters}, ${t.params}>` : 'VmodEventContext';
    members.push(
      `  /** $Event ${m.event}: 0 for success; non-zero fails a 'load'. */\n` +
        member(m.event, '', [`ctx: ${eventCtx}`, `vcl: PrivHolder<${P}['vcl']>`, 'event: VclEvent'], 'number'),
    );
  }
  members.push(commandsMember(m));
  if (platform) parts.unshift(platformTypes(m));
  parts.push(`/** The ${m.name} VMOD: what its index.ts exports. */\nexport interface ${modType}${typeParams} {\n${members.join('')}}\n`);

  const body = parts.join('\n');
  const used = API_NAMES.filter((n) => new RegExp(`\\b${n}\\b`).test(body));
  const imports = [
    ...used,
    'VmodContext',
    ...(generic ? ['PrivHolder'] : []),
    ...(m.event !== undefined ? ['VclEvent', 'VmodEventContext'] : []),
    ...(platform ? ['VmodHousekeeping'] : []),
    ...(m.commands.length > 0 ? ['VmodCommandHandler'] : []),
  ].sort();
  return [
    `// Generated by \`shellac vmodtool\` from ${opts.source}: edit the manifest and run the tool`,
    '// again, never this file; a test fails when the two disagree. The implementation checks itself',
    '// against this contract at the end of its index.ts:',
    "//   import * as self from './index.ts';",
    `//   self satisfies ${modType};`,
    '',
    `import type { ${imports.join(', ')} } from '${opts.apiImport}';`,
    '',
    '/** A VMOD function may return a promise when it is declared `async`: the VCL then awaits it. */',
    'type Awaitable<T> = T | Promise<T>;',
    '',
    body,
  ].join('\n');
}

/** Functions and objects in manifest order. */
export function entriesInOrder(m: VmodManifest): (VmodFunction | VmodObject)[] {
  return [...m.functions.values(), ...m.objects.values()].sort((a, b) => a.line - b.line);
}
