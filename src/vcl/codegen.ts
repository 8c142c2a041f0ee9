// Code generation: the typed IR of a checked VCL → the source of one JS function body that,
// given the array `k` of hoisted constants (described by `constants`), returns one JS function
// per VCL sub. The loader compiles it once with `new Function('k', source)`; the request path
// then calls plain functions, as the closure keeps every constant in a local.
//
// We generate source rather than a tree of closures because V8 then sees one function per sub
// with its constants in locals, and can inline accessors and helper subs; bench/vcl-exec.ts
// measures the result.
//
// Async: a sub that calls an async VMOD function (std.cache_req_body), or calls such a sub, is
// generated `async`; every other sub stays synchronous, so the hit path never awaits.

import type { Pos } from './ast.ts';
import { assertNever } from './assert-never.ts';
import type { SourceFile } from './diagnostics.ts';
import { type AsyncCallTest, type ConstSpec, GenContext } from './codegen-context.ts';
import { genBlock, Lines } from './codegen-stmt.ts';
import type { CheckedVcl, TArg, TExpr, TStmt } from './tir.ts';

export type { AsyncCallTest, ConstSpec };

export interface GeneratedVcl {
  /** The body of `new Function('k', source)`; it returns `{ [subName]: function }`. */
  readonly source: string;
  /** What each element of `k` must be, in order. */
  readonly constants: readonly ConstSpec[];
  /** VCL positions by index: `t.at` holds one of these indexes while code runs. */
  readonly positions: readonly Pos[];
  /** The subs generated as async functions. */
  readonly asyncSubs: ReadonlySet<string>;
  /** Object instances created by `new` in vcl_init, by VCL name, in creation order. */
  readonly instances: readonly string[];
}

export interface GenerateOptions {
  /** The VCL's name, for the header comment. */
  readonly name?: string;
  /** Whether a VMOD call goes to an async implementation; none does when absent. */
  readonly isAsyncCall?: AsyncCallTest;
}

export function generateVcl(checked: CheckedVcl, sources: readonly SourceFile[], opts: GenerateOptions = {}): GeneratedVcl {
  const isAsyncCall = opts.isAsyncCall ?? (() => false);
  const g = new GenContext(sources, isAsyncCall);
  const asyncSubs = findAsyncSubs(checked, isAsyncCall);
  const instances = newStatements(checked.subs.get('vcl_init')?.body ?? []);
  for (const name of instances) g.instanceName(name);

  const body = new Lines();
  for (const sub of checked.subs.values()) {
    const isAsync = asyncSubs.has(sub.name);
    g.inAsyncSub = isAsync;
    body.add(0, '');
    body.add(0, `// sub ${sub.name} (${g.where(sub.pos)})`);
    body.add(0, `${isAsync ? 'async ' : ''}function ${g.subName(sub.name)}(t) {`);
    genBlock(g, sub.body, body, 1, asyncSubs);
    body.add(0, '}');
  }
  const subsObject = [...checked.subs.keys()].map((name) => `  ${JSON.stringify(name)}: ${g.subName(name)},`);

  const head = new Lines();
  head.add(0, '"use strict";');
  head.add(0, `// VCL ${JSON.stringify(opts.name ?? sources[0]?.name ?? '')} compiled by Shellac: one function per sub.`);
  head.add(0, '// Hoisted constants: operations, variable accessors, regexes, ACLs, backends, VMOD functions.');
  for (const [i, name] of g.constantNames.entries()) head.add(0, `const ${name} = k[${i}];`);
  for (const js of g.instances.values()) head.add(0, `let ${js} = null;`);
  const source = `${head}\n${body}\n\nreturn {\n${subsObject.join('\n')}\n};\n`;
  return { source, constants: g.constants, positions: g.positions, asyncSubs, instances };
}

/** Subs that must be async: those with an async VMOD call, and their callers, transitively. */
function findAsyncSubs(checked: CheckedVcl, isAsyncCall: AsyncCallTest): Set<string> {
  const result = new Set<string>();
  const callers = new Map<string, string[]>();
  for (const sub of checked.subs.values()) {
    walkStatements(sub.body, (s) => {
      if (s.k === 'call') {
        const list = callers.get(s.sub) ?? [];
        list.push(sub.name);
        callers.set(s.sub, list);
      }
      forEachExpr(s, (e) => {
        if ((e.k === 'vmod_call' || e.k === 'method_call') && isAsyncCall(e)) result.add(sub.name);
      });
    });
  }
  const queue = [...result];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    for (const caller of callers.get(name) ?? []) {
      if (!result.has(caller)) {
        result.add(caller);
        queue.push(caller);
      }
    }
  }
  return result;
}

function newStatements(body: readonly TStmt[]): string[] {
  const names: string[] = [];
  walkStatements(body, (s) => {
    if (s.k === 'new') names.push(s.name);
  });
  return names;
}

export function walkStatements(body: readonly TStmt[], fn: (s: TStmt) => void): void {
  for (const s of body) {
    fn(s);
    if (s.k === 'if') {
      walkStatements(s.then, fn);
      if (s.else) walkStatements(s.else, fn);
    }
  }
}

/** Calls `fn` on every expression of a statement (not of nested statements), depth first. */
export function forEachExpr(s: TStmt, fn: (e: TExpr) => void): void {
  const visit = (e: TExpr | undefined): void => {
    if (e === undefined) return;
    fn(e);
    switch (e.k) {
      case 'not':
      case 'neg':
      case 'conv':
      case 'type_method':
        visit(e.e);
        break;
      case 'and':
      case 'or':
      case 'cmp':
      case 'arith':
        visit(e.l);
        visit(e.r);
        break;
      case 'match':
        visit(e.l);
        visit(e.regex);
        break;
      case 'aclmatch':
        visit(e.l);
        visit(e.acl);
        break;
      case 'concat':
        for (const p of e.parts) visit(p);
        break;
      case 'regsub':
        visit(e.subject);
        visit(e.regex);
        visit(e.replacement);
        break;
      case 'vmod_call':
      case 'method_call':
        visitArgs(e.args);
        break;
      // Leaves: nothing inside to visit.
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
      case 'regex':
        break;
      default:
        assertNever(e, 'expression');
    }
  };
  const visitArgs = (args: readonly TArg[]) => {
    for (const a of args) visit(a.value);
  };
  switch (s.k) {
    case 'set':
      visit(s.value);
      break;
    case 'return':
      for (const a of s.args) visit(a);
      break;
    case 'if':
      visit(s.cond);
      break;
    case 'new':
      visitArgs(s.args);
      break;
    case 'hash_data':
    case 'synthetic':
    case 'ban':
      visit(s.value);
      break;
    case 'eval':
      visit(s.e);
      break;
    // No expression of their own.
    case 'unset':
    case 'call':
      break;
    default:
      assertNever(s, 'statement');
  }
}
