// Typing of VCL expressions: from AST to typed IR, following Varnish's rules. An expression is
// typed with the type its context wants as a hint (`want`), which is how literals adapt (an INT
// literal where a REAL is wanted is a REAL) and how `+` turns into string concatenation where a
// string is wanted. Conversions a context allows are made explicit by `coerce`.

import type { Arg, BinaryExpr, CallExpr, Expr, MethodCall, Name, Pos, UnaryExpr } from './ast.ts';
import type { CheckContext } from './check-context.ts';
import { bindCall, type CallTarget, resolveCallTarget } from './check-call.ts';
import { resolveName } from './check-name.ts';
import { TYPE_METHODS, type VclType } from './spec.ts';
import { foldName } from './symbols.ts';
import type { TExpr } from './tir.ts';
import { additive, COMPARISONS, hasAdditive, isStringy, joinsStrings, MULTIPLIER, NEGATABLE, TO_BOOL, TO_STRING } from './types.ts';
import { ipOrHostLiteral } from './ip-literal.ts';
import { assertNever } from './assert-never.ts';

/**
 * Varnish's limits on number literals (of any unit): 15 digits for an integer, 12 before the
 * point and 3 after it for a real. Longer ones would not survive the trip through a double.
 */
export function numberLiteralError(text: string): string | undefined {
  const m = /^(\d*)(?:\.(\d*))?/.exec(text);
  const whole = m?.[1]?.length ?? 0;
  const fraction = m?.[2];
  if (fraction === undefined) return whole > 15 ? 'Too many digits for integer (VCL allows 15).' : undefined;
  if (whole > 12 || fraction.length > 3) return 'Too many digits for real (VCL allows 12 before the point and 3 after).';
  return undefined;
}

/** Types an expression; reports and returns undefined when it cannot be typed. */
export function typeExpr(cx: CheckContext, e: Expr, want?: VclType): TExpr | undefined {
  if (e.kind === 'int' || e.kind === 'real' || e.kind === 'duration' || e.kind === 'bytes') {
    const tooLong = numberLiteralError(e.text);
    if (tooLong) return cx.error(e.pos, tooLong);
  }
  switch (e.kind) {
    case 'string':
      return { k: 'const', type: 'STRING', value: e.value, pos: e.pos };
    case 'blob':
      // Kept as its base64 text; code generation decodes it once.
      return { k: 'const', type: 'BLOB', value: e.text, pos: e.pos };
    case 'int':
    case 'real':
      if (want === 'BYTES') return cx.error(e.pos, `Expected BYTES unit (B, KB, MB...) after '${e.text}'`);
      if (e.kind === 'int' && want !== 'REAL') return { k: 'const', type: 'INT', value: e.value, pos: e.pos };
      return { k: 'const', type: 'REAL', value: e.value, pos: e.pos };
    case 'duration':
      if (want === 'BYTES') {
        return cx.error(e.pos, `Unknown BYTES unit in '${e.text}'. Legal are 'B', 'KB', 'MB', 'GB' and 'TB'`);
      }
      return { k: 'const', type: 'DURATION', value: e.value, pos: e.pos };
    case 'bytes':
      if (want !== 'BYTES') return cx.error(e.pos, `Unknown duration unit in '${e.text}' (a BYTES value is not wanted here)`);
      return { k: 'const', type: 'BYTES', value: e.value, pos: e.pos };
    case 'paren':
      return typeExpr(cx, e.inner, want);
    case 'unary':
      return typeUnary(cx, e, want);
    case 'binary':
      return typeBinary(cx, e, want);
    case 'name':
      return resolveName(cx, e, want);
    case 'call':
      return typeCall(cx, e, want);
    case 'method':
      return typeMethodOnValue(cx, e);
  }
}

/** Types an expression and converts it to `want`, as assignments and arguments do. */
export function typeAs(cx: CheckContext, e: Expr, want: VclType): TExpr | undefined {
  if (want === 'REGEX') return regexOperand(cx, e);
  const t = typeExpr(cx, e, want);
  return t && coerce(cx, t, want);
}

