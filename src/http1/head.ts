// The request head, read from bytes as Varnish 7.1 reads it (cache_http1_proto.c), rule by rule;
// docs/proxy.md lists each rule with what varnishd answers. In short:
// - a head ends at LF [CR] LF; bytes of white space before a request are skipped; a line ends in
//   CR LF or a bare LF, and a CR anywhere else is a control byte;
// - the request line is METHOD SP+ URL SP+ PROTO: the method is any run of non-control bytes,
//   the separators spaces only (a TAB is refused), the protocol must be HTTP/1.0 or HTTP/1.1;
// - a header line is a token, a colon, and a value without control bytes (TAB allowed); no
//   white space before the colon or at the start of the first header line; a line that starts
//   with SP or TAB continues the one before (obs-fold), its line break turned into spaces;
// - a header line longer than http_req_hdr_len, more than http_max_hdr - 5 headers (Varnish
//   counts the first line's three fields and two spare slots in the same table): 400.
// Nothing here builds a string but the fields and header names and values themselves, and
// those that came before (the same method, Host, Accept... on every request) are taken again
// from a small table instead of being decoded anew (see text()).

import { BYTE_CLASS, CTL, crlfAt, LF, CR, LWS, SP, TCHAR } from './bytes.ts';

/** The parameters a head is read with, named as the parameters are (the live values pass as they are). */
export interface HeadLimits {
  /** The longest header line. */
  readonly http_req_hdr_len: number;
  readonly http_max_hdr: number;
}

export interface ParsedHead {
  readonly method: string;
  readonly url: string;
  readonly proto: string;
  /** 10 or 11. */
  readonly protover: number;
  /** Header names as sent, the same in lower case, and their values, leading and trailing white space taken off. */
  readonly names: string[];
  readonly lower: string[];
  readonly values: string[];
}

/** What is known of a connection's buffer: not a head yet, too big for one, or where it ends. */
export type HeadScan = { readonly kind: 'empty'; readonly skip: number } | { readonly kind: 'more'; readonly skip: number } | { readonly kind: 'overflow' } | { readonly kind: 'complete'; readonly start: number; readonly end: number };

/**
 * Finds a whole head in buf[from, to) (Varnish's HTTP1_Complete): white space before it is
 * skipped (`skip` is where the request starts), the end is after LF [CR] LF. `resume`: where
 * the search for the end may start, the bytes before it having been searched already.
 */
export function scanHead(buf: Uint8Array, from: number, to: number, reqSize: number, resume = from): HeadScan {
  let p = from;
  while (p < to && (BYTE_CLASS[buf[p]] & LWS) !== 0) p++;
  if (p === to) return { kind: 'empty', skip: p };
  const start = p;
  if (resume > p) p = resume;
  const limit = Math.min(to, start + reqSize);
  for (;;) {
    p = buf.indexOf(LF, p);
    if (p < 0 || p >= limit) return to - start >= reqSize ? { kind: 'overflow' } : { kind: 'more', skip: start };
    if (++p === limit) return to - start >= reqSize ? { kind: 'overflow' } : { kind: 'more', skip: start };
    if (buf[p] === CR && ++p === limit) return to - start >= reqSize ? { kind: 'overflow' } : { kind: 'more', skip: start };
    if (buf[p] === LF) return { kind: 'complete', start, end: p + 1 };
  }
}

/** Where parseHead reads header lines into before it copies them out at their final size. */
const SCRATCH: HeaderLines = { names: [], lower: [], values: [] };

/**
 * A connection's last header lines, as bytes and as read: a keep-alive client sends the same
 * lines request after request (Host, User-Agent, Accept..., often the same cookies), and lines
 * equal byte for byte to the last ones, read under the same limits, read the same. The arrays
 * are shared by the heads that have them, which nobody changes (req is a copy).
 */
export interface LinesMemo {
  bytes: Buffer | null;
  names: string[];
  lower: string[];
  values: string[];
  maxLine: number;
  maxHeaders: number;
}

export function newLinesMemo(): LinesMemo {
  return { bytes: null, names: [], lower: [], values: [], maxLine: 0, maxHeaders: 0 };
}

/** Header blocks up to this size are remembered (see LinesMemo); a larger one is read each time. */
const MEMO_MAX = 2048;

/**
 * Splits a complete head buf[start, end) into its fields and headers; a string says why it is
 * refused. With `memo`, lines equal to the connection's last ones are not read again.
 */
