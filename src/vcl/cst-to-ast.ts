// From Chevrotain's concrete syntax tree to the AST of ast.ts. One function per grammar rule,
// plain functions over the CST's children rather than Chevrotain's visitor class: it is the hot
// path after lexing and parsing, and this keeps it to direct property reads.

import type { CstElement, CstNode } from 'chevrotain';
import type * as A from './ast.ts';
import type { Diagnostics } from './diagnostics.ts';
import { stringValue, tokenPos, type VclToken } from './lexer.ts';
import { DURATION_UNITS } from '../common/units.ts';

type Kids = Record<string, CstElement[] | undefined>;

function tok(k: Kids, key: string, i = 0): VclToken {
  return k[key]![i] as VclToken;
}
function optTok(k: Kids, key: string, i = 0): VclToken | undefined {
  return k[key]?.[i] as VclToken | undefined;
}
function sub(k: Kids, key: string, i = 0): Kids {
  return (k[key]![i] as CstNode).children;
}
function subs(k: Kids, key: string): Kids[] {
  return ((k[key] ?? []) as CstNode[]).map((n) => n.children);
}

/** A position from the start of one token to the end of another. */
function spanPos(first: VclToken, last: VclToken): A.Pos {
  return { ...tokenPos(first), length: last.endOffset! - first.startOffset + 1 };
}

function ident(t: VclToken): A.Ident {
  return { name: t.image, pos: tokenPos(t) };
}

const BYTES_PREFIX: Readonly<Record<string, number>> = { k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40, p: 2 ** 50 };

/** Varnish's BYTES units: an optional K, M, G, T or P, then an optional B, in either case. */
export function bytesUnit(unit: string): number | undefined {
  const m = /^([kmgtp]?)(b?)$/i.exec(unit);
  if (m === null || unit === '') return undefined;
  return m[1] === '' ? 1 : BYTES_PREFIX[m[1]!.toLowerCase()];
}

/** Binding strength of the binary operators, Varnish's order; higher binds tighter. */
const PRECEDENCE: Readonly<Record<string, number>> = {
  '||': 1,
  '&&': 2,
  '==': 4,
  '!=': 4,
  '<': 4,
  '>': 4,
  '<=': 4,
  '>=': 4,
  '~': 4,
  '!~': 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
  '%': 6,
};

/** `!` sits between `&&` and the comparisons: `!a == b && c` is `(!(a == b)) && c`. */
const NOT_OPERAND = 4;

/** Where precedence climbing is in an expression's flat run of operands and operators. */
interface Run {
  readonly operands: Kids[];
  /** ops[i] stands between operands[i] and operands[i + 1]. */
  readonly ops: VclToken[];
  at: number;
  prefixAt: number;
}

/** Builds AST nodes, reporting what the grammar lets through but Varnish refuses (units). */
export class AstBuilder {
  readonly d: Diagnostics;

  constructor(diagnostics: Diagnostics) {
    this.d = diagnostics;
  }

  // -------------------------------------------------------------------------------------------
  // Declarations

  topDecl(node: CstNode): A.TopDecl {
    const k = node.children;
    if (k.subDecl) return this.subDecl(sub(k, 'subDecl'));
    if (k.backendDecl) return this.backendDecl(sub(k, 'backendDecl'));
    if (k.aclDecl) return this.aclDecl(sub(k, 'aclDecl'));
    if (k.probeDecl) return this.probeDecl(sub(k, 'probeDecl'));
    return this.importDecl(sub(k, 'importDecl'));
  }

  importDecl(k: Kids): A.ImportDecl {
    const alias = optTok(k, 'alias');
    const from = optTok(k, 'from');
    return {
      kind: 'import',
      pos: tokenPos(tok(k, 'KwImport')),
      module: ident(tok(k, 'module')),
      ...(alias && { alias: ident(alias) }),
      ...(from && { from: this.stringLit(from) }),
    };
  }

