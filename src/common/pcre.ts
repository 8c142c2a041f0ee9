// Translates a PCRE2 pattern, as VCL writes them, into JavaScript regex source with the same
// meaning under Varnish's defaults (no UTF mode, LF newlines, nothing anchored). What differs
// and how it is bridged:
// - `.` matches anything but LF (JS also stops at CR, U+2028, U+2029): written as a class;
// - `$` also matches before a final LF, `\Z` likewise, `\A` and `\z` are absolute; in (?m) mode
//   `^` matches after inner LFs only (not after a final one): written as lookarounds;
// - `\s \h \v \R \N` are byte sets in PCRE (JS's \s knows Unicode spaces): written as classes;
// - inline options (?i) (?m) (?s) (?x) (?n) (?U) (?^), unscoped or scoped, follow PCRE's scope
//   rules (to the end of the group, carried across `|`); case-folding uses JS modifier groups;
// - POSIX classes, \Q…\E, \x{..}, \o{..}, \e, \a, \cX, octal escapes, PCRE's group and
//   backreference spellings are rewritten; a `{` that does not start a quantifier is literal;
// - what JS cannot express is refused with a clear message: possessive quantifiers, atomic and
//   branch-reset groups, recursion, conditionals, verbs, \K \G \C \X \p \P.

import {
  ANCHORS,
  ANY,
  BEFORE_FINAL_LF,
  type ClassItem,
  checkByte,
  classBody,
  complement,
  END,
  GROUP_HEADS,
  LF_ONLY_DOT,
  literal,
  NOT_IN_JS,
  PCRE_UNSUPPORTED_CASE,
  POSIX,
  PcreError,
  SETS,
  SIMPLE_ESCAPES,
  START,
} from './pcre-syntax.ts';

export { PcreError };

export interface Translation {
  readonly source: string;
  readonly groups: number;
}

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
  x: boolean;
  n: boolean;
  U: boolean;
}

/** An open group: what to restore when it closes, and the case wraps opened inside it. */
interface Frame {
  readonly saved: Flags;
  readonly savedCase: boolean;
  wraps: number;
}

/**
 * Translates `pattern`; `groupOffset` shifts numbered backreferences, for wrappers that add
 * capture groups in front. Throws PcreError.
 */
export function translatePcre(pattern: string, groupOffset = 0): Translation {
  return new Translator(pattern, groupOffset).run();
}

class Translator {
  private readonly src: string;
  private readonly offset: number;
  private pos = 0;
  private out = '';
  private flags: Flags = { i: false, m: false, s: false, x: false, n: false, U: false };
  /** Whether the JS emitted at this point folds case. */
  private caseOn = false;
  private readonly frames: Frame[] = [];
  private groups = 0;
  private maxBackref = 0;
  private maxBackrefAt = 0;

  constructor(src: string, offset: number) {
    this.src = src;
    this.offset = offset;
    this.frames.push({ saved: { ...this.flags }, savedCase: false, wraps: 0 });
  }

  run(): Translation {
    while (this.pos < this.src.length) this.step();
    if (this.frames.length > 1) throw new PcreError('missing closing parenthesis', this.src.length);
    this.closeWraps(this.frames[0]);
    if (this.maxBackref > this.groups) {
      throw new PcreError('reference to non-existent subpattern', this.maxBackrefAt);
    }
    return { source: this.out, groups: this.groups };
  }

  private step(): void {
    if (this.flags.x && this.skipExtended()) return;
    const c = this.src[this.pos];
    switch (c) {
      case '(':
        this.openGroup();
        break;
      case ')':
        this.closeGroup();
        break;
      case '|':
        this.pos++;
        this.closeWraps(this.top());
        this.caseOn = this.top().savedCase;
        this.out += '|';
        break;
      case '[':
        this.atom(this.readClass());
        break;
      case '\\':
        this.escape();
        break;
      case '.':
        this.pos++;
        this.atom(this.flags.s ? ANY : LF_ONLY_DOT);
        break;
      case '^':
        this.pos++;
        this.atom(this.flags.m ? `(?:${START}|(?<=\\n)(?=${ANY}))` : '^');
        break;
      case '$':
        this.pos++;
        this.atom(this.flags.m ? `(?=\\n|${END})` : BEFORE_FINAL_LF);
        break;
      case '*':
      case '+':
      case '?':
        this.quantifier();
        break;
      case '{':
        if (this.quantifierBraceLength() > 0) {
          this.quantifier();
        } else {
          this.pos++;
          this.atom('\\{');
        }
        break;
      default:
        this.pos++;
        this.atom(literal(c.charCodeAt(0)));
        break;
    }
  }

