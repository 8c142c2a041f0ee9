// The stored header block of an object: its status line and headers as they go on the wire
// ("HTTP/1.1 200 OK\r\nName: value\r\n..."), one byte per character of the byte strings VCL
// holds (latin1, as the HTTP/1 layer reads and writes them), the bytes a storage keeps. VCL's obj.http
// is decoded from it only when asked for, and a bounded ring of decoded heads (DecodedHeads)
// keeps the recently used ones: a hot object is decoded once, a million cold ones cost no JS
// object each. A hit that VCL does not make read obj.http or resp decodes nothing: it writes the
// block's first bytes as they are (the lines it replaces are kept last), knowing what else it
// needs from the object's HeadFacts. Decoding a cold object's head on every hit made objects that
// lived just long enough (a ring's turn) to be promoted to the old generation: with 10,000 hot
// URLs a hit cost 2.5 times a single URL's, most of it the collector (docs/storage.md).

import { CONNECTION_SPECIFIC } from '../common/http-headers.ts';
import { VclHttp } from '../runtime/http.ts';
import { statusReason } from '../runtime/status.ts';

/**
 * Lines a hit never writes as stored: the deliver step sets X-Varnish and Age anew, and the
 * writer adds its own Content-Length. The block keeps them after the others (their order
 * among themselves kept), so that what a hit writes of the block is its first bytes.
 */
const REWRITTEN = new Set(['x-varnish', 'age', 'content-length']);

/**
 * What a hit needs to know of a stored head without decoding it, packed in one number (an
 * integer below 2^53, kept in the object's row):
 * - bits 0-19, `leanBytes`: how many of the block's first bytes a hit writes as they are (the
 *   status line and every line but the REWRITTEN ones), or 0 when the block is not fit for it:
 *   a status line other than `HTTP/1.1 NNN reason` as the writer would make it, a line the
 *   writer must look at (Connection and the like), a block of 1 MB or more;
 * - bit 20: the object has Accept-Ranges; bit 21: it has Date; bit 22: its reason is its
 *   status's own (statusReason);
 * - bits 23-32: its number of header lines (LINES_UNKNOWN when 1023 or more);
 * - bits 33-48: its status (STATUS_UNKNOWN when not below 65535).
 */
export type HeadFacts = number;

const LEAN_LIMIT = 2 ** 20;
const HAS_ACCEPT_RANGES = 2 ** 20;
const HAS_DATE = 2 ** 21;
const OWN_REASON = 2 ** 22;
const LINES_AT = 2 ** 23;
const STATUS_AT = 2 ** 33;
export const LINES_UNKNOWN = 1023;
export const STATUS_UNKNOWN = 65535;

/** The bytes a hit writes of the block as stored (0: none, the head is written the long way). */
export const leanBytes = (f: HeadFacts): number => f % LEAN_LIMIT;
const bit = (f: HeadFacts, b: number): boolean => Math.floor(f / b) % 2 === 1;
export const hasAcceptRanges = (f: HeadFacts): boolean => bit(f, HAS_ACCEPT_RANGES);
export const hasDate = (f: HeadFacts): boolean => bit(f, HAS_DATE);
export const ownReason = (f: HeadFacts): boolean => bit(f, OWN_REASON);
export const lineCount = (f: HeadFacts): number => Math.floor(f / LINES_AT) % 1024;
export const storedStatus = (f: HeadFacts): number => Math.floor(f / STATUS_AT);

/**
 * The block for `http`: the status line, then one line per header, the REWRITTEN ones last;
 * and its HeadFacts.
 */