export function parseHead(buf: Buffer, start: number, end: number, limits: HeadLimits, memo?: LinesMemo): ParsedHead | string {
  let p = start;
  // Method: up to the first SP or TAB, no control byte.
  while ((BYTE_CLASS[buf[p]] & SP) === 0) {
    if ((BYTE_CLASS[buf[p]] & CTL) !== 0) return 'control byte in the method';
    p++;
  }
  const method = text(buf, start, p);
  // Spaces, where a TAB (a control byte too) is refused.
  while ((BYTE_CLASS[buf[p]] & SP) !== 0) {
    if (buf[p] !== 0x20) return 'TAB in the request line';
    p++;
  }
  const urlStart = p;
  while ((BYTE_CLASS[buf[p]] & LWS) === 0) {
    if ((BYTE_CLASS[buf[p]] & CTL) !== 0) return 'control byte in the URL';
    p++;
  }
  if (p === urlStart) return 'no URL';
  const url = text(buf, urlStart, p);
  while ((BYTE_CLASS[buf[p]] & SP) !== 0) {
    if (buf[p] !== 0x20) return 'TAB in the request line';
    p++;
  }
  // The protocol runs to the line's end and may hold spaces (then it is no protocol Varnish takes).
  const protoStart = p;
  while (p < end && crlfAt(buf, p, end) === 0) {
    if ((BYTE_CLASS[buf[p]] & CTL) !== 0 && buf[p] !== 0x09) return 'control byte in the protocol';
    p++;
  }
  const eol = crlfAt(buf, p, end);
  if (eol === 0) return 'request line without an end';
  const protover = protocolVersion(buf, protoStart, p);
  if (protover !== 10 && protover !== 11) return 'protocol other than HTTP/1.0 or HTTP/1.1';
  const proto = protover === 11 ? 'HTTP/1.1' : 'HTTP/1.0';
  p += eol;
  const size = end - p;
  const maxLine = limits.http_req_hdr_len;
  const maxHeaders = limits.http_max_hdr;
  if (memo !== undefined) {
    const last = memo.bytes;
    if (last !== null && last.length === size && memo.maxLine === maxLine && memo.maxHeaders === maxHeaders && sameBytes(buf, p, last, size)) {
      return { method, url, proto, protover, names: memo.names, lower: memo.lower, values: memo.values };
    }
  }
  const lines = SCRATCH;
  const refused = parseHeaderLines(buf, p, end, maxLine, maxHeaders - 5, lines);
  // The lines are read into arrays kept from head to head, then copied at their final size:
  // less time and garbage than arrays grown by push for each head.
  const head = refused === null ? { method, url, proto, protover, names: exactCopy(lines.names), lower: exactCopy(lines.lower), values: exactCopy(lines.values) } : null;
  emptyLines(lines);
  if (head === null) return refused!;
  if (memo !== undefined && size <= MEMO_MAX) {
    memo.bytes = Buffer.from(buf.subarray(p, end));
    memo.names = head.names;
    memo.lower = head.lower;
    memo.values = head.values;
    memo.maxLine = maxLine;
    memo.maxHeaders = maxHeaders;
  }
  return head;
}

/** Past this many bytes a comparison is Buffer's own (native); below, a loop costs less than the call. */
const SHORT_COMPARE = 96;

/** Whether buf[at, at + n) holds the bytes of `other`. */
function sameBytes(buf: Buffer, at: number, other: Buffer, n: number): boolean {
  if (n > SHORT_COMPARE) return buf.compare(other, 0, n, at, at + n) === 0;
  for (let i = 0; i < n; i++) if (buf[at + i] !== other[i]) return false;
  return true;
}

function exactCopy(a: readonly string[]): string[] {
  const out = new Array<string>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i];
  return out;
}

/** Empties the arrays without giving up their room (pop keeps it; `length = 0` does not). */
function emptyLines(lines: HeaderLines): void {
  const { names, lower, values } = lines;
  while (names.length > 0) names.pop();
  while (lower.length > 0) lower.pop();
  while (values.length > 0) values.pop();
}

/** Where parseHeaderLines puts the headers it reads. */
export interface HeaderLines {
  readonly names: string[];
  readonly lower: string[];
  readonly values: string[];
}

/**
 * Reads header lines from buf[p, end) up to the blank line, by Varnish's rules for both
 * directions (http1_dissect_hdrs: the backend side reads responses with it too); returns why
 * they are refused, or null. `maxLine` is http_req_hdr_len or http_resp_hdr_len.
 */
