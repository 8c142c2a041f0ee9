// A backend response head, read as Varnish 7.1 reads one (HTTP1_DissectResponse,
// http1_dissect_hdrs, http_DoConnection, and the body status of V1F_FetchRespHdr):
// - the status line is PROTO SP+ STATUS [SP+ REASON]: the protocol HTTP/1.0 or HTTP/1.1 (any
//   case), the status three digits, the first not 0; the reason runs to the line's end (none:
//   the status's own, `OK` for 200);
// - lines end in CR LF or a bare LF; header lines follow the request side's rules
//   (src/http1/head.ts), obs-fold included: the folded line's breaks read as spaces, and the
//   whole folded line counts against http_resp_hdr_len;
// - the body: none for a HEAD, a 1xx, a 204 or a 304; else Transfer-Encoding must be `chunked`
//   (it wins over Content-Length); else Content-Length, digits only; else it runs to the end
//   of the connection;
// - the connection is not reused after `Connection: close`, after an HTTP/1.0 response without
//   `Connection: keep-alive`, or after a body read to the end of the connection.
// What Varnish refuses here fails the fetch (503 from vcl_backend_error).

import { BYTE_CLASS, CTL, crlfAt, LWS, SP } from '../../http1/bytes.ts';
import { parseHeaderLines, protocolVersion } from '../../http1/head.ts';
import { statusReason } from '../../runtime/status.ts';

export type ResponseFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  /** Read until the backend closes the connection. */
  | { readonly kind: 'eof' };

export interface ResponseHead {
  readonly status: number;
  readonly reason: string;
  /** 10 or 11. */
  readonly protover: number;
  /** Flat name, value, name, value... in arrival order. */
  readonly headers: string[];
  readonly framing: ResponseFraming;
  /** The connection must not carry another request after this response. */
  readonly close: boolean;
}

export type ParsedResponse = { readonly ok: true; readonly head: ResponseHead } | { readonly ok: false; readonly reason: string };

const NONE: ResponseFraming = { kind: 'none' };
const CHUNKED: ResponseFraming = { kind: 'chunked' };
const EOF: ResponseFraming = { kind: 'eof' };
const DIGITS = /^[0-9]+$/;

const bad = (reason: string): ParsedResponse => ({ ok: false, reason });

/**
 * Reads a complete head buf[start, end) (it ends with its blank line). `isHead`: the request
 * was a HEAD, so no body follows whatever the headers say.
 */
export function parseResponseHead(buf: Buffer, start: number, end: number, lineBytes: number, isHead: boolean): ParsedResponse {
  let p = start;
  while ((BYTE_CLASS[buf[p]] & LWS) === 0) {
    if ((BYTE_CLASS[buf[p]] & CTL) !== 0) return bad('control byte in the protocol');
    p++;
  }
  const protover = protocolVersion(buf, start, p);
  if (protover !== 10 && protover !== 11) return bad(`protocol other than HTTP/1.0 or HTTP/1.1: ${buf.toString('latin1', start, p)}`);
  if ((BYTE_CLASS[buf[p]] & SP) === 0) return bad('status line without a status');
  while ((BYTE_CLASS[buf[p]] & SP) !== 0) p++;
  const statusStart = p;
  while ((BYTE_CLASS[buf[p]] & LWS) === 0) p++;
  const status = statusOf(buf, statusStart, p);
  if (status === 0) return bad(`status is not three digits: ${buf.toString('latin1', statusStart, p)}`);
  while ((BYTE_CLASS[buf[p]] & SP) !== 0) p++;
  const reasonStart = p;
  while (p < end && crlfAt(buf, p, end) === 0) {
    if ((BYTE_CLASS[buf[p]] & CTL) !== 0 && buf[p] !== 0x09) return bad('control byte in the reason');
    p++;
  }
  let reasonEnd = p;
  while (reasonEnd > reasonStart && (BYTE_CLASS[buf[reasonEnd - 1]] & SP) !== 0) reasonEnd--;
  // A response without a reason gets the status's own, as varnishd gives it.
  const reason = reasonEnd > reasonStart ? buf.toString('latin1', reasonStart, reasonEnd) : statusReason(status);
  p += crlfAt(buf, p, end);
  const names: string[] = [];
  const lower: string[] = [];
  const values: string[] = [];
  const refused = parseHeaderLines(buf, p, end, lineBytes, Number.POSITIVE_INFINITY, { names, lower, values });
  if (refused !== null) return bad(refused.replace('http_req_hdr_len', `http_resp_hdr_len (${lineBytes})`));
  const headers: string[] = new Array(names.length * 2);
  let connection = '';
  let length: string | null = null;
  let te: string | null = null;
  for (let i = 0; i < names.length; i++) {
    headers[2 * i] = names[i];
    headers[2 * i + 1] = values[i];
    const n = lower[i];
    if (n === 'connection') connection = connection === '' ? values[i] : `${connection},${values[i]}`;
    else if (n === 'content-length') {
      if (length !== null && length !== values[i]) return bad('Content-Length given twice, differently');
      length = values[i];
    } else if (n === 'transfer-encoding') te = te === null ? values[i] : `${te},${values[i]}`;
  }
  const framing = framingOf(status, isHead, te, length);
  if (typeof framing === 'string') return bad(framing);
  const close = framing.kind === 'eof' || (connection === '' ? protover < 11 : connectionCloses(connection, protover));
  return { ok: true, head: { status, reason, protover, headers, framing, close } };
}

/** What a Connection header says for the next request: close, or HTTP/1.0 without keep-alive. */
function connectionCloses(value: string, protover: number): boolean {
  const tokens = value.toLowerCase().split(',').map((t) => t.trim());
  return tokens.includes('close') || (protover < 11 && !tokens.includes('keep-alive'));
}

/** How the body comes, or why it cannot be read. */
function framingOf(status: number, isHead: boolean, te: string | null, length: string | null): ResponseFraming | string {
  if (isHead || status < 200 || status === 304) return NONE;
  if (status === 204) {
    // Varnish refuses a 204 that announces a body; a Content-Length of 0 is let pass.
    if (te !== null || (length !== null && length !== '0')) return '204 response with a body';
    return NONE;
  }
  if (te !== null) return te.trim().toLowerCase() === 'chunked' ? CHUNKED : `Transfer-Encoding other than chunked: ${te}`;
  if (length === null) return EOF;
  if (!DIGITS.test(length)) return `bad Content-Length: ${length}`;
  const n = Number(length);
  if (!Number.isSafeInteger(n)) return `Content-Length too large: ${length}`;
  return n === 0 ? NONE : { kind: 'length', length: n };
}

/** Three digits, the first not 0; 0 for anything else. */
function statusOf(buf: Buffer, from: number, to: number): number {
  if (to - from !== 3) return 0;
  const a = buf[from] - 0x30;
  const b = buf[from + 1] - 0x30;
  const c = buf[from + 2] - 0x30;
  if (a < 1 || a > 9 || b < 0 || b > 9 || c < 0 || c > 9) return 0;
  return 100 * a + 10 * b + c;
}
