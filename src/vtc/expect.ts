// `expect A OP B` as varnishtest evaluates it: both sides are strings (an unset one reads as
// "<undef>"); == and != compare text; ~ and !~ match a regex; <, >, <=, >= compare decimal
// numbers and are false when either side is unset or not a number; -eq, -ne, -lt, -le, -gt,
// -ge compare unsigned 64-bit integers read as C's strtoumax(s, NULL, 0) reads them
// (0x hex, 0 octal, junk after the digits ignored, no digits is 0, negatives wrap).

import { compileVclRegex } from '../common/regex.ts';

export type ExpectOutcome = { ok: true } | { ok: false } | { error: string };

const OPS = new Set(['==', '!=', '~', '!~', '<', '>', '<=', '>=', '-eq', '-ne', '-lt', '-le', '-gt', '-ge']);

export function isExpectOp(op: string): boolean {
  return OPS.has(op);
}

export function evalExpect(lhs: string | undefined, op: string, rhs: string | undefined): ExpectOutcome {
  const undef = lhs === undefined || rhs === undefined;
  const l = lhs ?? '<undef>';
  const r = rhs ?? '<undef>';
  switch (op) {
    case '==':
      return { ok: l === r };
    case '!=':
      return { ok: l !== r };
    case '~':
    case '!~': {
      const re = compileVclRegex(r);
      if ('error' in re) return { error: `Regexp error: ${re.error} in "${r}"` };
      return { ok: re.re.test(l) === (op === '~') };
    }
    case '<':
    case '>':
    case '<=':
    case '>=': {
      if (undef) return { ok: false };
      const a = vnum(l);
      const b = vnum(r);
      // Comparisons with NaN are false, as C's isless() and friends.
      if (op === '<') return { ok: a < b };
      if (op === '>') return { ok: a > b };
      if (op === '<=') return { ok: a <= b };
      return { ok: a >= b };
    }
    case '-eq':
    case '-ne':
    case '-lt':
    case '-le':
    case '-gt':
    case '-ge': {
      const a = strtoumax(l);
      const b = strtoumax(r);
      const ok = { '-eq': a === b, '-ne': a !== b, '-lt': a < b, '-le': a <= b, '-gt': a > b, '-ge': a >= b }[op];
      return { ok };
    }
    default:
      return { error: `test not implemented: ${op}` };
  }
}

const U64 = 1n << 64n;

/** C's strtoumax(s, NULL, 0): the longest valid prefix; overflow gives the maximum. */
export function strtoumax(s: string): bigint {
  const m = /^[ \t\n\v\f\r]*([+-]?)(0[xX](?=[0-9a-fA-F])|0|)([0-9a-fA-F]*)/.exec(s);
  if (!m) return 0n;
  const [, sign, prefix, rest] = m;
  const base = prefix.length === 2 ? 16 : prefix === '0' ? 8 : 10;
  const valid = base === 16 ? /^[0-9a-fA-F]*/ : base === 8 ? /^[0-7]*/ : /^[0-9]*/;
  const digits = valid.exec(rest)![0];
  let v = 0n;
  for (const d of digits) {
    v = v * BigInt(base) + BigInt(Number.parseInt(d, 16));
    if (v >= U64) return U64 - 1n;
  }
  return sign === '-' && v !== 0n ? U64 - v : v;
}

/** Varnish's VNUM: an optionally signed decimal with blanks around it; NaN otherwise. */
export function vnum(s: string): number {
  const m = /^[ \t]*([+-]?(?:\d+(?:\.\d*)?|\.\d+))[ \t]*$/.exec(s);
  return m ? Number(m[1]) : Number.NaN;
}
