// The wire format of varnishd's CLI, shared by the admin server and its client.
//
// A reply is a 13-byte head, `STATUS LENGTH\n` (status in 3 columns, byte length left-aligned in
// 8), the body, and one more newline. A command is one line of words: separated by blanks,
// `"quoted"` when they hold blanks, with backslash escapes (\n \r \t \" \\ \xHH \OOO) in both
// forms. A line ending in `<< WORD` takes the following lines, up to one equal to WORD, as its
// last argument (a here document; how VCL text travels in vcl.inline).

/** Reply statuses, as varnishd numbers them. */
export const CLIS = {
  SYNTAX: 100,
  UNKNOWN: 101,
  UNIMPL: 102,
  TOOFEW: 104,
  TOOMANY: 105,
  PARAM: 106,
  AUTH: 107,
  OK: 200,
  TRUNCATED: 201,
  CANT: 300,
  COMMS: 400,
  CLOSE: 500,
} as const;

export interface CliReply {
  readonly status: number;
  readonly body: string;
}

/** Bytes of one framed reply. */
export function encodeReply(status: number, body: string): Buffer {
  const bytes = Buffer.from(body, 'utf8');
  const head = `${String(status).padStart(3, '0')} ${String(bytes.length).padEnd(8)}\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), bytes, Buffer.from('\n')]);
}

export const REPLY_HEAD_BYTES = 13;

/** Reads a reply head; undefined when the 13 bytes are not one. */
export function decodeReplyHead(head: string): { status: number; length: number } | undefined {
  const m = /^(\d{3}) (\d+) *\n$/.exec(head);
  return m ? { status: Number(m[1]), length: Number(m[2]) } : undefined;
}

export class CliSyntaxError extends Error {
  override name = 'CliSyntaxError';
}

/** Splits a command line into words; throws CliSyntaxError on bad quoting or escapes. */
export function splitCommand(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  while (i < n) {
    while (i < n && isBlank(line[i])) i++;
    if (i >= n) break;
    let word = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= n) throw new CliSyntaxError(`Missing '"'`);
        if (line[i] === '"') {
          i++;
          break;
        }
        const [text, next] = textAt(line, i);
        word += text;
        i = next;
      }
    } else {
      while (i < n && !isBlank(line[i])) {
        if (line[i] === '"') throw new CliSyntaxError(`Invalid '"'`);
        const [text, next] = textAt(line, i);
        word += text;
        i = next;
      }
    }
    out.push(word);
  }
  return out;
}

function isBlank(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\r' || c === '\n';
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };

/** The character at `i` of a word, or the backslash sequence there unescaped: its text and the index after it. */
function textAt(line: string, i: number): [string, number] {
  if (line[i] !== '\\') return [line[i], i + 1];
  const c = line[i + 1];
  if (c !== undefined && SIMPLE_ESCAPES[c] !== undefined) return [SIMPLE_ESCAPES[c], i + 2];
  if (c === 'x') {
    const hex = /^[0-9a-fA-F]{2}/.exec(line.slice(i + 2, i + 4));
    if (hex) return [String.fromCharCode(Number.parseInt(hex[0], 16)), i + 4];
  }
  const oct = /^[0-7]{1,3}/.exec(line.slice(i + 1, i + 4));
  if (oct && Number.parseInt(oct[0], 8) < 256) return [String.fromCharCode(Number.parseInt(oct[0], 8)), i + 1 + oct[0].length];
  throw new CliSyntaxError('Invalid backslash sequence');
}

/** Whether a word can go on the wire as it is; else quoteWord. */
function plainWord(w: string): boolean {
  return w !== '' && !/[\s"\\]/.test(w) && !/[\x00-\x1f\x7f]/.test(w);
}

/** A word as one argument on the wire: as it is when plain, else quoted with escapes. */
export function quoteWord(w: string): string {
  if (plainWord(w)) return w;
  let out = '"';
  for (const ch of w) {
    const code = ch.charCodeAt(0);
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** argv as one command line. */
export function joinCommand(argv: readonly string[]): string {
  return argv.map(quoteWord).join(' ');
}

/** A complete command read off the wire: its words, or why it could not be read. */
export type IncomingCommand = { readonly argv: string[]; readonly line: string } | { readonly syntaxError: string; readonly line: string };

/**
 * Whether a line opens a here document: ` << WORD` at its end (WORD one token, the marker),
 * the first such `<<` when several could be. Found from the end of the line, in one pass: a
 * pattern with a lazy head (`^(.*?)\s<<\s*(\S+)\s*$`) backtracks over every `<<` of a long
 * line, and lines come from the network.
 */
export function heredocStart(line: string): { head: string; end: string } | undefined {
  const t = line.trimEnd();
  let ws = t.length - 1;
  while (ws >= 0 && !isBlank(t[ws])) ws--;
  if (ws < 0) return undefined;
  const token = t.slice(ws + 1);
  // `head << WORD`: the marker is the last token, `<<` stands alone before it.
  const before = t.slice(0, ws).trimEnd();
  if (before.endsWith('<<') && before.length > 2 && isBlank(before[before.length - 3])) {
    return { head: before.slice(0, before.length - 3), end: token };
  }
  // `head <<WORD`: the last token is `<<` and the marker.
  if (token.startsWith('<<') && token.length > 2) return { head: t.slice(0, ws), end: token.slice(2) };
  return undefined;
}

/**
 * Turns bytes from a connection into commands: lines, blank ones skipped, here documents
 * gathered. `limit` bounds one command's bytes (a here document included).
 */
export class CommandReader {
  #pending = '';
  #heredoc: { head: string; end: string; lines: string[]; bytes: number } | undefined;
  #limit: number;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Changes the bound (authentication raises it). */
  setLimit(limit: number): void {
    this.#limit = limit;
  }

  /** Feeds text; returns the commands completed by it. Throws RangeError past the limit. */
  push(text: string): IncomingCommand[] {
    // Only the new text can hold the next newline: a long line sent in small pieces is not
    // scanned again at each piece.
    let from = this.#pending.length;
    this.#pending += text;
    const out: IncomingCommand[] = [];
    for (;;) {
      const nl = this.#pending.indexOf('\n', from);
      from = 0;
      if (nl < 0) break;
      const line = this.#pending.slice(0, nl).replace(/\r$/, '');
      this.#pending = this.#pending.slice(nl + 1);
      const cmd = this.#line(line);
      if (cmd) out.push(cmd);
    }
    const held = this.#pending.length + (this.#heredoc?.bytes ?? 0);
    if (held > this.#limit) throw new RangeError(`command longer than ${this.#limit} bytes`);
    return out;
  }

  #line(line: string): IncomingCommand | undefined {
    const hd = this.#heredoc;
    if (hd) {
      if (line !== hd.end) {
        hd.lines.push(line);
        hd.bytes += line.length + 1;
        return undefined;
      }
      this.#heredoc = undefined;
      return parse(hd.head, `${hd.lines.join('\n')}\n`, `${hd.head} << ${hd.end}`);
    }
    if (line.trim() === '') return undefined;
    const hd2 = heredocStart(line);
    if (hd2) {
      this.#heredoc = { head: hd2.head, end: hd2.end, lines: [], bytes: 0 };
      return undefined;
    }
    return parse(line, undefined, line);
  }
}

function parse(text: string, lastArg: string | undefined, line: string): IncomingCommand {
  try {
    const argv = splitCommand(text);
    if (lastArg !== undefined) argv.push(lastArg);
    return { argv, line };
  } catch (e) {
    if (e instanceof CliSyntaxError) return { syntaxError: e.message, line };
    throw e;
  }
}