  backendDecl(k: Kids): A.BackendDecl {
    const none = k.KwNone !== undefined;
    return {
      kind: 'backend',
      pos: tokenPos(tok(k, 'KwBackend')),
      name: ident(tok(k, 'name')),
      none,
      fields: none ? [] : this.fields(sub(k, 'fieldList')),
    };
  }

  probeDecl(k: Kids): A.ProbeDecl {
    return {
      kind: 'probe',
      pos: tokenPos(tok(k, 'KwProbe')),
      name: ident(tok(k, 'name')),
      fields: this.fields(sub(k, 'fieldList')),
    };
  }

  fields(k: Kids): A.Field[] {
    return subs(k, 'field').map((f) => this.field(f));
  }

  /** `.name = value;`; juxtaposed strings (`.request = "a" "b";`) become a '+' chain. */
  field(k: Kids): A.Field {
    const dot = tok(k, 'Dot');
    const nameTok = tok(k, 'name');
    let value: A.Expr | A.InlineProbe;
    if (k.fieldList) {
      const body = sub(k, 'fieldList');
      value = { kind: 'inline_probe', pos: tokenPos(tok(body, 'LCurly')), fields: this.fields(body) };
    } else {
      let expr = this.expression(sub(k, 'expression'));
      for (const t of (k.more ?? []) as VclToken[]) {
        const right = this.stringLit(t);
        expr = { kind: 'binary', pos: right.pos, op: '+', left: expr, right };
      }
      value = expr;
    }
    return { name: ident(nameTok), value, pos: spanPos(dot, nameTok) };
  }

  aclDecl(k: Kids): A.AclDecl {
    const signs = (k.flagSign ?? []) as VclToken[];
    return {
      kind: 'acl',
      pos: tokenPos(tok(k, 'KwAcl')),
      name: ident(tok(k, 'name')),
      flags: signs.map((s, i) => ({ on: s.image === '+', name: ident(tok(k, 'flag', i)) })),
      entries: subs(k, 'aclEntry').map((e) => this.aclEntry(e)),
    };
  }

  aclEntry(k: Kids): A.AclEntry {
    const a = sub(k, 'aclAddress');
    const addr = tok(a, 'address');
    const mask = optTok(a, 'mask');
    return {
      pos: tokenPos(addr),
      negated: k.Bang !== undefined,
      optional: k.LParen !== undefined,
      address: this.stringLit(addr),
      ...(mask && { mask: this.number(mask) as A.IntLit }),
    };
  }

