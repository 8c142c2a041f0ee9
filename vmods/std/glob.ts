// Shell wildcard matching as glibc's fnmatch(3) does it in the C locale, which is what
// std.fnmatch answers in Varnish. The quirks kept on purpose (each checked against glibc 2.36):
// - a `[` with no closing `]` is an ordinary character, and so is the rest of the pattern;
// - `[!…]` and `[^…]` both negate; a `]` first in the set is a member; `-` first or last is too;
// - `[:name:]` classes, `[=c=]` and `[.c.]` are accepted, and an unknown class name never matches;
// - with `pathname`, `/` is only matched by a literal `/` and `*` stops at it;
// - with `period`, a leading `.` (at the start, or after `/` with `pathname`) needs a literal `.`;
// - without `noescape`, `\` quotes the next character, and a trailing `\` never matches.
// Characters are compared by code unit, as bytes are in C.

export interface GlobFlags {
  readonly pathname: boolean;
  readonly noescape: boolean;
  readonly period: boolean;
}

const SLASH = 47;
const DOT = 46;
const BACKSLASH = 92;
const STAR = 42;
const QUESTION = 63;
const OPEN = 91;
const CLOSE = 93;
const COLON = 58;
const EQUALS = 61;
const BANG = 33;
const CARET = 94;
const DASH = 45;
/** glibc refuses class names this long or longer. */
const CLASS_NAME_MAX = 256;

/** Whether `subject` matches the wildcard `pattern`. */
export function globMatch(pattern: string, subject: string, flags: GlobFlags): boolean {
  return match(pattern, 0, subject, 0, flags.period, flags);
}

/** The C locale's character classes, for code units (only ASCII belongs to any). */
const CLASSES: Readonly<Record<string, (c: number) => boolean>> = {
  alnum: (c) => isDigit(c) || isUpper(c) || isLower(c),
  alpha: (c) => isUpper(c) || isLower(c),
  blank: (c) => c === 32 || c === 9,
  cntrl: (c) => c < 32 || c === 127,
  digit: isDigit,
  graph: (c) => c > 32 && c < 127,
  lower: isLower,
  print: (c) => c >= 32 && c < 127,
  punct: (c) => c > 32 && c < 127 && !isDigit(c) && !isUpper(c) && !isLower(c),
  space: (c) => c === 32 || (c >= 9 && c <= 13),
  upper: isUpper,
  xdigit: (c) => isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102),
};

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}
function isLower(c: number): boolean {
  return c >= 97 && c <= 122;
}

/** Code unit at `i`, or 0 past the end (C's terminating NUL). */
function at(s: string, i: number): number {
  return i < s.length ? s.charCodeAt(i) : 0;
}

/**
 * Matches pattern[p..] against subject[n..]. `leadingPeriod` says whether a `.` at n counts as
 * leading (it is at the start, or follows a `/` under pathname+period).
 */
function match(pat: string, p: number, str: string, n: number, leadingPeriod: boolean, flags: GlobFlags): boolean {
  const end = str.length;
  while (p < pat.length) {
    const c = pat.charCodeAt(p++);
    let nextLeading = false;
    switch (c) {
      case QUESTION:
        if (n === end) return false;
        if (str.charCodeAt(n) === SLASH && flags.pathname) return false;
        if (str.charCodeAt(n) === DOT && leadingPeriod) return false;
        break;
      case BACKSLASH: {
        let lit: number = c;
        if (!flags.noescape) {
          lit = at(pat, p++);
          if (lit === 0) return false;
        }
        if (n === end || str.charCodeAt(n) !== lit) return false;
        break;
      }
      case STAR:
        return matchStar(pat, p, str, n, leadingPeriod, flags);
      case OPEN: {
        const r = matchBracket(pat, p, str, n, leadingPeriod, flags);
        if (r === false) return false;
        if (r === null) {
          // An unterminated set: the `[` is an ordinary character.
          if (n === end || str.charCodeAt(n) !== OPEN) return false;
        } else {
          p = r;
        }
        break;
      }
      case SLASH:
        if (flags.pathname && flags.period) {
          if (n === end || str.charCodeAt(n) !== SLASH) return false;
          nextLeading = true;
          break;
        }
        if (n === end || str.charCodeAt(n) !== c) return false;
        break;
      default:
        if (n === end || str.charCodeAt(n) !== c) return false;
    }
    leadingPeriod = nextLeading;
    n++;
  }
  return n === end;
}

