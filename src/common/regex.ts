// VCL regular expressions at run time: compiled once at load (PCRE2 syntax translated by
// pcre.ts), matched with `~`, and used by regsub/regsuball. Facts checked with varnishtest
// against Varnish 7.1:
// - a NULL string (an unset header) is matched and substituted as "";
// - in the substitution, `\0`…`\9` insert the match and its groups (an unset group inserts
//   nothing), `\` before any other character inserts that character, and a final `\` stays.
//   Note: Varnish's manual also promises `\&` for the whole match, but 7.1 inserts a plain
//   "&"; we follow the behaviour;
// - regsuball continues after each match with PCRE2_NOTEMPTY: after the first match, empty
//   matches are never taken (regsuball("abc", "x*", "-") is "-abc", ("abc", "b*", "-") "-a-c").

import { PcreError, translatePcre } from './pcre.ts';

export class VclRegex {
  /** The pattern as written in VCL. */
  readonly source: string;
  /** The translated expression; no g/y flag, so it keeps no state between uses. */
  readonly re: RegExp;
  /** For scanning: the same with the g flag. */
  readonly scanner: RegExp;
  #notEmpty: RegExp | undefined;

  constructor(source: string, jsSource: string) {
    this.source = source;
    this.re = new RegExp(jsSource);
    this.scanner = new RegExp(jsSource, 'g');
  }

  /** VCL's `~`. */
  test(subject: string | null): boolean {
    return this.re.test(subject ?? '');
  }

  /**
   * A sticky variant that only matches non-empty text. A group in front captures the rest of
   * the subject; a match ending where it started would leave exactly that rest, which the
   * trailing assertion refuses, so the engine backtracks into other alternatives, as PCRE2
   * does under NOTEMPTY. Its own groups are shifted by one.
   */
  get notEmpty(): RegExp {
    if (this.#notEmpty === undefined) {
      const inner = translatePcre(this.source, 1).source;
      this.#notEmpty = new RegExp(`(?=([\\s\\S]*))(?:${inner})(?!\\1(?![\\s\\S]))`, 'y');
    }
    return this.#notEmpty;
  }
}

export type CompiledRegex = { readonly re: VclRegex } | { readonly error: string; readonly at?: number };

/** Compiles a VCL regex; the error reads like PCRE2's where PCRE2 would refuse it too. */
export function compileVclRegex(source: string): CompiledRegex {
  try {
    return { re: new VclRegex(source, translatePcre(source).source) };
  } catch (e) {
    if (e instanceof PcreError) return { error: e.message, at: e.at };
    if (e instanceof SyntaxError) return { error: jsErrorMessage(e.message) };
    throw e;
  }
}

/** PCRE2's wording for what the JS engine refuses, where they are the same mistake. */
const JS_TO_PCRE_MESSAGES: Readonly<Record<string, string>> = {
  'Nothing to repeat': 'quantifier does not follow a repeatable item',
};

function jsErrorMessage(message: string): string {
  const bare = message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
  return JS_TO_PCRE_MESSAGES[bare] ?? bare;
}

/** VCL's `~` and `!~` (negate it): does the pattern match anywhere in the subject? */
export function regexMatch(re: VclRegex, subject: string | null): boolean {
  return re.test(subject);
}

/** VCL's regsub (all = false) and regsuball (all = true). */
export function regsub(subject: string | null, re: VclRegex, sub: string, all: boolean): string {
  const s = subject ?? '';
  const scanner = re.scanner;
  scanner.lastIndex = 0;
  let m = scanner.exec(s);
  if (m === null) return s;
  let groupShift = 0;
  let out = '';
  let pos = 0;
  for (;;) {
    out += s.slice(pos, m.index) + expand(sub, m, groupShift);
    pos = m.index + m[0].length;
    if (!all) break;
    m = nextNonEmptyMatch(s, re, pos);
    if (m === null) break;
    groupShift = shiftOfLastMatch;
  }
  return out + s.slice(pos);
}

/** Set by nextNonEmptyMatch: 1 when the match came from the notEmpty variant. */
let shiftOfLastMatch = 0;

/** The first non-empty match at or after `from`, as PCRE2_NOTEMPTY finds it. */
function nextNonEmptyMatch(s: string, re: VclRegex, from: number): RegExpExecArray | null {
  const scanner = re.scanner;
  for (let k = from; k <= s.length; ) {
    scanner.lastIndex = k;
    const m = scanner.exec(s);
    if (m === null) return null;
    if (m[0].length > 0) {
      shiftOfLastMatch = 0;
      return m;
    }
    // The preferred match here is empty: ask for a non-empty one at the same place.
    const sticky = re.notEmpty;
    sticky.lastIndex = m.index;
    const v = sticky.exec(s);
    if (v !== null) {
      shiftOfLastMatch = 1;
      return v;
    }
    k = m.index + 1;
  }
  return null;
}

/** Writes the substitution for one match: `\0`…`\9` are groups, `\x` is x. */
function expand(sub: string, m: RegExpExecArray, shift: number): string {
  if (!sub.includes('\\')) return sub;
  let out = '';
  for (let i = 0; i < sub.length; i++) {
    const c = sub.charCodeAt(i);
    if (c !== 92 || i + 1 === sub.length) {
      out += sub[i];
      continue;
    }
    const next = sub.charCodeAt(++i);
    if (next >= 48 && next <= 57) {
      const n = next - 48;
      out += (n === 0 ? m[0] : m[n + shift]) ?? '';
    } else {
      out += sub[i];
    }
  }
  return out;
}
