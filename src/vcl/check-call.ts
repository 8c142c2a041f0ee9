// Calls: what a callee name denotes (built-in function, VMOD function, object constructor,
// method of an object instance, or a method of a value's type), and the binding of arguments
// to a VMOD manifest: positional then named, defaults filled in, optional ones flagged,
// ENUMs checked against their set, PRIV_* holders allotted.

import type { Arg, Expr, Name, Pos } from './ast.ts';
import type { CheckContext } from './check-context.ts';
import { typeAs, typeExpr, typeName } from './check-expr.ts';
import { lookupVariable, notFound, REPORTED, variableValue } from './check-name.ts';
import { DURATION_UNITS, VCL_BYTES_UNITS } from '../common/units.ts';
import { ALL, BUILTIN_FUNCTIONS, CLIENT, scopeText, type VclType } from './spec.ts';
import { foldName } from './symbols.ts';
import type { TArg, TExpr } from './tir.ts';
import { isPrivKind, type VmodArg, type VmodFunction, type VmodObject } from '../vmod/manifest.ts';

export type CallTarget =
  | { readonly k: 'builtin'; readonly name: string }
  | { readonly k: 'vmod_fn'; readonly module: string; readonly fn: VmodFunction }
  | { readonly k: 'ctor'; readonly module: string; readonly object: VmodObject }
  | { readonly k: 'method'; readonly module: string; readonly instance: string; readonly object: VmodObject; readonly fn: VmodFunction }
  | { readonly k: 'value'; readonly value: TExpr; readonly method: string };

export function resolveCallTarget(cx: CheckContext, callee: Name): CallTarget | undefined {
  const parts = callee.parts;
  const root = parts[0].text;
  if (parts.length === 1) {
    const name = foldName(root);
    const builtin = BUILTIN_FUNCTIONS[name];
    if (!builtin) return cx.error(callee.pos, notFound(cx, callee));
    if (builtin.scope) {
      cx.use(callee.pos, builtin.scope, (sub) => `${name}() is not available in ${sub}; it can be used in ${scopeText(builtin.scope)}`);
    }
    return { k: 'builtin', name };
  }
  // Names are looked up ignoring case, and carried on in their declared spelling.
  const sym = cx.symbols.get(root);
  // A VMOD that could not be imported was reported once, at its import.
  if (!sym && cx.failedImports.has(foldName(root))) return undefined;
  if (sym?.kind === 'vmod' && parts.length === 2) {
    sym.refs++;
    const m = sym.manifest;
    const member = lookupFolded(m.aliases, parts[1].text) ?? parts[1].text;
    const fn = lookupFolded(m.functions, member);
    if (fn) return { k: 'vmod_fn', module: sym.name, fn };
    const object = lookupFolded(m.objects, member);
    if (object) return { k: 'ctor', module: sym.name, object };
    return cx.error(callee.pos, notFound(cx, callee));
  }
  if (sym?.kind === 'instance' && parts.length === 2) {
    sym.refs++;
    const fn = lookupFolded(sym.object.methods, parts[1].text);
    if (fn) return { k: 'method', module: sym.module, instance: sym.name, object: sym.object, fn };
    return cx.error(parts[1].pos, `Object '${sym.name}' (${sym.module}.${sym.object.name}) has no method '${parts[1].text}'`);
  }
  if (sym && parts.length === 2 && (sym.kind === 'backend' || sym.kind === 'acl' || sym.kind === 'probe')) {
    sym.refs++;
    const value: TExpr =
      sym.kind === 'backend'
        ? { k: 'backend', type: 'BACKEND', name: sym.name, pos: parts[0].pos }
        : sym.kind === 'acl'
          ? { k: 'acl', type: 'ACL', name: sym.name, pos: parts[0].pos }
          : { k: 'probe', type: 'PROBE', name: sym.name, pos: parts[0].pos };
    return { k: 'value', value, method: parts[1].text };
  }
  const ref = lookupVariable(cx, callee);
  if (ref === REPORTED) return undefined;
  if (ref) {
    if (ref.rest.length !== 1) return cx.error(callee.pos, `'${callee.text}' is not a function`);
    const value = variableValue(cx, ref, callee.pos);
    return value && { k: 'value', value, method: ref.rest[0].text };
  }
  return cx.error(callee.pos, notFound(cx, callee));
}

