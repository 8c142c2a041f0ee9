// Typing of statements: set/unset targets and their access rules, return actions and their
// arguments, conditions, object creation, and calls used as statements.

import type { Block, CallExpr, Name, NewStmt, Pos, ReturnStmt, SetStmt, Stmt } from './ast.ts';
import type { CheckContext } from './check-context.ts';
import { bindArgs, resolveCallTarget } from './check-call.ts';
import { typeAs, typeCallStatement, typeExpr, typeName } from './check-expr.ts';
import { displayName, lookupVariable, notFound, REPORTED } from './check-name.ts';
import { ACTION_SCOPE, ACTIONS, isActionName, isSubName, SUB_BIT, SUBS, scopeText, type VclType } from './spec.ts';
import { foldName } from './symbols.ts';
import type { TExpr, TStmt, TTarget } from './tir.ts';
import { assignOps, MULTIPLIER } from './types.ts';

export function checkBlock(cx: CheckContext, block: Block, sub: string): TStmt[] {
  const out: TStmt[] = [];
  for (const s of block.stmts) {
    if (s.kind === 'block') {
      out.push(...checkBlock(cx, s, sub));
      continue;
    }
    const t = checkStmt(cx, s, sub);
    if (t) out.push(t);
  }
  return out;
}

function checkStmt(cx: CheckContext, s: Exclude<Stmt, Block>, sub: string): TStmt | undefined {
  switch (s.kind) {
    case 'set':
      return checkSet(cx, s);
    case 'unset': {
      const target = resolveTarget(cx, s.target, 'unset');
      return target && { k: 'unset', target: target.target, pos: s.pos };
    }
    case 'call':
      return checkCall(cx, s.sub, s.pos);
    case 'return':
      return checkReturn(cx, s, sub);
    case 'if': {
      const cond = typeAs(cx, s.cond, 'BOOL');
      const then = checkBlock(cx, s.then, sub);
      const otherwise = s.else === undefined ? undefined : s.else.kind === 'block' ? checkBlock(cx, s.else, sub) : checkStmt(cx, s.else, sub);
      if (!cond) return undefined;
      const elseBody = otherwise === undefined ? undefined : Array.isArray(otherwise) ? otherwise : [otherwise];
      return { k: 'if', cond, then, else: elseBody, pos: s.pos };
    }
    case 'new':
      return checkNew(cx, s);
    case 'expr':
      return checkCallStatement(cx, s.expr);
  }
}

interface ResolvedTarget {
  readonly target: TTarget;
  readonly type: VclType;
}

/** Resolves the variable of a `set` or `unset`, recording where that is allowed. */
function resolveTarget(cx: CheckContext, name: Name, mode: 'set' | 'unset'): ResolvedTarget | undefined {
  const ref = lookupVariable(cx, name);
  if (ref === REPORTED) return undefined;
  if (!ref) return cx.error(name.pos, notFound(cx, name));
  if (ref.k === 'storage') return cx.error(name.pos, `'${name.text}': Variable is read only.`);
  if (ref.rest.length > 0) return cx.error(name.pos, notFound(cx, name));
  const spec = ref.spec;
  const shown = ref.k === 'header' ? `${ref.obj}.http.${ref.header}` : displayName(spec);
  if (mode === 'set') {
    if (spec.write === 0) return cx.error(name.pos, `'${shown}': Variable is read only.`);
    cx.use(name.pos, spec.write, (sub) => `Variable '${shown}' cannot be set in ${sub}; it can be set in ${scopeText(spec.write)}`);
  } else {
    if (spec.unset === 0) return cx.error(name.pos, `Variable '${shown}' cannot be unset.`);
    cx.use(name.pos, spec.unset, (sub) => `Variable '${shown}' cannot be unset in ${sub}; it can be unset in ${scopeText(spec.unset)}`);
  }
  const target: TTarget =
    ref.k === 'header' ? { k: 'header', obj: ref.obj, name: ref.header, pos: name.pos } : { k: 'var', spec, pos: name.pos };
  return { target, type: spec.type === 'HEADER' ? 'STRING' : spec.type };
}

function checkSet(cx: CheckContext, s: SetStmt): TStmt | undefined {
  const resolved = resolveTarget(cx, s.target, 'set');
  if (!resolved) return undefined;
  const { target, type } = resolved;
  if (!assignOps(type).includes(s.op)) return cx.error(s.opPos, `Expected '=' got '${s.op}'`);
  let value: TExpr | undefined;
  if (s.op === '*=' || s.op === '/=') {
    const factor = MULTIPLIER[type] ?? type;
    value = typeExpr(cx, s.value, factor);
    if (value && value.type !== 'INT' && value.type !== factor) {
      return cx.error(s.value.pos, `Expression has type ${typeName(value)}, expected ${factor}`);
    }
  } else if (type === 'TIME' && s.op !== '=') {
    value = typeAs(cx, s.value, 'DURATION');
  } else {
    value = typeAs(cx, s.value, type);
  }
  return value && { k: 'set', target, op: s.op, value, pos: s.pos };
}

