// The facts of PCRE2 syntax that pcre.ts needs, and their JavaScript spellings: anchors and
// byte classes of Varnish's non-UTF PCRE2, POSIX classes, escapes JS lacks, group openings, and
// how a character class body is written out.

export class PcreError extends Error {
  /** Offset in the pattern where the problem was found. */
  readonly at: number;
  constructor(message: string, at: number) {
    super(message);
    this.name = 'PcreError';
    this.at = at;
  }
}

export const LF_ONLY_DOT = '[^\\n]';
export const ANY = '[\\s\\S]';
export const END = '(?![\\s\\S])';
export const START = '(?<![\\s\\S])';
export const BEFORE_FINAL_LF = `(?=\\n?${END})`;

/** Byte sets of PCRE's non-UTF escapes, as class contents, and their complements. */
export const SETS: Readonly<Record<string, string>> = {
  s: '\\t\\n\\v\\f\\r ',
  S: '\\x00-\\x08\\x0e-\\x1f!-\\uffff',
  h: '\\t \\xa0',
  H: '\\x00-\\x08\\n-\\x1f!-\\x9f\\xa1-\\uffff',
  v: '\\n\\v\\f\\r\\x85',
  V: '\\x00-\\x09\\x0e-\\x84\\x86-\\uffff',
  d: '\\d',
  D: '\\D',
  w: '\\w',
  W: '\\W',
};

export const POSIX: Readonly<Record<string, string>> = {
  alnum: 'a-zA-Z0-9',
  alpha: 'a-zA-Z',
  ascii: '\\x00-\\x7f',
  blank: '\\t ',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: 'a-zA-Z0-9_',
  xdigit: '0-9A-Fa-f',
};

export const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { n: 10, r: 13, t: 9, f: 12, e: 27, a: 7 };
export const PCRE_UNSUPPORTED_CASE = 'PCRE2 does not support \\F, \\L, \\l, \\N{name}, \\U, or \\u';
export const NOT_IN_JS: Readonly<Record<string, string>> = {
  K: '\\K is not supported',
  G: '\\G is not supported',
  C: '\\C is not supported',
  X: '\\X is not supported',
  p: 'Unicode properties (\\p) are not supported',
  P: 'Unicode properties (\\P) are not supported',
};

export interface ClassItem {
  /** A single character... */
  readonly code?: number;
  /** ...or a set, as JS class contents. */
  readonly set?: string;
  /** Written as an escape (or inside \Q…\E): a `-` so written never makes a range. */
  readonly escaped?: boolean;
}

/**
 * Joins class items. An unescaped `-` between two items makes a range, except first, last, or
 * right after a range; next to a set (\d, [:alpha:]) PCRE2 refuses it.
 */
export function classBody(items: ClassItem[], at: number): string {
  let body = '';
  let afterRange = false;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const rangeDash = item.code === 45 && !item.escaped && i > 0 && i < items.length - 1 && !afterRange;
    afterRange = false;
    if (rangeDash) {
      const lo = items[i - 1];
      const hi = items[i + 1];
      if (lo.set !== undefined || hi.set !== undefined) {
        throw new PcreError('invalid range in character class', at);
      }
      if (lo.code! > hi.code!) throw new PcreError('range out of order in character class', at);
      body += `-${classChar(hi.code!)}`;
      i++;
      afterRange = true;
      continue;
    }
    body += item.set ?? classChar(item.code!);
  }
  return body;
}

/** The complement of a POSIX set written as ranges of ASCII, within 0..0xFFFF. */
export function complement(set: string): string {
  const inSet = new RegExp(`[${set}]`);
  let out = '';
  let runStart = -1;
  for (let code = 0; code <= 0x80; code++) {
    const outside = code === 0x80 || !inSet.test(String.fromCharCode(code));
    if (outside && runStart < 0) runStart = code;
    if ((!outside || code === 0x80) && runStart >= 0) {
      const end = code === 0x80 ? 0xffff : code - 1;
      out += runStart === end ? classChar(runStart) : `${classChar(runStart)}-${classChar(end)}`;
      runStart = -1;
    }
  }
  return out;
}

/** Group openings PCRE and JS spell alike, and those JS cannot express. */
export const GROUP_HEADS: readonly { text: string; js?: string; error?: string }[] = [
  { text: '(?:', js: '(?:' },
  { text: '(?=', js: '(?=' },
  { text: '(?!', js: '(?!' },
  { text: '(?<=', js: '(?<=' },
  { text: '(?<!', js: '(?<!' },
  { text: '(?>', error: 'atomic groups (?>...) are not supported' },
  { text: '(?|', error: 'branch reset groups (?|...) are not supported' },
];

export const ANCHORS: Readonly<Record<string, string>> = {
  A: START,
  z: END,
  Z: BEFORE_FINAL_LF,
  b: '\\b',
  B: '\\B',
};

export function checkByte(code: number, at: number): number {
  if (code > 0xff) throw new PcreError('character code point value in \\x{} or \\o{} is too large', at);
  return code;
}

/** A character as a JS regex atom: letters and digits as they are, the rest escaped. */
export function literal(code: number): string {
  if ((code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122)) {
    return String.fromCharCode(code);
  }
  return hexEscape(code);
}

function classChar(code: number): string {
  return literal(code);
}

function hexEscape(code: number): string {
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}