  subDecl(k: Kids): A.SubDecl {
    return {
      kind: 'sub',
      pos: tokenPos(tok(k, 'KwSub')),
      name: ident(tok(k, 'name')),
      body: this.block(sub(k, 'block')),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Statements

  block(k: Kids): A.Block {
    const stmts = subs(k, 'statement').map((s) => this.statement(s));
    return { kind: 'block', pos: tokenPos(tok(k, 'LCurly')), stmts };
  }

  statement(k: Kids): A.Stmt {
    if (k.setStmt) return this.setStmt(sub(k, 'setStmt'));
    if (k.exprStmt) return this.exprStmt(sub(k, 'exprStmt'));
    if (k.ifStmt) return this.ifStmt(sub(k, 'ifStmt'));
    if (k.unsetStmt) return this.unsetStmt(sub(k, 'unsetStmt'));
    if (k.returnStmt) return this.returnStmt(sub(k, 'returnStmt'));
    if (k.callStmt) return this.callStmt(sub(k, 'callStmt'));
    if (k.block) return this.block(sub(k, 'block'));
    return this.newStmt(sub(k, 'newStmt'));
  }

  setStmt(k: Kids): A.SetStmt {
    const op = tok(k, 'AssignOp');
    return {
      kind: 'set',
      pos: tokenPos(tok(k, 'KwSet')),
      target: this.name(sub(k, 'name')),
      op: op.image as A.AssignOp,
      opPos: tokenPos(op),
      value: this.expression(sub(k, 'expression')),
    };
  }

  unsetStmt(k: Kids): A.UnsetStmt {
    return { kind: 'unset', pos: tokenPos(tok(k, 'KwUnset')), target: this.name(sub(k, 'name')) };
  }

  callStmt(k: Kids): A.CallStmt {
    return { kind: 'call', pos: tokenPos(tok(k, 'KwCall')), sub: this.name(sub(k, 'name')) };
  }

  returnStmt(k: Kids): A.ReturnStmt {
    const action = optTok(k, 'action');
    return {
      kind: 'return',
      pos: tokenPos(tok(k, 'KwReturn')),
      ...(action && { action: ident(action) }),
      args: subs(k, 'expression').map((e) => this.expression(e)),
    };
  }

  /** The conditions and blocks pair up in order; one block more is the final `else`. */
  ifStmt(k: Kids): A.IfStmt {
    const conds = subs(k, 'condition');
    const blocks = subs(k, 'block');
    let tail: A.Block | A.IfStmt | undefined =
      blocks.length > conds.length ? this.block(blocks[blocks.length - 1]!) : undefined;
    for (let i = conds.length - 1; i >= 0; i--) {
      const kw = i === 0 ? tok(k, 'KwIf') : tok(k, 'elseIf', i - 1);
      const node: A.IfStmt = {
        kind: 'if',
        pos: tokenPos(kw),
        cond: this.expression(sub(conds[i]!, 'expression')),
        // biome-ignore lint/suspicious/noThenProperty: the field's name in ast.ts; IfStmt is no promise
        then: this.block(blocks[i]!),
        ...(tail && { else: tail }),
      };
      tail = node;
    }
    return tail as A.IfStmt;
  }

  newStmt(k: Kids): A.NewStmt {
    const callee = this.name(sub(k, 'ctor'));
    return {
      kind: 'new',
      pos: tokenPos(tok(k, 'KwNew')),
      name: this.name(sub(k, 'name')),
      ctor: { kind: 'call', pos: callee.pos, callee, args: this.args(sub(k, 'args')) },
    };
  }

  exprStmt(k: Kids): A.ExprStmt {
    const callee = this.name(sub(k, 'name'));
    const expr: A.CallExpr = { kind: 'call', pos: callee.pos, callee, args: this.args(sub(k, 'args')) };
    return { kind: 'expr', pos: callee.pos, expr };
  }

  // -------------------------------------------------------------------------------------------
  // Expressions. The grammar gives a flat run of operands and operators; precedence climbing
  // builds the tree, Varnish's precedences in PRECEDENCE.

  expression(k: Kids): A.Expr {
    const operands = subs(k, 'operand');
    const ops = k.BinaryOp as VclToken[] | undefined;
    // Most expressions are a single operand without prefixes: no climbing needed.
    if (ops === undefined && operands[0]!.prefix === undefined) return this.operand(operands[0]!);
    const run: Run = { operands, ops: ops ?? [], at: 0, prefixAt: 0 };
    return this.climb(run, 1);
  }

  /** The operators of `run` from the current one on, as long as they bind at least `min`. */
  private climb(run: Run, min: number): A.Expr {
    let left = this.prefixed(run);
    for (;;) {
      const op = run.ops[run.at];
      if (op === undefined) return left;
      const prec = PRECEDENCE[op.image]!;
      if (prec < min) return left;
      run.at++;
      run.prefixAt = 0;
      const right = this.climb(run, prec + 1);
      left = { kind: 'binary', pos: tokenPos(op), op: op.image as A.BinaryOp, left, right };
    }
  }

  /** The current operand with its prefixes; `!` takes in the comparison that follows it. */
  private prefixed(run: Run): A.Expr {
    const k = run.operands[run.at]!;
    const prefix = k.prefix?.[run.prefixAt] as VclToken | undefined;
    if (prefix === undefined) return this.operand(k, true);
    run.prefixAt++;
    const operand = prefix.image === '!' ? this.climb(run, NOT_OPERAND) : this.prefixed(run);
    return { kind: 'unary', pos: tokenPos(prefix), op: prefix.image as A.UnaryOp, operand };
  }

  /** An operand: a primary and the method calls on it; its prefixes too unless `bare`. */
  operand(k: Kids, bare = false): A.Expr {
    if (!bare && k.prefix !== undefined) {
      return this.prefixed({ operands: [k], ops: [], at: 0, prefixAt: 0 });
    }
    let expr = this.primary(k);
    const methods = k.method as VclToken[] | undefined;
    if (methods === undefined) return expr;
    const argLists = subs(k, 'methodArgs');
    for (let i = 0; i < methods.length; i++) {
      const m = methods[i]!;
      expr = { kind: 'method', pos: tokenPos(m), target: expr, method: ident(m), args: this.args(argLists[i]!) };
    }
    return expr;
  }

  primary(k: Kids): A.Expr {
    if (k.name) {
      const name = this.name(sub(k, 'name'));
      if (!k.callArgs) return name;
      return { kind: 'call', pos: name.pos, callee: name, args: this.args(sub(k, 'callArgs')) };
    }
    if (k.String) return this.stringLit(tok(k, 'String'));
    if (k.Blob) {
      const t = tok(k, 'Blob');
      return { kind: 'blob', pos: tokenPos(t), text: t.image.slice(1, -1) };
    }
    if (k.Number) return this.number(tok(k, 'Number'), optTok(k, 'unit'));
    return { kind: 'paren', pos: tokenPos(tok(k, 'LParen')), inner: this.expression(sub(k, 'expression')) };
  }

  args(k: Kids): A.Arg[] {
    return subs(k, 'arg').map((a) => {
      const value = this.expression(sub(a, 'expression'));
      const key = optTok(a, 'key');
      return key ? { pos: tokenPos(key), name: ident(key), value } : { pos: value.pos, value };
    });
  }

  /** `req.http."x.y"` has the parts req, http and x.y, and the text `req.http.x.y`. */
  name(k: Kids): A.Name {
    const tokens = k.part as VclToken[];
    const parts: A.NamePart[] = tokens.map((t) => ({ text: t.image, quoted: false, pos: tokenPos(t) }));
    let last = tokens[tokens.length - 1]!;
    const quoted = optTok(k, 'quoted');
    if (quoted) {
      parts.push({ text: stringValue(quoted.image).value, quoted: true, pos: tokenPos(quoted) });
      last = quoted;
    }
    const text = parts.length === 1 ? parts[0]!.text : parts.map((p) => p.text).join('.');
    return { kind: 'name', pos: spanPos(tokens[0]!, last), parts, text };
  }

  stringLit(t: VclToken): A.StringLit {
    const { value, quote } = stringValue(t.image);
    return { kind: 'string', pos: tokenPos(t), value, quote };
  }

  /**
   * `1`, `1.5`, `10s`, `10 s`, `1.5h`, `100KB`. Which units a number takes depends in Varnish on
   * the type wanted: a duration unit gives a DurationLit, a bytes unit a BytesLit, and `text`
   * keeps the unit for the checker, which reads `10m` as 10 MB where BYTES are wanted.
   */
  number(t: VclToken, unit?: VclToken): A.IntLit | A.RealLit | A.DurationLit | A.BytesLit {
    const n = Number(t.image);
    if (unit !== undefined) {
      const text = `${t.image}${unit.image}`;
      const pos = spanPos(t, unit);
      const u = unit.image;
      if (Object.hasOwn(DURATION_UNITS, u)) return { kind: 'duration', pos, value: n * DURATION_UNITS[u]!, text };
      const bytes = bytesUnit(u);
      if (bytes !== undefined) return { kind: 'bytes', pos, value: n * bytes, text };
      this.d.error(
        tokenPos(unit),
        `Unknown unit '${u}': durations take ms, s, m, h, d, w or y; bytes take B, KB, MB, GB, TB or PB`,
      );
    }
    const kind = t.image.includes('.') ? 'real' : 'int';
    return { kind, pos: tokenPos(t), value: n, text: t.image };
  }
}