/** Makes an implicit conversion explicit, or reports that none exists. */
export function coerce(cx: CheckContext, t: TExpr, want: VclType): TExpr | undefined {
  if (t.type === want) return t;
  const pos = t.pos;
  if (want === 'STRING' || want === 'STRANDS' || want === 'STRING_LIST' || want === 'BODY') {
    if (t.type === 'STRING' || t.type === 'STRANDS') return t;
    if (TO_STRING.has(t.type)) return { k: 'conv', type: 'STRING', from: t.type, e: t, pos };
  } else if (want === 'BOOL') {
    if (TO_BOOL.has(t.type)) return { k: 'conv', type: 'BOOL', from: t.type, e: t, pos };
  } else if (want === 'REAL' && t.k === 'const' && t.type === 'INT') {
    return { ...t, type: 'REAL' };
  } else if (want === 'IP' && t.k === 'const' && t.type === 'STRING') {
    const ip = ipOrHostLiteral(String(t.value));
    if (!ip) return cx.error(pos, `Cannot convert to an IP address: '"${t.value}"'`);
    return { k: 'const', type: 'IP', value: ip, pos };
  }
  return cx.error(startPos(t), `Expression has type ${typeName(t)}, expected ${want}`);
}

/** Where an expression begins: a binary one is placed at its operator, but is shown from its left end. */
function startPos(t: TExpr): Pos {
  switch (t.k) {
    case 'arith':
    case 'cmp':
    case 'and':
    case 'or':
    case 'match':
    case 'aclmatch':
      return startPos(t.l);
    case 'concat':
      return t.parts.length > 0 ? startPos(t.parts[0]) : t.pos;
    // The rest begin where they are placed.
    case 'const':
    case 'var':
    case 'header':
    case 'storage_var':
    case 'backend':
    case 'acl':
    case 'probe':
    case 'sub':
    case 'stevedore':
    case 'instance':
    case 'enum':
    case 'null':
    case 'not':
    case 'neg':
    case 'conv':
    case 'regex':
    case 'regsub':
    case 'vmod_call':
    case 'method_call':
    case 'type_method':
      return t.pos;
    default:
      return assertNever(t, 'expression');
  }
}

/** How a type is named in messages; object instances by their VMOD object. */
export function typeName(t: TExpr): string {
  return t.k === 'instance' ? t.objectType : t.type;
}

function typeUnary(cx: CheckContext, e: UnaryExpr, want?: VclType): TExpr | undefined {
  if (e.op === '!') {
    const operand = typeAs(cx, e.operand, 'BOOL');
    return operand && { k: 'not', type: 'BOOL', e: operand, pos: e.pos };
  }
  const operand = typeExpr(cx, e.operand, want);
  if (!operand) return undefined;
  if (!NEGATABLE.has(operand.type)) return cx.error(e.pos, `Operator ${e.op} not possible on type ${operand.type}.`);
  if (e.op === '+') return operand;
  if (operand.k === 'const' && typeof operand.value === 'number') return { ...operand, value: -operand.value, pos: e.pos };
  return { k: 'neg', type: operand.type, e: operand, pos: e.pos };
}

function typeBinary(cx: CheckContext, e: BinaryExpr, want?: VclType): TExpr | undefined {
  switch (e.op) {
    case '||':
    case '&&': {
      const l = typeAs(cx, e.left, 'BOOL');
      const r = typeAs(cx, e.right, 'BOOL');
      if (!l || !r) return undefined;
      return { k: e.op === '||' ? 'or' : 'and', type: 'BOOL', l, r, pos: e.pos };
    }
    case '~':
    case '!~':
      return typeMatch(cx, e);
    case '==':
    case '!=':
    case '<':
    case '>':
    case '<=':
    case '>=':
      return typeCompare(cx, e, e.op);
    case '+':
    case '-':
      return typeAdditive(cx, e, e.op, want);
    case '*':
    case '/':
    case '%':
      return typeMultiplicative(cx, e, e.op, want);
  }
}


function typeAdditive(cx: CheckContext, e: BinaryExpr, op: '+' | '-', want?: VclType): TExpr | undefined {
  const l = typeExpr(cx, e.left, want);
  if (!l) return undefined;
  // The right operand is typed like the left one where that type has this operator, so that
  // literals adapt; otherwise, after a string or in a string context, as a string (so that
  // `"a" + (req.restarts + " ")` joins inside the parentheses too, as VCC does).
  const joins = isStringy(l.type) || joinsStrings(want);
  const rightWant = hasAdditive(op, l.type) ? l.type : joins ? 'STRING' : undefined;
  const r = typeExpr(cx, e.right, rightWant);
  if (!r) return undefined;
  const result = additive(op, l.type, r.type);
  if (result) return { k: 'arith', type: result, op, l, r, pos: e.pos };
  if (op === '+' && joins) return concat(cx, l, r, e.pos);
  return cx.error(e.pos, `${typeName(l)} ${op} ${typeName(r)} not possible.`);
}