  /** In (?x) mode: skips blanks and #-comments; true when something was skipped. */
  private skipExtended(): boolean {
    const start = this.pos;
    for (;;) {
      const c = this.src[this.pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r') {
        this.pos++;
      } else if (c === '#') {
        while (this.pos < this.src.length && this.src[this.pos] !== '\n') this.pos++;
      } else {
        return this.pos > start;
      }
    }
  }

  private top(): Frame {
    return this.frames[this.frames.length - 1];
  }

  /** Emits one atom, first opening a case wrap if the flags and the JS output disagree. */
  private atom(js: string): void {
    if (this.flags.i !== this.caseOn) {
      this.out += this.flags.i ? '(?i:' : '(?-i:';
      this.caseOn = this.flags.i;
      this.top().wraps++;
    }
    this.out += js;
  }

  private closeWraps(frame: Frame): void {
    this.out += ')'.repeat(frame.wraps);
    frame.wraps = 0;
  }

  // -------------------------------------------------------------------------------------------
  // Quantifiers

  /** Length of a `{n}`, `{n,}` or `{n,m}` at pos, or 0 when the brace is a literal. */
  private quantifierBraceLength(): number {
    const m = /^\{\d+(,\d*)?\}/.exec(this.src.slice(this.pos, this.pos + 24));
    return m ? m[0].length : 0;
  }

  private quantifier(): void {
    const start = this.pos;
    const c = this.src[this.pos];
    const len = c === '{' ? this.quantifierBraceLength() : 1;
    let q = this.src.slice(this.pos, this.pos + len);
    this.pos += len;
    let lazy = false;
    if (this.src[this.pos] === '+') throw new PcreError('possessive quantifiers are not supported', start);
    if (this.src[this.pos] === '?') {
      lazy = true;
      this.pos++;
    }
    if (this.flags.U) lazy = !lazy;
    if (lazy) q += '?';
    this.out += q;
  }

  // -------------------------------------------------------------------------------------------
  // Groups

