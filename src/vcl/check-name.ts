// Resolving dotted names: variables (`req.url`), headers (`req.http.X-Foo`, `req.http."x.y"`),
// storage (`storage.s0.free_space`), and the names a VCL declares (backends, ACLs, probes,
// subs, object instances). Reading a variable records a use for the sub's scope check.

import type { Name, NamePart, Pos } from './ast.ts';
import type { CheckContext } from './check-context.ts';
import { HTTP_OBJECTS, type HttpObjectName, scopeText, type VarSpec, type VclType } from './spec.ts';
import { foldName } from './symbols.ts';
import type { TExpr } from './tir.ts';

/** What a name's leading parts denote, and the parts left over (method names). */
export type VariableRef =
  | { readonly k: 'var'; readonly spec: VarSpec; readonly rest: readonly NamePart[] }
  | { readonly k: 'header'; readonly spec: VarSpec; readonly obj: HttpObjectName; readonly header: string; readonly rest: readonly NamePart[] }
  | { readonly k: 'storage'; readonly storage: string; readonly spec?: VarSpec; readonly field?: string; readonly rest: readonly NamePart[] };

const HEADER_NAME_BAD = /[\u0000-\u0020:\u007f]/;

/** What lookupVariable returns when it found a variable's name but reported a problem with it. */
export const REPORTED = 'reported';

/**
 * Finds the variable a name starts with. Returns undefined (reporting nothing) when the name
 * is not a variable at all, and REPORTED when it is one but wrongly written.
 */
export function lookupVariable(cx: CheckContext, name: Name): VariableRef | typeof REPORTED | undefined {
  const parts = name.parts;
  const vars = cx.variables(name.pos);
  // Variable names ignore case (`REQ.URL` is req.url); header names are kept as written.
  const root = foldName(parts[0].text);
  if ((HTTP_OBJECTS as readonly string[]).includes(root) && foldName(parts[1]?.text ?? '') === 'http' && !parts[1].quoted) {
    const spec = vars.get(`${root}.http.*`);
    if (!spec) return undefined;
    const header = parts[2];
    if (!header) return reported(cx, name.pos, `'${root}.http' needs a header name, as in ${root}.http.Host`);
    if (header.quoted && cx.versionAt(header.pos) < 41) {
      return reported(cx, header.pos, 'Quoted headers are available for VCL >= 4.1');
    }
    const bad = HEADER_NAME_BAD.exec(header.text);
    if (bad || header.text === '') {
      const ch = bad ? JSON.stringify(bad[0]).slice(1, -1) : '';
      return reported(cx, header.pos, bad ? `Invalid character '${ch}' in header name.` : 'Empty header name.');
    }
    return { k: 'header', spec, obj: root as HttpObjectName, header: header.text, rest: parts.slice(3) };
  }
  if (root === 'storage' && parts.length >= 2) {
    const storage = [...cx.storages].find((s) => foldName(s) === foldName(parts[1].text));
    if (storage === undefined) {
      return reported(cx, parts[1].pos, `Unknown storage '${parts[1].text}'; known: ${[...cx.storages].join(', ')}`);
    }
    if (parts.length === 2) return { k: 'storage', storage, rest: [] };
    const field = foldName(parts[2].text);
    const spec = vars.get(`storage.*.${field}`);
    if (!spec) return reported(cx, parts[2].pos, `Symbol not found: '${name.text}'`);
    return { k: 'storage', storage, spec, field, rest: parts.slice(3) };
  }
  for (let n = parts.length; n > 0; n--) {
    if (parts[n - 1].quoted) continue;
    const spec = vars.get(joinParts(parts, n));
    if (spec) return { k: 'var', spec, rest: parts.slice(n) };
  }
  return undefined;
}

function reported(cx: CheckContext, pos: Pos, message: string): typeof REPORTED {
  cx.error(pos, message);
  return REPORTED;
}

function joinParts(parts: readonly NamePart[], n: number): string {
  let s = parts[0].text;
  for (let i = 1; i < n; i++) s += `.${parts[i].text}`;
  return foldName(s);
}

/** Records a read of a variable, to be judged against the subs the current sub runs from. */
export function recordRead(cx: CheckContext, spec: VarSpec, pos: Pos): boolean {
  if (spec.read === 0) {
    cx.error(pos, `Variable '${spec.name}' cannot be read; it can only be ${spec.write ? 'set' : 'unset'}`);
    return false;
  }
  cx.use(pos, spec.read, (sub) => `Variable '${displayName(spec)}' is not available in ${sub}; it is readable in ${scopeText(spec.read)}`);
  return true;
}

export function displayName(spec: VarSpec): string {
  return spec.name.replace('.*', '.<name>');
}