/** Joins two operands into one string; nested concatenations flatten into one list of parts. */
function concat(cx: CheckContext, l: TExpr, r: TExpr, pos: Pos): TExpr | undefined {
  const ls = coerce(cx, l, 'STRING');
  const rs = coerce(cx, r, 'STRING');
  if (!ls || !rs) return undefined;
  const parts = [...(ls.k === 'concat' ? ls.parts : [ls]), ...(rs.k === 'concat' ? rs.parts : [rs])];
  return { k: 'concat', type: 'STRING', parts, pos };
}

function typeMultiplicative(cx: CheckContext, e: BinaryExpr, op: '*' | '/' | '%', want?: VclType): TExpr | undefined {
  const l = typeExpr(cx, e.left, want);
  if (!l) return undefined;
  if (op === '%' && l.type !== 'INT') return cx.error(e.pos, 'Operator % only possible on INT.');
  const factor = MULTIPLIER[l.type];
  if (!factor) return cx.error(e.pos, `Operator ${op} not possible on type ${typeName(l)}.`);
  const r = typeExpr(cx, e.right, factor);
  if (!r) return undefined;
  if (r.type !== 'INT' && r.type !== factor) return cx.error(e.pos, `${typeName(l)} ${op} ${typeName(r)} not possible.`);
  return { k: 'arith', type: l.type, op, l, r, pos: e.pos };
}

function typeCompare(cx: CheckContext, e: BinaryExpr, op: '==' | '!=' | '<' | '>' | '<=' | '>='): TExpr | undefined {
  const l = typeExpr(cx, e.left);
  if (!l) return undefined;
  const ops = COMPARISONS[l.type === 'STRANDS' ? 'STRING' : l.type];
  if (!ops?.includes(op)) return cx.error(e.pos, `Operator ${op} not possible on ${typeName(l)}`);
  let r = typeExpr(cx, e.right, l.type);
  if (!r) return undefined;
  if (l.type === 'IP' && r.type === 'STRING' && r.k === 'const') r = coerce(cx, r, 'IP');
  if (!r) return undefined;
  const same = r.type === l.type || (isStringy(l.type) && isStringy(r.type));
  if (!same) return cx.error(e.pos, `Comparison of different types: ${typeName(l)} '${op}' ${typeName(r)}`);
  return { k: 'cmp', type: 'BOOL', op, operand: isStringy(l.type) ? 'STRING' : l.type, l, r, pos: e.pos };
}

function typeMatch(cx: CheckContext, e: BinaryExpr): TExpr | undefined {
  const negate = e.op === '!~';
  const l = typeExpr(cx, e.left);
  if (!l) return undefined;
  if (l.type === 'IP') {
    const sym = e.right.kind === 'name' ? cx.symbols.get(e.right.text) : undefined;
    if (sym?.kind === 'acl') {
      sym.refs++;
      return { k: 'aclmatch', type: 'BOOL', negate, l, acl: { k: 'acl', type: 'ACL', name: sym.name, pos: e.right.pos }, pos: e.pos };
    }
    // An ACL-typed expression: a VMOD function or method that returns one (Varnish 7.1 allows it).
    const acl = e.right.kind === 'call' || e.right.kind === 'paren' ? typeExpr(cx, e.right, 'ACL') : undefined;
    if (acl === undefined || acl.type !== 'ACL') {
      if (acl === undefined && (e.right.kind === 'call' || e.right.kind === 'paren')) return undefined;
      const what = e.right.kind === 'name' ? `'${e.right.text}'` : 'this expression';
      return cx.error(e.right.pos, `Expected an ACL name after ${e.op}, got ${what}`);
    }
    return { k: 'aclmatch', type: 'BOOL', negate, l, acl, pos: e.pos };
  }
  if (!isStringy(l.type)) return cx.error(e.pos, `Operator ${e.op} not possible on ${typeName(l)}`);
  const regex = regexOperand(cx, e.right);
  if (regex === undefined) return undefined;
  return { k: 'match', type: 'BOOL', negate, l: coerce(cx, l, 'STRING') ?? l, regex, pos: e.pos };
}

