// Lexing one file's text into Chevrotain tokens that also know which file they come from.
// Lexical errors are reported as Diagnostics in our words and the offending text skipped, so
// the parser still sees the rest of the file. See tokens.ts for why the scanner is by hand.

import type { IToken, TokenType } from 'chevrotain';
import type { Pos } from './ast.ts';
import type { Diagnostics } from './diagnostics.ts';
import {
  BlobTok,
  Ident,
  KEYWORDS,
  LongString,
  NumberTok,
  OPERATORS,
  PlainString,
  TripleString,
} from './tokens.ts';

/** A Chevrotain token plus the index of its file in the list of sources. */
export interface VclToken extends IToken {
  file: number;
}

export function tokenPos(t: VclToken): Pos {
  return {
    file: t.file,
    line: t.startLine!,
    col: t.startColumn!,
    offset: t.startOffset,
    length: t.endOffset! - t.startOffset + 1,
  };
}

/** The tokens of one file, comments and whitespace dropped, keywords typed as such. */
export function lexFile(text: string, file: number, diagnostics: Diagnostics): VclToken[] {
  return new Scanner(text, file, diagnostics).run();
}

const QUOTE_WIDTH = { '"': 1, '{"': 2, '"""': 3 } as const;

/** The text between the quotes of a string token, and which quotes it was written with. */
export function stringValue(image: string): { value: string; quote: '"' | '{"' | '"""' } {
  const quote = image.startsWith('"""') && image.length >= 6 ? '"""' : image[0] === '{' ? '{"' : '"';
  const w = QUOTE_WIDTH[quote];
  return { value: image.slice(w, image.length - w), quote };
}

const isLetter = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
const isDigit = (c: number) => c >= 48 && c <= 57;
const isWordChar = (c: number) => isLetter(c) || isDigit(c) || c === 95 /* _ */ || c === 45; /* - */
const isSpace = (c: number) => c === 32 || c === 10 || c === 9 || c === 13;
const isBase64 = (c: number) => isLetter(c) || isDigit(c) || c === 43 /* + */ || c === 47 /* / */ || c === 61; /* = */
/** Characters a token or a comment may start with; a run of others is one lexical error. */
const STARTERS = new Set([...'"#{:', ...[...OPERATORS.keys()].map((k) => k[0]!)].map((ch) => ch.charCodeAt(0)));

class Scanner {
  readonly text: string;
  readonly file: number;
  readonly d: Diagnostics;
  readonly tokens: VclToken[] = [];
  pos = 0;
  line = 1;
  lineStart = 0;

  constructor(text: string, file: number, diagnostics: Diagnostics) {
    this.text = text;
    this.file = file;
    this.d = diagnostics;
  }

  run(): VclToken[] {
    const text = this.text;
    const n = text.length;
    while (this.pos < n) {
      const c = text.charCodeAt(this.pos);
      const next = text.charCodeAt(this.pos + 1);
      if (c === 10) {
        this.pos++;
        this.line++;
        this.lineStart = this.pos;
      } else if (isSpace(c)) this.pos++;
      else if (c === 67 /* C */ && next === 123 /* { */) this.inlineC();
      else if (isLetter(c)) this.word();
      else if (isDigit(c)) this.number();
      else if (c === 34 /* " */) this.string();
      else if (c === 123 /* { */ && next === 34) this.delimited(2, '"}', LongString);
      else if (c === 35 /* # */ || (c === 47 /* / */ && next === 47)) this.skipTo('\n', 0);
      else if (c === 47 && next === 42 /* * */) this.blockComment();
      else if (c === 58 /* : */) this.blob();
      else this.operator();
    }
    return this.tokens;
  }

  private emit(type: TokenType, start: number, startLine: number, startCol: number): void {
    const end = this.pos;
    this.tokens.push({
      image: this.text.slice(start, end),
      startOffset: start,
      endOffset: end - 1,
      startLine,
      endLine: this.line,
      startColumn: startCol,
      endColumn: end - this.lineStart,
      tokenTypeIdx: type.tokenTypeIdx!,
      tokenType: type,
      file: this.file,
    });
  }

  private error(start: number, length: number, message: string): void {
    const pos = { file: this.file, line: this.line, col: start - this.lineStart + 1, offset: start, length };
    this.d.error(pos, message);
  }