/** Turns a variable reference (with no parts left over) into a value. */
export function variableValue(cx: CheckContext, ref: VariableRef, pos: Pos, want?: VclType): TExpr | undefined {
  if (ref.k === 'storage') {
    if (!ref.spec || !ref.field) return { k: 'stevedore', type: 'STEVEDORE', name: ref.storage, pos };
    if (!recordRead(cx, ref.spec, pos)) return undefined;
    return { k: 'storage_var', type: ref.spec.type, storage: ref.storage, field: ref.field, pos };
  }
  if (!recordRead(cx, ref.spec, pos)) return undefined;
  if (ref.k === 'header') {
    return { k: 'header', type: want === 'HEADER' ? 'HEADER' : 'STRING', obj: ref.obj, name: ref.header, pos };
  }
  return { k: 'var', type: ref.spec.type, spec: ref.spec, pos };
}

/** Resolves a name used as a value. */
export function resolveName(cx: CheckContext, name: Name, want?: VclType): TExpr | undefined {
  const pos = name.pos;
  const ref = lookupVariable(cx, name);
  if (ref === REPORTED) return undefined;
  if (ref) {
    if (ref.rest.length > 0) {
      if (inOtherVersion(cx, name)) return cx.error(pos, notFound(cx, name));
      const owner = ref.k === 'storage' ? `storage.${ref.storage}` : ref.k === 'header' ? `${ref.obj}.http.${ref.header}` : ref.spec.name;
      const type = ref.k === 'storage' ? (ref.spec?.type ?? 'STEVEDORE') : ref.spec.type === 'HEADER' ? 'STRING' : ref.spec.type;
      return cx.error(ref.rest[0].pos, `Unknown property '${ref.rest[0].text}' of ${owner} (type ${type})`);
    }
    return variableValue(cx, ref, pos, want);
  }
  if (name.parts.length === 1) {
    const text = name.text;
    const folded = foldName(text);
    if (folded === 'true' || folded === 'false') return { k: 'const', type: 'BOOL', value: folded === 'true', pos };
    // `default` names the default backend, but only where a BACKEND is wanted (as in Varnish).
    if (folded === 'default') {
      if (want !== 'BACKEND') {
        return cx.error(pos, `Symbol '${text}' is a reserved word: it names the default backend only where a BACKEND is wanted`);
      }
      const named = cx.symbols.get('default');
      const target = named?.kind === 'backend' ? named : cx.symbols.ofKind('backend')[0];
      if (target) return { k: 'backend', type: 'BACKEND', name: target.name, pos };
    }
    const sym = cx.symbols.get(text);
    if (sym) {
      sym.refs++;
      // The symbol's own spelling is what code generation looks names up by.
      switch (sym.kind) {
        case 'backend':
          return { k: 'backend', type: 'BACKEND', name: sym.name, pos };
        case 'acl':
          return { k: 'acl', type: 'ACL', name: sym.name, pos };
        case 'probe':
          return { k: 'probe', type: 'PROBE', name: sym.name, pos };
        case 'sub':
          if (want !== 'SUB') return cx.error(pos, `Symbol '${text}' can only be used as a SUB expression`);
          return { k: 'sub', type: 'SUB', name: sym.name, pos };
        case 'instance':
          return { k: 'instance', type: 'INSTANCE', name: sym.name, objectType: `${sym.module}.${sym.object.name}`, pos };
        case 'vmod':
          return cx.error(pos, `'${text}' is a VMOD; name one of its functions, as in ${text}.function(...)`);
      }
    }
    if (want === 'BACKEND') return cx.error(pos, `Undefined backend ${text}, first reference:`);
    if (want === 'ACL') return cx.error(pos, `Undefined acl ${text}, first reference:`);
    if (want === 'PROBE') return cx.error(pos, `Undefined probe ${text}, first reference:`);
  }
  const sym = cx.symbols.get(name.parts[0].text);
  if (sym?.kind === 'vmod' || sym?.kind === 'instance') {
    return cx.error(pos, `'${name.text}' must be called: ${name.text}(...)`);
  }
  return cx.error(pos, notFound(cx, name));
}

/** "Symbol not found", saying so when the name exists in the other syntax version. */
export function notFound(cx: CheckContext, name: Name): string {
  const version = cx.versionAt(name.pos);
  const other = version === 41 ? 40 : 41;
  const base = `Symbol not found: '${name.text}'`;
  if (!inOtherVersion(cx, name)) return base;
  return `${base} (it exists in VCL ${versionText(other)}; this VCL is ${versionText(version)})`;
}

/** Whether a name that is not a variable here is one in the other syntax version. */
function inOtherVersion(cx: CheckContext, name: Name): boolean {
  return cx.variablesForVersion(cx.versionAt(name.pos) === 41 ? 40 : 41).has(foldName(name.text));
}

const versionText = (v: number) => (v / 10).toFixed(1);
