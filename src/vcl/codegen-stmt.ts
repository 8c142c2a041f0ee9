// Code generation for statements. Each statement is preceded by a comment naming its VCL file,
// line and text, so `shellac check --js` reads side by side with the VCL. A statement that can
// fail in its final step (a `set`, a `new`, a synth status check) first sets `t.at` to its
// position; expressions set their own (codegen-expr.ts).

import { assertNever } from './assert-never.ts';
import type { Pos } from './ast.ts';
import type { GenContext } from './codegen-context.ts';
import { concat, genExpr, type Js, orEmpty, positioned, vmodArgs } from './codegen-expr.ts';
import type { TExpr, TStmt, TTarget } from './tir.ts';
import type { VclType } from './spec.ts';
import { isHeaderName } from '../runtime/http.ts';

/** Collects the lines of the generated source with their indentation. */
export class Lines {
  readonly #out: string[] = [];

  add(depth: number, line: string): void {
    this.#out.push(`${'  '.repeat(depth)}${line}`);
  }

  toString(): string {
    return this.#out.join('\n');
  }
}

/** Async subs, by VCL name: their calls must be awaited. */
export type AsyncSubs = ReadonlySet<string>;

export function genBlock(g: GenContext, body: readonly TStmt[], out: Lines, depth: number, asyncSubs: AsyncSubs): void {
  for (const s of body) genStmt(g, s, out, depth, asyncSubs);
}

function comment(g: GenContext, pos: Pos, out: Lines, depth: number): void {
  const text = g.sourceText(pos).replace(/\s+/g, ' ');
  out.add(depth, `// ${g.where(pos)}: ${text.length > 100 ? `${text.slice(0, 97)}...` : text}`);
}

function genStmt(g: GenContext, s: TStmt, out: Lines, depth: number, asyncSubs: AsyncSubs): void {
  if (s.k !== 'if') comment(g, s.pos, out, depth);
  switch (s.k) {
    case 'set':
      genSet(g, s, out, depth);
      return;
    case 'unset':
      out.add(depth, `${unsetCode(g, s.target)};`);
      return;
    case 'call': {
      const call = `${g.subName(s.sub)}(t)`;
      out.add(depth, `{ const r = ${asyncSubs.has(s.sub) ? `await ${call}` : call}; if (r !== undefined) return r; }`);
      return;
    }
    case 'return':
      out.add(depth, `return${returnValue(g, s)};`);
      return;
    case 'if':
      genIf(g, s, out, depth, asyncSubs, false);
      return;
    case 'new':
      genNew(g, s, out, depth);
      return;
    case 'hash_data': {
      const parts = s.value.k === 'concat' ? s.value.parts : [s.value];
      for (const p of parts) out.add(depth, `t.hashPart(${genExpr(g, p).code});`);
      out.add(depth, 't.hashPart(null);');
      return;
    }
    case 'synthetic':
      out.add(depth, `t.synthetic(${genExpr(g, s.value).code});`);
      return;
    case 'ban':
      out.add(depth, `t.banStatement(${genExpr(g, s.value).code});`);
      return;
    case 'eval':
      out.add(depth, `${genExpr(g, s.e).code};`);
      return;
    default:
      assertNever(s, 'statement');
  }
}

function genIf(g: GenContext, s: Extract<TStmt, { k: 'if' }>, out: Lines, depth: number, asyncSubs: AsyncSubs, elseIf: boolean): void {
  comment(g, s.pos, out, depth);
  const cond = genExpr(g, s.cond).code;
  const head = `if (${cond.startsWith('(') && cond.endsWith(')') && balanced(cond.slice(1, -1)) ? cond.slice(1, -1) : cond}) {`;
  out.add(depth, elseIf ? `} else ${head}` : head);
  genBlock(g, s.then, out, depth + 1, asyncSubs);
  const otherwise = s.else;
  if (otherwise && otherwise.length === 1 && otherwise[0].k === 'if') {
    genIf(g, otherwise[0], out, depth, asyncSubs, true);
    return;
  }
  if (otherwise && otherwise.length > 0) {
    out.add(depth, '} else {');
    genBlock(g, otherwise, out, depth + 1, asyncSubs);
  }
  out.add(depth, '}');
}