/** A `*` (just consumed, pattern continues at p): the rest of glibc's star handling. */
function matchStar(pat: string, p: number, str: string, n: number, leadingPeriod: boolean, flags: GlobFlags): boolean {
  const end = str.length;
  if (n !== end && str.charCodeAt(n) === DOT && leadingPeriod) return false;
  let c = at(pat, p++);
  for (; c === QUESTION || c === STAR; c = at(pat, p++)) {
    if (c === QUESTION) {
      if (n === end) return false;
      if (str.charCodeAt(n) === SLASH && flags.pathname) return false;
      n++;
    }
  }
  if (c === 0) {
    // Trailing stars: under pathname they may not swallow another `/`.
    return !flags.pathname || str.indexOf('/', n) < 0;
  }
  let stop = flags.pathname ? str.indexOf('/', n) : -1;
  if (stop < 0) stop = end;
  const inner: GlobFlags = flags.pathname ? flags : { ...flags, period: false };
  if (c === OPEN) {
    for (p--; n < stop; n++, leadingPeriod = false) {
      if (match(pat, p, str, n, leadingPeriod, inner)) return true;
    }
    return false;
  }
  if (c === SLASH && flags.pathname) {
    while (n < end && str.charCodeAt(n) !== SLASH) n++;
    return n < end && match(pat, p, str, n + 1, flags.period, flags);
  }
  let want = c;
  if (c === BACKSLASH && !flags.noescape) want = at(pat, p);
  for (p--; n < stop; n++, leadingPeriod = false) {
    if (str.charCodeAt(n) === want && match(pat, p, str, n, leadingPeriod, inner)) return true;
  }
  return false;
}

/**
 * A bracket expression starting after the `[` at p-1, tested on str[n]. Returns the pattern
 * index after the closing `]` when the character is accepted, false when the match fails, and
 * null when the set is unterminated (the caller then treats `[` as an ordinary character).
 */
function matchBracket(
  pat: string,
  p: number,
  str: string,
  n: number,
  leadingPeriod: boolean,
  flags: GlobFlags,
): number | false | null {
  if (n === str.length) return false;
  const ch = str.charCodeAt(n);
  if (ch === DOT && leadingPeriod) return false;
  if (ch === SLASH && flags.pathname) return false;
  const negated = at(pat, p) === BANG || at(pat, p) === CARET;
  if (negated) p++;
  let c = at(pat, p++);
  for (;;) {
    let single: number;
    // After a collating symbol, a `-` just before the `]` still starts a (never matching) range.
    let collating = false;
    if (!flags.noescape && c === BACKSLASH) {
      if (at(pat, p) === 0) return false;
      single = at(pat, p++);
    } else if (c === OPEN && at(pat, p) === COLON) {
      const cls = readClassName(pat, p);
      if (cls === false) return false;
      if (cls !== null) {
        const test = CLASSES[cls.name];
        if (test === undefined) return false;
        if (test(ch)) return skipRest(pat, cls.next, negated, flags);
        p = cls.next;
        c = at(pat, p++);
        if (c === CLOSE) break;
        continue;
      }
      single = OPEN;
    } else if (c === OPEN && at(pat, p) === EQUALS) {
      const x = at(pat, p + 1);
      if (x !== 0 && at(pat, p + 2) === EQUALS && at(pat, p + 3) === CLOSE) {
        if (ch === x) return skipRest(pat, p + 4, negated, flags);
        p += 4;
        c = at(pat, p++);
        if (c === CLOSE) break;
        continue;
      }
      single = OPEN;
    } else if (c === 0) {
      return null;
    } else if (c === OPEN && at(pat, p) === DOT) {
      const sym = readCollating(pat, p);
      if (sym === false) return false;
      single = sym.char;
      p = sym.next;
      collating = true;
    } else {
      single = c;
    }
    // A member, or the start of a range.
    const afterDash = at(pat, p + 1);
    const isRange = at(pat, p) === DASH && afterDash !== 0 && (collating || afterDash !== CLOSE);
    if (!isRange && single === ch) return skipRest(pat, p, negated, flags);
    const r = rangeTail(pat, p, single, ch, flags);
    if (r === false) return false;
    if (r.matched) return skipRest(pat, r.next, negated, flags);
    p = r.next;
    c = at(pat, p++);
    if (c === CLOSE) break;
  }
  return negated ? p : false;
}

