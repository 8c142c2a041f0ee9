// Operator typing as tables, the way Varnish's compiler types expressions: which additions,
// multiplications and comparisons exist for which operand types, and which types convert to
// STRING or test as BOOL. The checker consults these; nothing here looks at the AST.

import type { VclType } from './spec.ts';

/** `left op right → result` for `+` and `-` (and `+=`, `-=`). */
export const ADDITIVE: readonly { op: '+' | '-'; left: VclType; right: VclType; result: VclType }[] = [
  { op: '+', left: 'BYTES', right: 'BYTES', result: 'BYTES' },
  { op: '-', left: 'BYTES', right: 'BYTES', result: 'BYTES' },
  { op: '+', left: 'DURATION', right: 'DURATION', result: 'DURATION' },
  { op: '-', left: 'DURATION', right: 'DURATION', result: 'DURATION' },
  { op: '+', left: 'INT', right: 'INT', result: 'INT' },
  { op: '-', left: 'INT', right: 'INT', result: 'INT' },
  { op: '+', left: 'INT', right: 'REAL', result: 'REAL' },
  { op: '-', left: 'INT', right: 'REAL', result: 'REAL' },
  { op: '+', left: 'REAL', right: 'INT', result: 'REAL' },
  { op: '-', left: 'REAL', right: 'INT', result: 'REAL' },
  { op: '+', left: 'REAL', right: 'REAL', result: 'REAL' },
  { op: '-', left: 'REAL', right: 'REAL', result: 'REAL' },
  { op: '-', left: 'TIME', right: 'TIME', result: 'DURATION' },
  { op: '+', left: 'TIME', right: 'DURATION', result: 'TIME' },
  { op: '-', left: 'TIME', right: 'DURATION', result: 'TIME' },
];

export function additive(op: '+' | '-', left: VclType, right: VclType): VclType | undefined {
  for (const a of ADDITIVE) if (a.op === op && a.left === left && a.right === right) return a.result;
  return undefined;
}

/** Whether any `+`/`-` exists with this left operand type (then the right one is typed alike). */
export function hasAdditive(op: '+' | '-', left: VclType): boolean {
  return ADDITIVE.some((a) => a.op === op && a.left === left);
}

/**
 * `*` and `/`: a left operand of the key type may be multiplied or divided by an INT or by the
 * type given here, and the result has the left operand's type. `%` is INT only.
 */
export const MULTIPLIER: Readonly<Partial<Record<VclType, VclType>>> = {
  INT: 'INT',
  REAL: 'REAL',
  DURATION: 'REAL',
  BYTES: 'REAL',
};

type CmpOp = '==' | '!=' | '<' | '>' | '<=' | '>=';
const EQ: readonly CmpOp[] = ['==', '!='];
const REL: readonly CmpOp[] = ['==', '!=', '<', '>', '<=', '>='];

/** The comparisons each operand type allows; `~`/`!~` are handled apart (regex, ACL). */
export const COMPARISONS: Readonly<Partial<Record<VclType, readonly CmpOp[]>>> = {
  INT: REL,
  REAL: REL,
  DURATION: REL,
  BYTES: REL,
  TIME: REL,
  STRING: REL,
  BOOL: EQ,
  IP: EQ,
  BACKEND: EQ,
  ACL: EQ,
  PROBE: EQ,
  STEVEDORE: EQ,
  SUB: EQ,
  INSTANCE: EQ,
};

/** Types that convert to STRING where a string is wanted. */
export const TO_STRING: ReadonlySet<VclType> = new Set<VclType>([
  'ACL',
  'BACKEND',
  'BLOB',
  'BOOL',
  'BYTES',
  'DURATION',
  'HEADER',
  'INT',
  'IP',
  'PROBE',
  'REAL',
  'STEVEDORE',
  'STRANDS',
  'STRING',
  'TIME',
]);

/**
 * Types that test as BOOL in a condition: STRING and HEADER by presence, BACKEND by being set,
 * INT by being non-zero, DURATION by being positive.
 */
export const TO_BOOL: ReadonlySet<VclType> = new Set<VclType>(['BOOL', 'STRING', 'HEADER', 'BACKEND', 'INT', 'DURATION']);

/** Types unary minus applies to. */
export const NEGATABLE: ReadonlySet<VclType> = new Set<VclType>(['INT', 'REAL', 'DURATION', 'BYTES']);

/**
 * The contexts in which `+` joins any two operands as strings when no arithmetic applies:
 * where a STRING, STRANDS or STRING_LIST is wanted (VCC's "string forms"). Elsewhere, BODY
 * included (`set resp.body = ...`), it joins only when its left operand is a string already:
 * Varnish refuses `set resp.body = resp.status + " "` (INT + STRING) but accepts it in a header.
 */
export function joinsStrings(want: VclType | undefined): boolean {
  return want === 'STRING' || want === 'STRANDS' || want === 'STRING_LIST';
}

/** Whether a type is one of the string-like types that `+` concatenates. */
export function isStringy(t: VclType): boolean {
  return t === 'STRING' || t === 'STRANDS' || t === 'STRING_LIST' || t === 'HEADER';
}

/** Which assignment operators `set` allows for a target type, beyond `=`. */
export function assignOps(t: VclType): readonly string[] {
  switch (t) {
    case 'STRING':
    case 'HEADER':
    case 'BODY':
      return ['=', '+='];
    case 'INT':
    case 'REAL':
    case 'DURATION':
    case 'BYTES':
      return ['=', '+=', '-=', '*=', '/='];
    case 'TIME':
      return ['=', '+=', '-='];
    default:
      return ['='];
  }
}
