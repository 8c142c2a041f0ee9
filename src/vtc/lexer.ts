// Splits VTC text into command lines of words, the way varnishtest reads a spec: one command
// per line, words split on blanks, "quoted strings" (backslash escapes decoded, one line only)
// and {braced blocks} (nesting, raw text, may span lines), `\` + newline continues a line, and
// a line whose first word starts with `#` is a comment. Text is handled as latin1 so that one
// character is one byte, as in the C original.

export type TokenKind = 'word' | 'quoted' | 'brace';

export interface Token {
  readonly text: string;
  readonly kind: TokenKind;
}

export interface SpecLine {
  /** 1-based line of the command's first word, counted from the start of the spec. */
  readonly line: number;
  readonly tokens: readonly Token[];
}

export class VtcSyntaxError extends Error {
  override name = 'VtcSyntaxError';
}

const SPACE = new Set([' ', '\t', '\r', '\v', '\f']);

/** Lexes a whole spec. Line numbers start at `firstLine`. */
export function lexSpec(text: string, firstLine = 1): SpecLine[] {
  const lines: SpecLine[] = [];
  let p = 0;
  let line = firstLine;
  const n = text.length;
  while (p < n) {
    const c = text[p];
    if (c === '\n') {
      line++;
      p++;
      continue;
    }
    if (SPACE.has(c)) {
      p++;
      continue;
    }
    if (c === '#') {
      while (p < n && text[p] !== '\n') p++;
      continue;
    }
    const start = line;
    const tokens: Token[] = [];
    while (p < n && text[p] !== '\n') {
      const ch = text[p];
      if (SPACE.has(ch)) {
        p++;
      } else if (ch === '\\' && text[p + 1] === '\n') {
        p += 2;
        line++;
      } else if (ch === '\\' && text[p + 1] === '\r' && text[p + 2] === '\n') {
        p += 3;
        line++;
      } else if (ch === '"') {
        const r = readQuoted(text, p + 1, start);
        tokens.push({ text: r.text, kind: 'quoted' });
        p = r.end;
      } else if (ch === '{') {
        const r = readBraced(text, p, line);
        tokens.push({ text: r.text, kind: 'brace' });
        line += r.newlines;
        p = r.end;
      } else {
        const s = p;
        while (p < n && !SPACE.has(text[p]) && text[p] !== '\n') p++;
        tokens.push({ text: text.slice(s, p), kind: 'word' });
      }
    }
    if (tokens.length > 0) lines.push({ line: start, tokens });
  }
  return lines;
}

function readQuoted(text: string, p: number, line: number): { text: string; end: number } {
  let out = '';
  for (; p < text.length; p++) {
    const c = text[p];
    if (c === '"') {
      // A decoded NUL ends the string, as it ends a C string in varnishtest.
      const nul = out.indexOf('\0');
      return { text: nul >= 0 ? out.slice(0, nul) : out, end: p + 1 };
    }
    if (c === '\n') throw new VtcSyntaxError(`Unterminated quoted string in line ${line}`);
    if (c === '\\') {
      const r = backslash(text, p);
      out += r.ch;
      p += r.len - 1;
    } else {
      out += c;
    }
  }
  throw new VtcSyntaxError(`Unterminated quoted string in line ${line}`);
}

/** Decodes one backslash escape at `p`: \n \r \t \" \\ \xHH and up to three octal digits. */
function backslash(text: string, p: number): { ch: string; len: number } {
  const c = text[p + 1];
  switch (c) {
    case 'n':
      return { ch: '\n', len: 2 };
    case 'r':
      return { ch: '\r', len: 2 };
    case 't':
      return { ch: '\t', len: 2 };
    case '"':
      return { ch: '"', len: 2 };
    case '\\':
      return { ch: '\\', len: 2 };
    case 'x': {
      const hex = text.slice(p + 2, p + 4);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) return { ch: String.fromCharCode(Number.parseInt(hex, 16)), len: 4 };
      break;
    }
    default:
      if (c !== undefined && c >= '0' && c <= '7') {
        let v = 0;
        let len = 1;
        while (len < 4 && text[p + len] >= '0' && text[p + len] <= '7') {
          v = (v << 3) | (text.charCodeAt(p + len) - 48);
          len++;
        }
        return { ch: String.fromCharCode(v & 0xff), len };
      }
  }
  // Anything else keeps its backslash (varnishtest has no rule for it; this is the kind reading).
  return { ch: '\\', len: 1 };
}

function readBraced(text: string, p: number, line: number): { text: string; end: number; newlines: number } {
  let depth = 0;
  let newlines = 0;
  const start = p + 1;
  for (; p < text.length; p++) {
    const c = text[p];
    if (c === '{') depth++;
    else if (c === '}') {
      if (--depth === 0) return { text: text.slice(start, p), end: p + 1, newlines };
    } else if (c === '\n') newlines++;
  }
  throw new VtcSyntaxError(`Unbalanced braces starting in line ${line}`);
}
