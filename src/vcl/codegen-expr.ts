// Code generation for expressions: each typed IR expression becomes a JS expression over the
// task `t` and the hoisted constants. Values have their run-time types (src/vmod/api.ts), so
// most operators map to one JS operator; what Varnish does differently (NULL strings, integer
// division, 3-decimal printing) goes through a hoisted operation of src/runtime/vcl-ops.ts.
//
// Error positions: an expression that can fail (a VMOD call, a number printed, an INT
// division, an ACL match) sets `t.at` to its position right before it runs, after its own
// operands are evaluated, so an error is reported where it happened. `Js.at` says whether an
// expression sets `t.at` somewhere inside, which tells the statement around it to set its own
// position again before its final step.

import { utf8ToByteString } from '../common/byte-string.ts';
import { assertNever } from './assert-never.ts';
import type { GenContext } from './codegen-context.ts';
import type { TArg, TExpr } from './tir.ts';
import type { VclType } from './spec.ts';
import { STORAGE_FIELDS } from '../runtime/variables.ts';

export interface Js {
  readonly code: string;
  /** Whether evaluating it may change `t.at`. */
  readonly at: boolean;
}

const js = (code: string, at = false): Js => ({ code, at });

export function genExpr(g: GenContext, e: TExpr): Js {
  switch (e.k) {
    case 'const':
      return js(constant(g, e));
    case 'var':
      return js(`${g.k({ kind: 'get', variable: e.spec.name })}(t)`);
    case 'header':
      if (e.type === 'HEADER') return js(g.k({ kind: 'headerRef', obj: e.obj, name: e.name }));
      // Lookups are case-insensitive; a lower-case name spares VclHttp a conversion.
      return js(`${g.k({ kind: 'http', obj: e.obj })}(t).getKey(${JSON.stringify(e.name.toLowerCase())})`);
    case 'storage_var':
      return js(`${g.k({ kind: 'storage', name: e.storage })}.${STORAGE_FIELDS[`storage.*.${e.field}`]}`);
    case 'backend':
      return js(g.k({ kind: 'backend', name: e.name }));
    case 'acl':
      return js(g.k({ kind: 'aclRef', name: e.name }));
    case 'probe':
      return js(g.k({ kind: 'probe', name: e.name }));
    case 'sub':
      return js(g.k({ kind: 'subRef', name: e.name }));
    case 'stevedore':
      return js(g.k({ kind: 'storage', name: e.name }));
    case 'instance':
      return js(g.instanceName(e.name));
    case 'enum':
      return js(JSON.stringify(e.value));
    case 'null':
      return js('null');
    case 'not': {
      const x = genExpr(g, e.e);
      return js(`!${x.code}`, x.at);
    }
    case 'and':
    case 'or': {
      const l = genExpr(g, e.l);
      const r = genExpr(g, e.r);
      return js(`(${l.code} ${e.k === 'and' ? '&&' : '||'} ${r.code})`, l.at || r.at);
    }
    case 'cmp':
      return compare(g, e);
    case 'regex':
      return js(g.k({ kind: 'regex', index: e.regex }));
    case 'match': {
      const l = genExpr(g, e.l);
      const re = genExpr(g, e.regex);
      return js(`${e.negate ? '!' : ''}${re.code}.test(${l.code})`, l.at || re.at);
    }
    case 'aclmatch': {
      const l = genExpr(g, e.l);
      // A named ACL is matched directly; one a VMOD returned goes through its reference.
      const call =
        e.acl.k === 'acl'
          ? positioned(g, e.pos, g.k({ kind: 'op', name: 'aclMatch' }), [js(g.k({ kind: 'acl', name: e.acl.name })), js(JSON.stringify(e.acl.name)), l])
          : positioned(g, e.pos, g.k({ kind: 'op', name: 'aclRefMatch' }), [genExpr(g, e.acl), l]);
      return e.negate ? js(`!${call.code}`, true) : call;
    }
    case 'arith':
      return arith(g, e);
    case 'neg': {
      const x = genExpr(g, e.e);
      return js(`(-${x.code})`, x.at);
    }
    case 'concat':
      return concat(g, e.parts);
    case 'conv':
      return convert(g, e);
    case 'regsub': {
      const subject = genExpr(g, e.subject);
      const replacement = genExpr(g, e.replacement);
      const re = genExpr(g, e.regex);
      const args = [subject.code, re.code, orEmpty(e.replacement, replacement.code), String(e.all)];
      return js(`${g.k({ kind: 'op', name: 'regsub' })}(${args.join(', ')})`, subject.at || re.at || replacement.at);
    }
    case 'vmod_call': {
      const fn = g.k({ kind: 'fn', module: e.module, name: e.fn.name });
      const args = [js('t'), ...vmodArgs(g, e.args, e.module, g.k({ kind: 'vmodKey', module: e.module }))];
      return awaitIfAsync(g, e, positioned(g, e.pos, fn, args));
    }
    case 'method_call': {
      const self = g.instanceName(e.instance);
      const method = /^[A-Za-z_$][\w$]*$/.test(e.fn.name) ? `.${e.fn.name}` : `[${JSON.stringify(e.fn.name)}]`;
      const args = [js('t'), ...vmodArgs(g, e.args, e.module, self)];
      return awaitIfAsync(g, e, positioned(g, e.pos, `${self}${method}`, args));
    }
    case 'type_method':
      return typeMethod(g, e);
    default:
      return assertNever(e, 'expression');
  }
}