/** A manifest entry by name, ignoring case as VCL symbols do (`std.LOG` is std.log). */
export function lookupFolded<V>(map: ReadonlyMap<string, V>, name: string): V | undefined {
  const exact = map.get(name);
  if (exact !== undefined) return exact;
  const folded = foldName(name);
  for (const [key, value] of map) if (foldName(key) === folded) return value;
  return undefined;
}

/** Binds a call of a VMOD function, method or constructor to its manifest entry. */
export function bindCall(
  cx: CheckContext,
  target: Exclude<CallTarget, { k: 'builtin' } | { k: 'value' }>,
  args: readonly Arg[],
  pos: Pos,
  _want?: VclType,
): TExpr | undefined {
  if (target.k === 'ctor') {
    return cx.error(pos, `${target.module}.${target.object.name} is an object: create one in vcl_init with 'new NAME = ${target.module}.${target.object.name}(...);'`);
  }
  const display = target.k === 'vmod_fn' ? `${target.module}.${target.fn.name}()` : `${target.instance}.${target.fn.name}()`;
  const bound = bindArgs(cx, target.fn.args, args, pos, display);
  if (!bound) return undefined;
  const restrict = callScope(target);
  if (restrict !== undefined) {
    // Varnish's words first ("Not available in subroutine 'vcl_init'"), then which subs may.
    cx.use(pos, restrict, (sub) => `Not available in subroutine '${sub}': ${display} can be called in ${scopeText(restrict)}`);
  }
  if (target.k === 'vmod_fn') return { k: 'vmod_call', type: target.fn.ret, module: target.module, fn: target.fn, args: bound, pos };
  return {
    k: 'method_call',
    type: target.fn.ret,
    module: target.module,
    instance: target.instance,
    object: target.object,
    fn: target.fn,
    args: bound,
    pos,
  };
}

/** Matches given arguments to a manifest's argument list; undefined after reporting a problem. */
export function bindArgs(cx: CheckContext, params: readonly VmodArg[], args: readonly Arg[], pos: Pos, display: string): TArg[] | undefined {
  const given: (Arg | undefined)[] = new Array(params.length);
  let next = 0;
  let named = false;
  let ok = true;
  for (const a of args) {
    if (a.name) {
      named = true;
      const i = params.findIndex((p) => p.name === a.name?.name && !isPrivKind(p.type));
      if (i < 0) {
        ok = !!cx.error(a.name.pos, `Unknown argument '${a.name.name}' of ${display}`);
      } else if (given[i]) {
        ok = !!cx.error(a.name.pos, `Argument '${a.name.name}' already used`);
      } else {
        given[i] = a;
      }
      continue;
    }
    if (named) {
      ok = !!cx.error(a.pos, `Positional arguments must come before named ones in ${display}`);
      continue;
    }
    while (next < params.length && isPrivKind(params[next].type)) next++;
    if (next >= params.length) {
      const max = params.filter((p) => !isPrivKind(p.type)).length;
      return cx.error(a.pos, `Too many arguments: ${display} takes ${max}`);
    }
    given[next++] = a;
  }
  if (!ok) return undefined;
  const out: TArg[] = [];
  for (let i = 0; i < params.length; i++) {
    const p = params[i];
    const name = p.name ?? `arg${i + 1}`;
    if (isPrivKind(p.type)) {
      out.push({ name, type: p.type, optional: false, privCall: p.type === 'PRIV_CALL' ? cx.privCallSites++ : undefined });
      continue;
    }
    const a = given[i];
    let value: TExpr | undefined;
    if (a) {
      value = typeArg(cx, p, a.value);
      if (!value) {
        ok = false;
        continue;
      }
    } else if (p.default !== undefined) {
      value = defaultValue(cx, p, pos, display);
      if (!value) {
        ok = false;
        continue;
      }
    } else if (!p.optional) {
      ok = !!cx.error(pos, `Argument '${name}' missing: ${display} needs ${p.type} ${name}`);
      continue;
    }
    out.push({ name, type: p.type, value, optional: p.optional });
  }
  return ok ? out : undefined;
}