/**
 * A regex must be known when the VCL is compiled: a string literal, or literals joined with
 * `+`. It is compiled once and referred to by index.
 */
export function regexOperand(cx: CheckContext, e: Expr): TExpr | undefined {
  const text = constantString(e);
  if (text !== undefined) {
    const regex = cx.addRegex(text, e.pos);
    return regex === undefined ? undefined : { k: 'regex', type: 'REGEX', regex, pos: e.pos };
  }
  // Otherwise a REGEX-typed expression: a VMOD function that returns one (Varnish 7.1 allows it).
  const t = typeExpr(cx, e, 'REGEX');
  if (t === undefined) return undefined;
  return t.type === 'REGEX' ? t : cx.error(e.pos, `Expression has type ${typeName(t)}, expected REGEX`);
}

function constantString(e: Expr): string | undefined {
  if (e.kind === 'string') return e.value;
  if (e.kind === 'paren') return constantString(e.inner);
  if (e.kind === 'binary' && e.op === '+') {
    const l = constantString(e.left);
    const r = l === undefined ? undefined : constantString(e.right);
    return r === undefined ? undefined : l + r;
  }
  return undefined;
}

function typeCall(cx: CheckContext, e: CallExpr, want?: VclType): TExpr | undefined {
  const target = resolveCallTarget(cx, e.callee);
  if (!target) return undefined;
  if (target.k === 'value') return typeMethod(cx, target.value, target.method, e.args, e.pos);
  const t = bindCallExpr(cx, target, e, want);
  if (t && t.type === 'VOID') return cx.error(e.pos, `Function ${e.callee.text}() returns VOID: it has no value to use`);
  return t;
}

/** A call whose value may be VOID: used as a statement. */
export function typeCallStatement(cx: CheckContext, e: CallExpr): TExpr | undefined {
  const target = resolveCallTarget(cx, e.callee);
  if (!target) return undefined;
  if (target.k === 'value') return typeMethod(cx, target.value, target.method, e.args, e.pos);
  return bindCallExpr(cx, target, e, undefined);
}

function bindCallExpr(cx: CheckContext, target: Exclude<CallTarget, { k: 'value' }>, e: CallExpr, want?: VclType): TExpr | undefined {
  if (target.k === 'builtin') {
    if (target.name === 'regsub' || target.name === 'regsuball') return typeRegsub(cx, target.name, e);
    return cx.error(e.pos, `${target.name}() can only be used as a statement`);
  }
  return bindCall(cx, target, e.args, e.pos, want);
}

function typeRegsub(cx: CheckContext, name: 'regsub' | 'regsuball', e: CallExpr): TExpr | undefined {
  if (e.args.length !== 3 || e.args.some((a) => a.name)) {
    return cx.error(e.pos, `${name}() takes three arguments: ${name}(string, regex, substitution)`);
  }
  const subject = typeAs(cx, e.args[0].value, 'STRING');
  const regex = regexOperand(cx, e.args[1].value);
  const replacement = typeAs(cx, e.args[2].value, 'STRING');
  if (!subject || regex === undefined || !replacement) return undefined;
  return { k: 'regsub', type: 'STRING', all: name === 'regsuball', subject, regex, replacement, pos: e.pos };
}

function typeMethodOnValue(cx: CheckContext, e: MethodCall): TExpr | undefined {
  const target = typeExpr(cx, e.target);
  return target && typeMethod(cx, target, e.method.name, e.args, e.method.pos);
}

/** A method every value of a type has: STRING `.upper()`, `.lower()`; BACKEND `.resolve()`. */
function typeMethod(cx: CheckContext, value: TExpr, method: string, args: Arg[], pos: Pos): TExpr | undefined {
  const base = value.type === 'HEADER' ? 'STRING' : value.type;
  const name = foldName(method);
  const spec = TYPE_METHODS[base]?.[name];
  if (!spec) return cx.error(pos, `Unknown method '${method}' for type ${typeName(value)}`);
  if (args.length > 0) return cx.error(pos, `Method .${name}() takes no arguments`);
  return { k: 'type_method', type: spec.ret, method: name, e: value, pos };
}

export type { Name };