export function parseHeaderLines(buf: Buffer, p: number, end: number, maxLine: number, maxHeaders: number, out: HeaderLines): string | null {
  const { names, lower, values } = out;
  for (;;) {
    if (crlfAt(buf, p, end) !== 0) break;
    const lineStart = p;
    let lineEnd = p;
    let folded = false;
    let r = p;
    while (r < end) {
      const c = BYTE_CLASS[buf[r]];
      if ((c & CTL) === 0 || (c & SP) !== 0) {
        r++;
        continue;
      }
      const n = crlfAt(buf, r, end);
      if (n === 0) return `control byte 0x${buf[r].toString(16).padStart(2, '0')} in a header`;
      lineEnd = r;
      r += n;
      if (r >= end || crlfAt(buf, r, end) !== 0 || (BYTE_CLASS[buf[r]] & SP) === 0) break;
      // obs-fold: the line goes on; its line break reads as spaces.
      folded = true;
    }
    if (lineEnd - lineStart > maxLine) return 'header line longer than http_req_hdr_len';
    const first = buf[lineStart];
    if ((BYTE_CLASS[first] & LWS) !== 0) return 'header line starting with white space';
    if (first === 0x3a) return 'header without a name';
    let colon = lineStart;
    while (colon < lineEnd && buf[colon] !== 0x3a) {
      if ((BYTE_CLASS[buf[colon]] & TCHAR) === 0) return 'byte not allowed in a header name';
      colon++;
    }
    if (colon === lineEnd) return "header without ':'";
    if (names.length >= maxHeaders) return 'more headers than http_max_hdr allows';
    let vs = colon + 1;
    let ve = lineEnd;
    while (vs < ve && (BYTE_CLASS[buf[vs]] & LWS) !== 0) vs++;
    while (ve > vs && (BYTE_CLASS[buf[ve - 1]] & LWS) !== 0) ve--;
    const name = text(buf, lineStart, colon);
    names.push(name);
    lower.push(lowerName(name));
    values.push(folded ? unfold(buf.toString('latin1', vs, ve)) : text(buf, vs, ve));
    p = r;
  }
  return null;
}

/** Lower-case forms of recent header names: they repeat from request to request. */
const LOWER = new Map<string, string>();
const LOWER_MAX = 512;

/**
 * A header name in lower case. The names text() gives back are mostly the same string objects
 * request after request, so a Map lookup (their hash kept in the string) costs less than a new
 * lower-cased string each time, which the framing checks and VCL's header table both need.
 */
export function lowerName(name: string): string {
  let l = LOWER.get(name);
  if (l === undefined) {
    l = name.toLowerCase();
    if (LOWER.size >= LOWER_MAX) LOWER.clear();
    LOWER.set(name, l);
  }
  return l;
}

/** Strings up to this long are looked up in RECENT before they are decoded. */
const RECENT_MAX_LENGTH = 64;
/** Recently decoded short strings, by a hash of their bytes: 1024 slots of 64 bytes at most. */
const RECENT: string[] = new Array<string>(1024).fill('');

/**
 * buf[from, to) as a Latin-1 string. Requests repeat themselves (the method, the header names,
 * Host, Accept, often the URL): a short string whose bytes match the one last decoded in its
 * slot is that string again, compared in JS, which costs less than a decode and makes no
 * garbage. The table only holds bytes compared in full, so any string it gives is exact.
 */
function text(buf: Buffer, from: number, to: number): string {
  const n = to - from;
  if (n === 0) return '';
  if (n > RECENT_MAX_LENGTH) return buf.toString('latin1', from, to);
  const slot = (n * 31 + buf[from] * 17 + buf[to - 1] * 7 + buf[from + (n >> 1)] * 3) & (RECENT.length - 1);
  const known = RECENT[slot];
  if (known.length === n) {
    let i = 0;
    while (i < n && known.charCodeAt(i) === buf[from + i]) i++;
    if (i === n) return known;
  }
  const fresh = buf.toString('latin1', from, to);
  RECENT[slot] = fresh;
  return fresh;
}

/** A folded value's CR and LF as spaces, as Varnish overwrites them. */
function unfold(value: string): string {
  return value.replace(/[\r\n]/g, ' ');
}

/** 10 × major + minor for `HTTP/d.d` (letters in any case); 0 for anything else. */
export function protocolVersion(buf: Uint8Array, from: number, to: number): number {
  if (to - from !== 8) return 0;
  if ((buf[from] | 0x20) !== 0x68 || (buf[from + 1] | 0x20) !== 0x74 || (buf[from + 2] | 0x20) !== 0x74 || (buf[from + 3] | 0x20) !== 0x70) return 0;
  const major = buf[from + 5] - 0x30;
  const minor = buf[from + 7] - 0x30;
  if (buf[from + 4] !== 0x2f || buf[from + 6] !== 0x2e || major < 0 || major > 9 || minor < 0 || minor > 9) return 0;
  return 10 * major + minor;
}