/** After a member `low` at p: a `-high` range when one follows; whether ch falls in it. */
function rangeTail(
  pat: string,
  p: number,
  low: number,
  ch: number,
  flags: GlobFlags,
): { next: number; matched: boolean } | false {
  if (!(at(pat, p) === DASH && at(pat, p + 1) !== CLOSE)) return { next: p, matched: false };
  p++;
  let high = at(pat, p++);
  if (high === OPEN && at(pat, p) === DOT) {
    const sym = readCollating(pat, p);
    if (sym === false) return false;
    high = sym.char;
    p = sym.next;
  } else if (!flags.noescape && high === BACKSLASH) {
    high = at(pat, p++);
  }
  if (high === 0) return false;
  return { next: p, matched: low <= ch && ch <= high };
}

/** The index of the `.` closing the `[.` whose `.` is at p; false when the pattern ends first. */
function collatingEnd(pat: string, p: number): number | false {
  let q = p + 1;
  while (!(at(pat, q) === DOT && at(pat, q + 1) === CLOSE)) {
    if (at(pat, q) === 0) return false;
    q++;
  }
  return q;
}

/**
 * A collating symbol `[.c.]` at p (pointing at the first `.`): its character and the index
 * after it. In the C locale only a single character names one; anything else fails the match.
 */
function readCollating(pat: string, p: number): { char: number; next: number } | false {
  const end = collatingEnd(pat, p);
  if (end === false || end - p - 1 !== 1) return false;
  return { char: at(pat, p + 1), next: end + 2 };
}

/** `[:name:]` at p (pointing at the `:`): its name and the index after it, or null when it is no class. */
function readClassName(pat: string, p: number): { name: string; next: number } | null | false {
  let q = p;
  let name = '';
  for (;;) {
    if (name.length === CLASS_NAME_MAX) return false;
    const c = at(pat, ++q);
    if (c === COLON && at(pat, q + 1) === CLOSE) return { name, next: q + 2 };
    // glibc's test for a class-name letter leaves out 'z'.
    if (c < 97 || c >= 122) return null;
    name += String.fromCharCode(c);
  }
}

/**
 * The character was accepted by a member: skip to the closing `]`. Returns the index after it
 * (false under negation), or null when the set turns out to be unterminated.
 */
function skipRest(pat: string, p: number, negated: boolean, flags: GlobFlags): number | false | null {
  for (let c = at(pat, p++); c !== CLOSE; c = at(pat, p++)) {
    if (c === 0) return null;
    if (!flags.noescape && c === BACKSLASH) {
      if (at(pat, p) === 0) return false;
      p++;
    } else if (c === OPEN && at(pat, p) === COLON) {
      const cls = readClassName(pat, p);
      if (cls === false) return false;
      if (cls !== null) p = cls.next;
    } else if (c === OPEN && at(pat, p) === EQUALS) {
      if (at(pat, p + 1) === 0) return false;
      if (!(at(pat, p + 2) === EQUALS && at(pat, p + 3) === CLOSE)) return false;
      p += 4;
    } else if (c === OPEN && at(pat, p) === DOT) {
      const end = collatingEnd(pat, p);
      if (end === false) return false;
      p = end + 2;
    }
  }
  return negated ? false : p;
}