/** A call that sets `t.at` to `pos` once its arguments are evaluated, then calls. */
export function positioned(g: GenContext, pos: TExpr['pos'], callee: string, args: readonly Js[]): Js {
  const p = g.pos(pos);
  const nestedAt = args.findLastIndex((a) => a.at);
  if (nestedAt < 0) return js(`(t.at = ${p}, ${callee}(${args.map((a) => a.code).join(', ')}))`, true);
  // The last argument goes through at(t, N, value): it runs after every argument is evaluated.
  const codes = args.map((a) => a.code);
  const last = codes.length - 1;
  codes[last] = `${g.k({ kind: 'op', name: 'at' })}(t, ${p}, ${codes[last]})`;
  return js(`${callee}(${codes.join(', ')})`, true);
}

function awaitIfAsync(g: GenContext, e: Extract<TExpr, { k: 'vmod_call' | 'method_call' }>, call: Js): Js {
  if (!g.isAsyncCall(e)) return call;
  if (!g.inAsyncSub) throw new Error(`internal: async call of ${e.fn.name} in a sync sub`);
  return js(`(await ${call.code})`, true);
}

function constant(g: GenContext, e: Extract<TExpr, { k: 'const' }>): string {
  const v = e.value;
  if (e.type === 'IP') return g.k({ kind: 'ip', text: String(v), pos: e.pos });
  if (e.type === 'BLOB') return g.k({ kind: 'blob', base64: String(v) });
  // A literal's bytes as the source has them (r00545): VCL strings are byte strings.
  if (typeof v === 'string') return JSON.stringify(e.type === 'STRING' ? utf8ToByteString(v) : v);
  if (typeof v === 'boolean') return String(v);
  if (!Number.isFinite(v)) throw new Error(`internal: constant ${v} is not finite`);
  return v < 0 || Object.is(v, -0) ? `(${v === 0 ? '-0' : String(v)})` : String(v);
}

/** `x ?? ""` unless x can never be null. */
export function orEmpty(e: TExpr, code: string): string {
  if (e.k === 'const' || e.k === 'concat' || e.k === 'regsub') return code;
  if (e.k === 'conv' && (e.from === 'INT' || e.from === 'BYTES' || e.from === 'REAL' || e.from === 'DURATION' || e.from === 'TIME' || e.from === 'BOOL')) {
    return code;
  }
  if (e.k === 'type_method' && e.type === 'STRING') return code;
  return `(${code} ?? "")`;
}

/** String concatenation: an unset part reads as "", and the result is never unset. */
export function concat(g: GenContext, parts: readonly TExpr[]): Js {
  const codes = parts.map((p) => genExpr(g, p));
  const at = codes.some((c) => c.at);
  const strs = parts.map((p, i) => orEmpty(p, codes[i].code));
  // A leading "" keeps `+` a string concatenation whatever the parts are.
  const first = parts[0]?.k === 'const' && typeof parts[0].value === 'string' ? [] : ['""'];
  return js(`(${[...first, ...strs].join(' + ')})`, at);
}

/** STRANDS and STRING_LIST arguments: the parts as an array, unset ones kept as null. */
function strands(g: GenContext, e: TExpr): Js {
  const parts = e.k === 'concat' ? e.parts : [e];
  const codes = parts.map((p) => genExpr(g, p));
  return js(`[${codes.map((c) => c.code).join(', ')}]`, codes.some((c) => c.at));
}

/**
 * A VMOD call's arguments after the context, in manifest order. PRIV_TASK and PRIV_TOP are
 * keyed by the VMOD for functions and by the instance for methods, as in Varnish.
 */
export function vmodArgs(g: GenContext, args: readonly TArg[], module: string, privTaskKey: string): Js[] {
  return args.map((a): Js => {
    switch (a.type) {
      case 'PRIV_CALL':
        return js(g.k({ kind: 'privCall', index: a.privCall ?? 0 }));
      case 'PRIV_VCL':
        return js(g.k({ kind: 'privVcl', module }));
      case 'PRIV_TASK':
        return js(`t.privTask(${privTaskKey})`);
      case 'PRIV_TOP':
        return js(`t.privTop(${privTaskKey})`);
    }
    if (a.value === undefined) return js('undefined');
    if (a.type === 'STRANDS' || a.type === 'STRING_LIST') return strands(g, a.value);
    return genExpr(g, a.value);
  });
}