export function encodeHeaderBlock(http: VclHttp): { readonly block: Buffer; readonly facts: HeadFacts } {
  const status = http.status;
  let text = `${http.proto} ${status} ${http.reason}\r\n`;
  let fit = http.proto === 'HTTP/1.1' && status >= 100 && status <= 999 && http.reason !== '';
  let tail = '';
  let flags = 0;
  for (let i = 0; i < http.count; i++) {
    const name = http.nameAt(i);
    const line = `${name}: ${http.valueAt(i)}\r\n`;
    const lower = name.toLowerCase();
    if (REWRITTEN.has(lower)) {
      tail += line;
      continue;
    }
    text += line;
    if (CONNECTION_SPECIFIC.has(lower)) fit = false;
    else if (lower === 'accept-ranges') flags |= HAS_ACCEPT_RANGES;
    else if (lower === 'date') flags |= HAS_DATE;
  }
  const lean = fit && text.length < LEAN_LIMIT ? text.length : 0;
  if (http.reason === statusReason(status)) flags |= OWN_REASON;
  const lines = Math.min(http.count, LINES_UNKNOWN);
  const facts = lean + flags + lines * LINES_AT + Math.min(status >= 0 ? status : STATUS_UNKNOWN, STATUS_UNKNOWN) * STATUS_AT;
  return { block: Buffer.from(text + tail, 'latin1'), facts };
}

/** The reason of a block's status line, as decoding gives it, reading only that line. */
export function reasonOf(block: Uint8Array): string {
  const buf = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  const eol = buf.indexOf(CRLF);
  return statusLine(buf.toString('latin1', 0, eol < 0 ? buf.length : eol)).reason;
}

const CRLF = Buffer.from('\r\n');

/** A status line's parts (`text` holds it, then possibly more after CRLF); `eol` is where it ends. */
function statusLine(text: string): { proto: string; status: number; reason: string; eol: number } {
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  const sp1 = text.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : text.indexOf(' ', sp1 + 1);
  const proto = sp1 < 0 || sp1 > eol ? text.slice(0, eol) : text.slice(0, sp1);
  const status = sp1 < 0 || sp1 > eol ? 0 : Number(text.slice(sp1 + 1, sp2 < 0 || sp2 > eol ? eol : sp2));
  const reason = sp2 < 0 || sp2 > eol ? '' : text.slice(sp2 + 1, eol);
  return { proto, status: Number.isFinite(status) ? status : 0, reason, eol };
}

/**
 * The VclHttp a block holds. Values were checked when they were set (no CR or LF), names are
 * tokens (no colon), so a line splits at its first ": ". A proto with a space in it (VCL may set
 * one) reads back cut at the space: nothing else is lost.
 */
export function decodeHeaderBlock(block: Uint8Array): VclHttp {
  const text = Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('latin1');
  const { proto, status, reason, eol } = statusLine(text);
  const http = VclHttp.response(status, reason, proto);
  for (let at = eol + 2; at < text.length; ) {
    let end = text.indexOf('\r\n', at);
    if (end < 0) end = text.length;
    const colon = text.indexOf(': ', at);
    if (colon > at && colon < end) {
      const name = text.slice(at, colon);
      http.appendTrusted(name, name.toLowerCase(), text.slice(colon + 2, end));
    }
    at = end + 2;
  }
  return http;
}

/** What a ring slot points back to: an object that keeps its decoded head until told to drop it. */
export interface DecodedHolder {
  dropDecoded(): void;
}

/** No slot: an object that is not in the ring. */
export const NO_SLOT = -1;

/**
 * The objects whose decoded head is kept, oldest first out: taking a slot tells the object that
 * held it to let go. A fixed array: remembering one costs no allocation.
 */
export class DecodedHeads {
  readonly #slots: (DecodedHolder | null)[];
  #next = 0;

  constructor(size: number) {
    this.#slots = new Array<DecodedHolder | null>(size).fill(null);
  }

  /** Keeps `holder` decoded until its slot is wanted again; returns the slot. */
  remember(holder: DecodedHolder): number {
    const slots = this.#slots;
    const slot = this.#next;
    const old = slots[slot];
    if (old !== null && old !== holder) old.dropDecoded();
    slots[slot] = holder;
    this.#next = (slot + 1) % slots.length;
    return slot;
  }

  /** An object leaving the cache lets go of its slot at once (the ring keeps no dead object). */
  forget(holder: DecodedHolder, slot: number): void {
    if (slot !== NO_SLOT && this.#slots[slot] === holder) this.#slots[slot] = null;
  }
}

/** The heads of the 1024 objects most recently decoded or stored stay decoded (1-2 MB). */
export const decodedHeads = new DecodedHeads(1024);