function checkCall(cx: CheckContext, name: Name, pos: Pos): TStmt | undefined {
  const sym = name.parts.length === 1 ? cx.symbols.get(name.text) : undefined;
  if (sym?.kind !== 'sub') {
    if (sym) return cx.error(name.pos, `'${name.text}' is not a sub: only subs can be called`);
    return cx.error(name.pos, `Undefined sub ${name.text}, first reference:`);
  }
  sym.refs++;
  cx.current?.calls.push({ sub: sym.name, pos: name.pos });
  return { k: 'call', sub: sym.name, pos };
}

function checkReturn(cx: CheckContext, s: ReturnStmt, sub: string): TStmt | undefined {
  if (!s.action) {
    if (isSubName(sub)) {
      return cx.error(s.pos, `${sub} must say which action it returns, as in return (${SUBS[sub].returns[0]});`);
    }
    return { k: 'return', args: [], pos: s.pos };
  }
  const action = s.action.name;
  if (!isActionName(action)) return cx.error(s.action.pos, `Unknown return action '${action}'`);
  cx.use(s.action.pos, ACTION_SCOPE[action], (where) => {
    const legal = isSubName(where) ? SUBS[where].returns.join(', ') : '';
    return `return (${action}) is not allowed in ${where}; it may return ${legal}`;
  });
  const spec = ACTIONS[action];
  if (s.args.length > spec.args.length) {
    return cx.error(s.args[spec.args.length].pos, spec.args.length ? `Too many arguments for ${action}()` : `Arguments not allowed for ${action}.`);
  }
  if (s.args.length < spec.args.length - spec.optional) return cx.error(s.action.pos, `Missing argument for ${action}().`);
  if (action === 'vcl') {
    const label = s.args[0];
    if (label.kind !== 'name' || label.parts.length !== 1) return cx.error(label.pos, 'Expected the name of a VCL label');
    return { k: 'return', action, args: [], label: label.text, pos: s.pos };
  }
  const args: TExpr[] = [];
  for (let i = 0; i < s.args.length; i++) {
    const t = typeAs(cx, s.args[i], spec.args[i]);
    if (!t) return undefined;
    args.push(t);
  }
  return { k: 'return', action, args, pos: s.pos };
}

function checkNew(cx: CheckContext, s: NewStmt): TStmt | undefined {
  cx.use(s.pos, SUB_BIT.vcl_init, (sub) => `'new' is only possible in vcl_init, not in ${sub}`);
  if (s.name.parts.length !== 1) {
    return cx.error(s.name.pos, `Name of VCL object, '${s.name.text}', contains illegal character '.'`);
  }
  const target = resolveCallTarget(cx, s.ctor.callee);
  if (!target) return undefined;
  if (target.k !== 'ctor') return cx.error(s.ctor.pos, `'${s.ctor.callee.text}' is not a VMOD object: 'new' needs one, as in directors.round_robin()`);
  const args = bindArgs(cx, target.object.args, s.ctor.args, s.ctor.pos, `${target.module}.${target.object.name}()`);
  if (!args) return undefined;
  return { k: 'new', name: s.name.text, module: target.module, object: target.object, args, pos: s.pos };
}

const STATEMENT_BUILTINS = new Set(['hash_data', 'synthetic', 'ban']);

function checkCallStatement(cx: CheckContext, e: CallExpr): TStmt | undefined {
  const name = foldName(e.callee.text);
  if (e.callee.parts.length === 1 && STATEMENT_BUILTINS.has(name)) {
    resolveCallTarget(cx, e.callee);
    if (e.args.length !== 1 || e.args[0].name) return cx.error(e.pos, `${name}() takes one argument`);
    const value = typeAs(cx, e.args[0].value, 'STRING');
    if (!value) return undefined;
    return { k: name as 'hash_data' | 'synthetic' | 'ban', value, pos: e.pos };
  }
  // Only VMOD functions and object methods may stand alone; Varnish refuses a built-in
  // function or a type's method there, since its value would be thrown away.
  if (e.callee.parts.length === 1 && (name === 'regsub' || name === 'regsuball')) {
    return cx.error(e.callee.pos, `${name}() returns a value and cannot be used as a statement; use it in an expression, as in set req.url = ${name}(...);`);
  }
  const t = typeCallStatement(cx, e);
  if (t?.k === 'type_method') {
    return cx.error(e.pos, `.${t.method}() returns a value and cannot be used as a statement`);
  }
  return t && { k: 'eval', e: t, pos: e.pos };
}