  private word(): void {
    const start = this.pos;
    const text = this.text;
    let i = start + 1;
    while (i < text.length && isWordChar(text.charCodeAt(i))) i++;
    this.pos = i;
    const type = KEYWORDS.get(text.slice(start, i)) ?? Ident;
    this.emit(type, start, this.line, start - this.lineStart + 1);
  }

  private number(): void {
    const start = this.pos;
    const text = this.text;
    let i = start + 1;
    while (isDigit(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) === 46 /* . */ && isDigit(text.charCodeAt(i + 1))) {
      i += 2;
      while (isDigit(text.charCodeAt(i))) i++;
    }
    this.pos = i;
    this.emit(NumberTok, start, this.line, start - this.lineStart + 1);
  }

  /** `"..."` ends at the line's end; `"""..."""` may span lines. */
  private string(): void {
    const text = this.text;
    if (text.startsWith('""', this.pos + 1)) {
      this.delimited(3, '"""', TripleString);
      return;
    }
    const start = this.pos;
    let i = start + 1;
    for (let c = text.charCodeAt(i); i < text.length && c !== 34 && c !== 10; c = text.charCodeAt(++i));
    if (text.charCodeAt(i) !== 34) {
      this.error(start, 1, 'Unterminated string');
      this.pos = i;
      return;
    }
    this.pos = i + 1;
    this.emit(PlainString, start, this.line, start - this.lineStart + 1);
  }

  /** `:aGVsbG8=:`: base64 between colons, on one line. */
  private blob(): void {
    const start = this.pos;
    const text = this.text;
    let i = start + 1;
    while (isBase64(text.charCodeAt(i))) i++;
    if (text.charCodeAt(i) !== 58) {
      this.error(start, i - start + 1, 'Illegal BLOB character');
      this.pos = i;
      return;
    }
    this.pos = i + 1;
    this.emit(BlobTok, start, this.line, start - this.lineStart + 1);
  }

  /** A long string from its opening (`width` characters) to `close`, counting lines. */
  private delimited(width: number, close: string, type: TokenType): void {
    const start = this.pos;
    const startLine = this.line;
    const startCol = start - this.lineStart + 1;
    if (!this.skipTo(close, width)) {
      this.line = startLine;
      this.error(start, width, 'Unterminated long string');
      this.pos = this.text.length;
      return;
    }
    this.emit(type, start, startLine, startCol);
  }

  private blockComment(): void {
    const start = this.pos;
    const line = this.line;
    const lineStart = this.lineStart;
    if (!this.skipTo('*/', 2)) {
      this.line = line;
      this.lineStart = lineStart;
      this.error(start, 2, 'Unterminated /* ... */ comment');
      this.pos = this.text.length;
    }
  }

  /** Varnish compiles `C{ ... }C` into the VCL's C code; Shellac refuses it, and skips it. */
  private inlineC(): void {
    const start = this.pos;
    this.error(start, 2, 'Inline C is not supported: Shellac does not run C code');
    if (!this.skipTo('}C', 2)) this.pos = this.text.length;
  }

  /**
   * Moves past the next `close` after the first `skip` characters, counting the lines passed;
   * false, and the position unchanged, when there is none. A `close` of '\n' stops before it.
   */
  private skipTo(close: string, skip: number): boolean {
    const text = this.text;
    const end = text.indexOf(close, this.pos + skip);
    if (close === '\n') {
      this.pos = end < 0 ? text.length : end;
      return true;
    }
    if (end < 0) return false;
    for (let nl = text.indexOf('\n', this.pos); nl >= 0 && nl < end; nl = text.indexOf('\n', nl + 1)) {
      this.line++;
      this.lineStart = nl + 1;
    }
    this.pos = end + close.length;
    return true;
  }

  private operator(): void {
    const start = this.pos;
    const text = this.text;
    const type = OPERATORS.get(text.slice(start, start + 2)) ?? OPERATORS.get(text[start]!);
    if (type !== undefined) {
      this.pos += type.LABEL!.length - 2;
      this.emit(type, start, this.line, start - this.lineStart + 1);
      return;
    }
    // A run of characters no token starts with is one error, named by its first character.
    const ch = String.fromCodePoint(text.codePointAt(start)!);
    let i = start + ch.length;
    for (let c = text.charCodeAt(i); i < text.length && !this.canStart(c); c = text.charCodeAt(++i));
    this.error(start, ch.length, `Syntax error: unexpected character '${ch}'`);
    this.pos = i;
  }

  private canStart(c: number): boolean {
    return isSpace(c) || isLetter(c) || isDigit(c) || STARTERS.has(c);
  }
}