  private openGroup(): void {
    const start = this.pos;
    const rest = this.src.slice(this.pos + 1, this.pos + 4);
    if (rest.startsWith('*')) throw new PcreError('backtracking control verbs (*...) are not supported', start);
    if (!rest.startsWith('?')) {
      this.pos++;
      this.pushGroup(this.flags.n ? '(?:' : this.capture(''));
      return;
    }
    const kind = this.src[this.pos + 2];
    const head = GROUP_HEADS.find((h) => this.src.startsWith(h.text, this.pos));
    if (head !== undefined) {
      if (head.error !== undefined) throw new PcreError(head.error, start);
      this.pos += head.text.length;
      this.pushGroup(head.js!);
      return;
    }
    if (kind === '#') {
      this.skipComment();
      return;
    }
    const named = /^\(\?(?:P?<|')([A-Za-z_]\w*)[>']/.exec(this.src.slice(this.pos, this.pos + 40));
    if (named) {
      this.pos += named[0].length;
      this.pushGroup(this.capture(`?<${named[1]}>`));
      return;
    }
    const backref = /^\(\?P=([A-Za-z_]\w*)\)/.exec(this.src.slice(this.pos, this.pos + 40));
    if (backref) {
      this.pos += backref[0].length;
      this.atom(`\\k<${backref[1]}>`);
      return;
    }
    if (kind === '(') throw new PcreError('conditional groups are not supported', start);
    if (kind === 'C') throw new PcreError('callouts are not supported', start);
    if (kind === 'R' || kind === '&' || kind === 'P' || /^\(\?[-+]?\d/.test(this.src.slice(this.pos, this.pos + 4))) {
      throw new PcreError('recursion and subroutine calls are not supported', start);
    }
    this.optionSetting(start);
  }

  private capture(name: string): string {
    this.groups++;
    return `(${name}`;
  }

  private pushGroup(js: string): void {
    this.out += js;
    this.frames.push({ saved: { ...this.flags }, savedCase: this.caseOn, wraps: 0 });
  }

  private closeGroup(): void {
    if (this.frames.length === 1) throw new PcreError('unmatched closing parenthesis', this.pos);
    this.pos++;
    const frame = this.frames.pop()!;
    this.closeWraps(frame);
    this.flags = frame.saved;
    this.caseOn = frame.savedCase;
    this.out += ')';
  }

  private skipComment(): void {
    const end = this.src.indexOf(')', this.pos);
    if (end < 0) throw new PcreError('missing ) after (?# comment', this.pos);
    this.pos = end + 1;
  }

  /** `(?imnsxU-imnsxU)` for the rest of the group, or `(?imnsxU-imnsxU:` for a new group. */
  private optionSetting(start: number): void {
    const m = /^\(\?(\^?)([imnsxUJ]*)(?:-([imnsxUJ]*))?([:)])/.exec(this.src.slice(this.pos, this.pos + 40));
    if (!m) {
      const unclosed = /^\(\?\^?[imnsxUJ-]*$/.test(this.src.slice(this.pos));
      throw new PcreError(unclosed ? 'missing closing parenthesis' : 'unrecognized character after (? or (?-', start);
    }
    if (/xx/.test(m[2] + (m[3] ?? ''))) throw new PcreError('(?xx) is not supported', start);
    const flags = { ...this.flags };
    if (m[1] === '^') Object.assign(flags, { i: false, m: false, n: false, s: false, x: false });
    for (const f of m[2]) if (f !== 'J') flags[f as keyof Flags] = true;
    for (const f of m[3] ?? '') if (f !== 'J') flags[f as keyof Flags] = false;
    this.pos += m[0].length;
    if (m[4] === ':') {
      this.pushGroup('(?:');
    }
    this.flags = flags;
  }

  // -------------------------------------------------------------------------------------------
  // Escapes outside classes

  private escape(): void {
    const start = this.pos;
    const c = this.src[this.pos + 1];
    if (c === undefined) throw new PcreError('\\ at end of pattern', start);
    this.pos += 2;
    const anchor = ANCHORS[c];
    if (anchor !== undefined) {
      this.atom(anchor);
      return;
    }
    if (c === 'Q') {
      this.quoted();
      return;
    }
    if (c === 'E') return;
    if (c === 'R') {
      this.atom('(?:\\r\\n|[\\n\\v\\f\\r\\x85])');
      return;
    }
    if (c === 'N') {
      if (this.src[this.pos] === '{') throw new PcreError(PCRE_UNSUPPORTED_CASE, start);
      this.atom(LF_ONLY_DOT);
      return;
    }
    if (c === 'g' || c === 'k') {
      this.namedOrRelativeBackref(c, start);
      return;
    }
    if (c >= '1' && c <= '9') {
      this.numericEscape(start);
      return;
    }
    if (Object.hasOwn(SETS, c)) {
      this.atom(`[${SETS[c]}]`);
      return;
    }
    this.pos = start;
    this.atom(literal(this.characterEscape(false)));
  }

  /** `\Q…\E`: every character literal, to `\E` or the end. */
  private quoted(): void {
    const end = this.src.indexOf('\\E', this.pos);
    const stop = end < 0 ? this.src.length : end;
    for (let i = this.pos; i < stop; i++) this.atom(literal(this.src.charCodeAt(i)));
    this.pos = end < 0 ? stop : end + 2;
  }

  /** `\1`…`\9` are backreferences; longer numbers too when that many groups came before. */
  private numericEscape(start: number): void {
    const digits = /^\d+/.exec(this.src.slice(start + 1))![0];
    const n = Number(digits);
    if (n < 10 || digits[0] === '8' || digits[0] === '9' || n <= this.groups) {
      this.pos = start + 1 + digits.length;
      this.backref(n, start);
      return;
    }
    this.pos = start;
    this.atom(literal(this.characterEscape(false)));
  }

  private namedOrRelativeBackref(c: string, start: number): void {
    const text = this.src.slice(this.pos, this.pos + 40);
    if (c === 'g' && /^[<']/.test(text)) {
      throw new PcreError('recursion and subroutine calls are not supported', start);
    }
    const numeric = c === 'g' ? /^(?:\{(-?\d+)\}|(-?\d+))/.exec(text) : null;
    if (numeric) {
      this.pos += numeric[0].length;
      const n = Number(numeric[1] ?? numeric[2]);
      if (n === 0) throw new PcreError('a numbered reference must not be zero', start);
      this.backref(n < 0 ? this.groups + n + 1 : n, start);
      return;
    }
    const named = /^(?:\{([A-Za-z_]\w*)\}|<([A-Za-z_]\w*)>|'([A-Za-z_]\w*)')/.exec(text);
    if (!named || (c === 'g' && named[1] === undefined)) {
      throw new PcreError(`\\${c} is not followed by a group name or number`, start);
    }
    this.pos += named[0].length;
    this.atom(`\\k<${named[1] ?? named[2] ?? named[3]}>`);
  }

  private backref(n: number, at: number): void {
    if (n < 1) throw new PcreError('reference to non-existent subpattern', at);
    if (n > this.maxBackref) {
      this.maxBackref = n;
      this.maxBackrefAt = at;
    }
    // The group keeps the number from running into a following digit.
    this.atom(`(?:\\${n + this.offset})`);
  }

  /**
   * Reads one escape at pos that stands for a single character and returns its code: \n \r \t
   * \f \e \a, \cX, \xHH, \x{H..}, \o{O..}, octal digits, or an escaped non-alphanumeric.
   */
  private characterEscape(inClass: boolean): number {
    const start = this.pos;
    const c = this.src[this.pos + 1];
    this.pos += 2;
    if (Object.hasOwn(SIMPLE_ESCAPES, c)) return SIMPLE_ESCAPES[c];
    if (c === 'c') {
      const x = this.src.charCodeAt(this.pos++);
      if (!(x >= 32 && x < 127)) throw new PcreError('\\c must be followed by a printable ASCII character', start);
      return (x >= 97 && x <= 122 ? x - 32 : x) ^ 0x40;
    }
    if (c === 'x' || c === 'o') return this.codeEscape(c, start);
    if (c >= '0' && c <= '7') {
      const m = /^[0-7]{1,3}/.exec(this.src.slice(start + 1))!;
      this.pos = start + 1 + m[0].length;
      return checkByte(Number.parseInt(m[0], 8), start);
    }
    if (inClass && (c === '8' || c === '9')) return c.charCodeAt(0);
    if (c === 'F' || c === 'L' || c === 'l' || c === 'U' || c === 'u') throw new PcreError(PCRE_UNSUPPORTED_CASE, start);
    if (Object.hasOwn(NOT_IN_JS, c)) throw new PcreError(NOT_IN_JS[c], start);
    if (/[A-Za-z0-9]/.test(c)) throw new PcreError('unrecognized character follows \\', start);
    return c.charCodeAt(0);
  }

  private codeEscape(c: string, start: number): number {
    const braced = c === 'x' ? /^\{([0-9a-fA-F]+)\}/ : /^\{([0-7]+)\}/;
    const m = braced.exec(this.src.slice(this.pos, this.pos + 16));
    if (m) {
      this.pos += m[0].length;
      return checkByte(Number.parseInt(m[1], c === 'x' ? 16 : 8), start);
    }
    if (c === 'o') throw new PcreError('missing opening brace after \\o', start);
    const hex = /^[0-9a-fA-F]{0,2}/.exec(this.src.slice(this.pos))![0];
    this.pos += hex.length;
    return hex === '' ? 0 : Number.parseInt(hex, 16);
  }

  // -------------------------------------------------------------------------------------------
  // Character classes

  private readClass(): string {
    const start = this.pos;
    this.pos++;
    let negated = false;
    if (this.src[this.pos] === '^') {
      negated = true;
      this.pos++;
    }
    const items: ClassItem[] = [];
    let first = true;
    for (;;) {
      if (this.pos >= this.src.length) throw new PcreError('missing terminating ] for character class', start);
      const c = this.src[this.pos];
      if (c === ']' && !first) break;
      first = false;
      if (c === '[' && /^\[:\^?[a-z]+:\]/.test(this.src.slice(this.pos, this.pos + 12))) {
        items.push(this.posixClass());
      } else if (c === '\\') {
        this.classEscape(items);
      } else {
        this.pos++;
        items.push({ code: c.charCodeAt(0) });
      }
    }
    this.pos++;
    return `[${negated ? '^' : ''}${classBody(items, start)}]`;
  }

  private posixClass(): ClassItem {
    const m = /^\[:(\^?)([a-z]+):\]/.exec(this.src.slice(this.pos, this.pos + 12))!;
    const set = POSIX[m[2]];
    if (set === undefined) throw new PcreError('unknown POSIX class name', this.pos);
    this.pos += m[0].length;
    return { set: m[1] === '^' ? complement(set) : set };
  }

  private classEscape(items: ClassItem[]): void {
    const start = this.pos;
    const c = this.src[this.pos + 1];
    if (c === undefined) throw new PcreError('\\ at end of pattern', start);
    if (c === 'Q') {
      this.pos += 2;
      const end = this.src.indexOf('\\E', this.pos);
      const stop = end < 0 ? this.src.length : end;
      for (let i = this.pos; i < stop; i++) items.push({ code: this.src.charCodeAt(i), escaped: true });
      this.pos = end < 0 ? stop : end + 2;
      return;
    }
    if (c === 'E') {
      this.pos += 2;
      return;
    }
    if (c === 'b') {
      this.pos += 2;
      items.push({ code: 8 });
      return;
    }
    if (Object.hasOwn(SETS, c)) {
      this.pos += 2;
      items.push({ set: SETS[c] });
      return;
    }
    if ('ABGKNRXZz'.includes(c) || c === 'g' || c === 'k') {
      throw new PcreError('escape sequence is invalid in character class', start);
    }
    items.push({ code: this.characterEscape(true), escaped: true });
  }
}
