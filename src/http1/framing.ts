// What a parsed head means for the connection, decided as Varnish 7.1 does before any VCL runs
// (HTTP1_DissectRequest, http1_body_status, cnt_transport, http_DoConnection):
// - the body: Transfer-Encoding must be exactly `chunked` (any case) and comes without
//   Content-Length; Content-Length is digits only and said once; an HTTP/1.1 request with
//   neither has no body, and so has an HTTP/1.0 one with `Connection: keep-alive`; any other
//   HTTP/1.0 request would run to the end of the connection, which Varnish refuses for POST and
//   PUT and reads as no body otherwise (the connection closes after it in any case);
// - one Host header at most;
// - Expect: only `100-continue`, else 417;
// - Connection: `close` (or HTTP/1.0 without `keep-alive`) ends the connection after the
//   response; naming a well-known header there that a pass keeps is refused (400).
// An absolute-form URL (http://, or https:// with feature https_scheme) has its authority moved
// into Host, the path kept as the URL.

import type { ParsedHead } from './head.ts';
import { NOT_DROPPABLE } from '../common/http-headers.ts';

export type BodyFraming = { readonly kind: 'none' } | { readonly kind: 'length'; readonly length: number } | { readonly kind: 'chunked' };

export interface RequestHead extends ParsedHead {
  /** Tells a framed head from a Refusal (one object per request, no wrapper). */
  readonly ok: true;
  readonly body: BodyFraming;
  /** The connection closes after this request's response. */
  readonly close: boolean;
  /** An `Expect: 100-continue` came (and was taken off the headers). */
  readonly expect100: boolean;
}

/**
 * A refusal says what to answer and how varnishd counts the close: `rx_junk` for what its
 * HTTP/1 parser refuses, `rx_bad` for the checks made after it (duplicates, Connection).
 */
export type Refusal = { readonly ok: false; readonly status: 400 | 417; readonly reason: string; readonly close: 'rx_junk' | 'rx_bad' };
export type Framed = RequestHead | Refusal;

const NONE: BodyFraming = { kind: 'none' };

export function frameRequest(head: ParsedHead, httpsScheme: () => boolean): Framed {
  const { names, lower, values } = head;
  let host = -1;
  let length = -1;
  let te = -1;
  let expect = -1;
  let connection: string | null = null;
  for (let i = 0; i < names.length; i++) {
    const n = lower[i];
    // Only the names of these lengths are worth comparing.
    switch (n.length) {
      case 4:
        if (n !== 'host') break;
        if (host >= 0) return refuse(400, 'duplicate Host header', 'rx_bad');
        host = i;
        break;
      case 6:
        if (expect < 0 && n === 'expect') expect = i;
        break;
      case 10:
        if (n === 'connection') connection = connection === null ? values[i] : `${connection},${values[i]}`;
        break;
      case 14:
        if (n !== 'content-length') break;
        if (length >= 0) return refuse(400, 'duplicate Content-Length header', 'rx_bad');
        length = i;
        break;
      case 17:
        if (te < 0 && n === 'transfer-encoding') te = i;
        break;
    }
  }
  let body: BodyFraming = NONE;
  let cl = -1;
  if (length >= 0) {
    cl = contentLength(values[length]);
    if (cl < 0) return refuse(400, 'bad Content-Length');
  }
  if (te >= 0) {
    if (values[te].toLowerCase() !== 'chunked') return refuse(400, 'Transfer-Encoding other than chunked');
    if (length >= 0) return refuse(400, 'both Content-Length and Transfer-Encoding');
    body = { kind: 'chunked' };
  } else if (cl > 0) body = { kind: 'length', length: cl };
  else if (cl < 0 && head.protover < 11 && !isKeepAlive(connection)) {
    // Read to the end of the connection: Varnish refuses it where a body is expected.
    const m = head.method;
    if (m === 'POST' || m === 'PUT' || m.toLowerCase() === 'post' || m.toLowerCase() === 'put') return refuse(400, 'HTTP/1.0 POST or PUT without a length');
  }
  let expect100 = false;
  if (expect >= 0) {
    if (values[expect].toLowerCase() !== '100-continue') return refuse(417, 'Expect other than 100-continue');
    expect100 = true;
  }
  let close = head.protover < 11;
  if (connection !== null) {
    for (const raw of connection.split(',')) {
      const token = raw.trim().toLowerCase();
      if (token === 'close') close = true;
      else if (token === 'keep-alive') close = false;
      else if (NOT_DROPPABLE.has(token)) return refuse(400, `Connection names ${token}`, 'rx_bad');
    }
  }
  let { url } = head;
  let names2 = names;
  let lower2 = lower;
  let values2 = values;
  const authority = absoluteAuthority(url, httpsScheme);
  if (authority !== null) {
    names2 = [];
    lower2 = [];
    values2 = [];
    for (let i = 0; i < names.length; i++) {
      if (i === host) continue;
      names2.push(names[i]);
      lower2.push(lower[i]);
      values2.push(values[i]);
    }
    names2.push('Host');
    lower2.push('host');
    values2.push(url.slice(authority.start, authority.end));
    url = url.slice(authority.end);
  }
  if (expect100) {
    // Varnish takes Expect off before VCL sees the request.
    const keepN: string[] = [];
    const keepL: string[] = [];
    const keepV: string[] = [];
    for (let i = 0; i < names2.length; i++) {
      if (lower2[i] === 'expect') continue;
      keepN.push(names2[i]);
      keepL.push(lower2[i]);
      keepV.push(values2[i]);
    }
    names2 = keepN;
    lower2 = keepL;
    values2 = keepV;
  }
  return { ok: true, method: head.method, url, proto: head.proto, protover: head.protover, names: names2, lower: lower2, values: values2, body, close, expect100 };
}

const refuse = (status: 400 | 417, reason: string, close: 'rx_junk' | 'rx_bad' = 'rx_junk'): Refusal => ({ ok: false, status, reason, close });

/** Content-Length as Varnish reads it: digits only (leading zeros allowed), below 2^53; -1 when bad. */
function contentLength(v: string): number {
  if (v.length === 0) return -1;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
  }
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : -1;
}

function isKeepAlive(connection: string | null): boolean {
  return connection !== null && connection.trim().toLowerCase() === 'keep-alive';
}

/** Where the authority of an absolute-form URL is, when it has a path after it. */
function absoluteAuthority(url: string, httpsScheme: () => boolean): { start: number; end: number } | null {
  if (url.charCodeAt(0) === 0x2f) return null;
  const lower = url.slice(0, 8).toLowerCase();
  const start = lower.startsWith('http://') ? 7 : lower.startsWith('https://') && httpsScheme() ? 8 : 0;
  if (start === 0) return null;
  const end = url.indexOf('/', start);
  return end < 0 ? null : { start, end };
}