/** Whether the parentheses of `s` pair up, so that outer ones around it may be dropped. */
function balanced(s: string): boolean {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

/** The value a `set` stores: its expression, or the compound one for `+=` and friends. */
function setValue(g: GenContext, s: Extract<TStmt, { k: 'set' }>, targetType: VclType): Js {
  if (s.op === '=') return genExpr(g, s.value);
  const current = targetRead(s.target, targetType);
  if (s.op === '+=' && (targetType === 'STRING' || targetType === 'HEADER')) return concat(g, [current, s.value]);
  const op = s.op.slice(0, 1) as '+' | '-' | '*' | '/';
  return genExpr(g, { k: 'arith', type: targetType, op, l: current, r: s.value, pos: s.value.pos });
}

function targetRead(target: TTarget, type: VclType): TExpr {
  if (target.k === 'header') return { k: 'header', type: 'STRING', obj: target.obj, name: target.name, pos: target.pos };
  return { k: 'var', type, spec: target.spec, pos: target.pos };
}

function genSet(g: GenContext, s: Extract<TStmt, { k: 'set' }>, out: Lines, depth: number): void {
  const target = s.target;
  const p = g.pos(s.pos);
  // The body of a synthetic response is only ever appended to or replaced.
  if (target.k === 'var' && target.spec.type === 'BODY') {
    // A BLOB is written as its bytes, not as its text form (the checker typed it as a STRING).
    const value = s.value.k === 'conv' && s.value.from === 'BLOB' ? s.value.e : s.value;
    const v = genExpr(g, value);
    if (s.op === '+=') out.add(depth, `t.synthetic(${v.code});`);
    else out.add(depth, `${g.k({ kind: 'set', variable: target.spec.name })}(t, ${v.code});`);
    return;
  }
  const type: VclType = target.k === 'header' ? 'STRING' : target.spec.type;
  const v = setValue(g, s, type);
  // A header set from an unset string is set empty, as in Varnish.
  const value = target.k === 'header' && s.op === '=' ? orEmpty(s.value, v.code) : v.code;
  const store =
    target.k === 'header'
      ? (x: string) => `${g.k({ kind: 'http', obj: target.obj })}(t).${setHeaderCall(target.name)}, ${x});`
      : (x: string) => `${g.k({ kind: 'set', variable: target.spec.name })}(t, ${x});`;
  if (v.at) {
    out.add(depth, `{ const v = ${value}; t.at = ${p}; ${store('v')} }`);
  } else {
    out.add(depth, `t.at = ${p}; ${store(value)}`);
  }
}

/**
 * The start of a header set: a name valid for HTTP is checked and lower-cased here, once;
 * any other goes through `set`, which refuses it when it runs, as before.
 */
function setHeaderCall(name: string): string {
  if (isHeaderName(name)) return `setKnown(${JSON.stringify(name)}, ${JSON.stringify(name.toLowerCase())}`;
  return `set(${JSON.stringify(name)}`;
}

function unsetCode(g: GenContext, target: TTarget): string {
  if (target.k === 'header') return `${g.k({ kind: 'http', obj: target.obj })}(t).unset(${JSON.stringify(target.name.toLowerCase())})`;
  return `${g.k({ kind: 'unset', variable: target.spec.name })}(t)`;
}

/** What follows `return`: nothing, a shared action, or an action built from its arguments. */
function returnValue(g: GenContext, s: Extract<TStmt, { k: 'return' }>): string {
  const action = s.action;
  if (action === undefined) return '';
  if (action === 'vcl') return ` ${g.k({ kind: 'vclAction', label: s.label ?? '' })}`;
  if (action === 'fail' && s.args.length > 0) {
    // return (fail("reason")): the reason is the task's error, reported at this statement.
    const reason = genExpr(g, s.args[0]);
    return ` ${g.k({ kind: 'op', name: 'failWith' })}(${reason.code}, ${JSON.stringify(g.positionText(s.pos))})`;
  }
  if (action === 'synth' || action === 'error' || (action === 'pass' && s.args.length > 0)) {
    const args = s.args.map((a) => genExpr(g, a));
    return ` ${positioned(g, s.pos, g.k({ kind: 'op', name: action }), args).code}`;
  }
  return ` ${g.k({ kind: 'action', name: action as 'hash' })}`;
}

function genNew(g: GenContext, s: Extract<TStmt, { k: 'new' }>, out: Lines, depth: number): void {
  const self = g.instanceName(s.name);
  const cls = g.k({ kind: 'ctor', module: s.module, object: s.object.name });
  const key = g.k({ kind: 'vmodKey', module: s.module });
  const args = [{ code: 't', at: false }, { code: JSON.stringify(s.name), at: false }, ...vmodArgs(g, s.args, s.module, key)];
  const p = g.pos(s.pos);
  const codes = args.map((a) => a.code);
  if (args.some((a) => a.at)) {
    codes[codes.length - 1] = `${g.k({ kind: 'op', name: 'at' })}(t, ${p}, ${codes[codes.length - 1]})`;
    out.add(depth, `${self} = new ${cls}(${codes.join(', ')});`);
  } else {
    out.add(depth, `t.at = ${p}; ${self} = new ${cls}(${codes.join(', ')});`);
  }
  out.add(depth, `${g.k({ kind: 'created' })}(${JSON.stringify(s.name)}, ${self});`);
}