const STRING_CMP: Readonly<Record<string, 'strLt' | 'strLe' | 'strGt' | 'strGe'>> = {
  '<': 'strLt',
  '<=': 'strLe',
  '>': 'strGt',
  '>=': 'strGe',
};

function compare(g: GenContext, e: Extract<TExpr, { k: 'cmp' }>): Js {
  const l = genExpr(g, e.l);
  const r = genExpr(g, e.r);
  const at = l.at || r.at;
  const eq = e.op === '==';
  switch (e.operand) {
    case 'STRING': {
      if (e.op === '==' || e.op === '!=') {
        // Against a constant, `===` already gives Varnish's answer for an unset string.
        if (isStringConst(e.l) || isStringConst(e.r)) return js(`(${l.code} ${eq ? '===' : '!=='} ${r.code})`, at);
        const call = `${g.k({ kind: 'op', name: 'strEq' })}(${l.code}, ${r.code})`;
        return js(eq ? call : `!${call}`, at);
      }
      return js(`${g.k({ kind: 'op', name: STRING_CMP[e.op] })}(${l.code}, ${r.code})`, at);
    }
    case 'IP': {
      const call = `${g.k({ kind: 'op', name: 'ipEq' })}(${l.code}, ${r.code})`;
      return js(eq ? call : `!${call}`, at);
    }
    default: {
      const op = e.op === '==' ? '===' : e.op === '!=' ? '!==' : e.op;
      return js(`(${l.code} ${op} ${r.code})`, at);
    }
  }
}

function isStringConst(e: TExpr): boolean {
  return e.k === 'const' && typeof e.value === 'string';
}

function arith(g: GenContext, e: Extract<TExpr, { k: 'arith' }>): Js {
  const l = genExpr(g, e.l);
  const r = genExpr(g, e.r);
  if (e.type === 'INT' && (e.op === '/' || e.op === '%')) {
    return positioned(g, e.pos, g.k({ kind: 'op', name: e.op === '/' ? 'intDiv' : 'intMod' }), [l, r]);
  }
  const plain = `(${l.code} ${e.op} ${r.code})`;
  // BYTES are whole numbers: scaling by a REAL truncates, as the C cast does.
  if (e.type === 'BYTES' && (e.op === '*' || e.op === '/')) return js(`Math.trunc${plain}`, l.at || r.at);
  return js(plain, l.at || r.at);
}

const NUMBER_TO_STRING: Partial<Record<VclType, 'intStr' | 'realStr' | 'timeStr'>> = {
  INT: 'intStr',
  BYTES: 'intStr',
  REAL: 'realStr',
  DURATION: 'realStr',
  TIME: 'timeStr',
};

function convert(g: GenContext, e: Extract<TExpr, { k: 'conv' }>): Js {
  const inner = e.from === 'HEADER' && e.e.k === 'header' ? { ...e.e, type: 'STRING' as const } : e.e;
  const x = genExpr(g, inner);
  if (e.type === 'BOOL') {
    switch (e.from) {
      case 'BOOL':
        return x;
      case 'INT':
        return js(`(${x.code} !== 0)`, x.at);
      case 'DURATION':
        return js(`(${x.code} > 0)`, x.at);
      default:
        // STRING and HEADER by presence, BACKEND by being set.
        return js(`(${x.code} != null)`, x.at);
    }
  }
  switch (e.from) {
    case 'STRING':
    case 'STRANDS':
    case 'STRING_LIST':
    case 'HEADER':
      return x;
    case 'BOOL':
      return js(`(${x.code} ? "true" : "false")`, x.at);
    case 'IP':
      return js(`${g.k({ kind: 'op', name: 'ipStr' })}(${x.code})`, x.at);
    case 'BLOB':
      return js(`${g.k({ kind: 'op', name: 'blobStr' })}(${x.code})`, x.at);
    case 'STEVEDORE':
      return js(`${g.k({ kind: 'op', name: 'stevedoreStr' })}(${x.code})`, x.at);
  }
  const op = NUMBER_TO_STRING[e.from];
  if (op === 'timeStr') return js(`${g.k({ kind: 'op', name: op })}(${x.code})`, x.at);
  if (op) return positioned(g, e.pos, g.k({ kind: 'op', name: op }), [x]);
  // BACKEND, ACL, PROBE, STEVEDORE and the like print as their name.
  return js(`${g.k({ kind: 'op', name: 'nameStr' })}(${x.code})`, x.at);
}

function typeMethod(g: GenContext, e: Extract<TExpr, { k: 'type_method' }>): Js {
  const inner = e.e.k === 'header' && e.e.type === 'HEADER' ? { ...e.e, type: 'STRING' as const } : e.e;
  const x = genExpr(g, inner);
  switch (e.method) {
    case 'upper':
    case 'lower':
      return js(`${g.k({ kind: 'op', name: e.method })}(${x.code})`, x.at);
    case 'resolve':
      return positioned(g, e.pos, g.k({ kind: 'op', name: 'resolve' }), [js('t'), x]);
    default:
      throw new Error(`internal: no code for method .${e.method}()`);
  }
}