function typeArg(cx: CheckContext, p: VmodArg, e: Expr): TExpr | undefined {
  const type = p.type as VclType;
  if (type === 'ENUM') {
    const values = p.enumValues ?? [];
    if (e.kind === 'name' && e.parts.length === 1 && values.includes(e.text)) {
      return { k: 'enum', type: 'ENUM', value: e.text, pos: e.pos };
    }
    const got = e.kind === 'name' ? `'${e.text}'` : 'an expression';
    return cx.error(e.pos, `Wrong enum value ${got} for argument '${p.name}'. Expected one of: ${values.join(', ')}`);
  }
  if (type === 'HEADER') {
    const t = typeExpr(cx, e, 'HEADER');
    // A header reference, or a call that makes one (header.dyn()).
    if (t && t.type !== 'HEADER') return cx.error(e.pos, `Expression has type ${typeName(t)}, expected HEADER`);
    return t;
  }
  if (type === 'STRANDS' || type === 'STRING_LIST') return typeAs(cx, e, 'STRING');
  return typeAs(cx, e, type);
}

/**
 * A manifest default, written as vmodtool manifests write them: a quoted string, a number with
 * or without a unit, a boolean as 0/1/true/false, an ENUM value (quoted or not), or 0/NULL for
 * "no value" of the reference types.
 */
function defaultValue(cx: CheckContext, p: VmodArg, pos: Pos, display: string): TExpr | undefined {
  const raw = (p.default ?? '').trim();
  const unquoted = /^"(.*)"$/s.exec(raw)?.[1];
  const type = p.type as VclType;
  const bad = () => cx.error(pos, `Bad default '${raw}' for argument '${p.name}' of ${display} in its manifest`);
  switch (type) {
    case 'ENUM': {
      const v = unquoted ?? raw;
      return p.enumValues?.includes(v) ? { k: 'enum', type, value: v, pos } : bad();
    }
    case 'STRING':
    case 'STRANDS':
    case 'STRING_LIST':
      if (unquoted !== undefined) return { k: 'const', type: 'STRING', value: unquoted, pos };
      return raw === '0' || raw === 'NULL' ? { k: 'null', type: 'STRING', pos } : bad();
    case 'BOOL':
      if (raw === '1' || raw === 'true') return { k: 'const', type, value: true, pos };
      if (raw === '0' || raw === 'false') return { k: 'const', type, value: false, pos };
      return bad();
    case 'INT':
    case 'REAL':
    case 'TIME':
    case 'DURATION':
    case 'BYTES': {
      const m = /^(-?\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(raw);
      if (!m) return bad();
      const unit = m[2];
      const scale = unit === '' ? 1 : type === 'BYTES' ? VCL_BYTES_UNITS[unit] : type === 'DURATION' ? DURATION_UNITS[unit] : undefined;
      return scale === undefined ? bad() : { k: 'const', type, value: Number(m[1]) * scale, pos };
    }
    default:
      return raw === '0' || raw === 'NULL' ? { k: 'null', type, pos } : bad();
  }
}

/**
 * The subs a VMOD call may stand in: its $Restrict, narrowed to the client side for a function
 * that takes PRIV_TOP (there is no top request elsewhere), as varnishd's compiler narrows it. A
 * method keeps its own $Restrict only: varnishd compiles one with PRIV_TOP anywhere.
 */
function callScope(target: { readonly k: 'vmod_fn' | 'method'; readonly fn: VmodFunction }): number | undefined {
  const own = target.fn.restrict;
  if (target.k !== 'vmod_fn' || !target.fn.args.some((a) => a.type === 'PRIV_TOP')) return own;
  return (own ?? ALL) & CLIENT;
}
