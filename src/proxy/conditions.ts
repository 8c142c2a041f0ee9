// The client's conditions that the deliver step answers from the cache, as Varnish 7.1 does
// (checked with varnishtest, c00025 and c00100):
// - If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2). It compares weakly, except on
//   a request that also asks for a Range, where only an equal strong validator matches (so a
//   weak match serves the range instead of a 304);
// - If-Modified-Since: a Last-Modified at or before it;
// - If-Range: an entity tag must equal the stored ETag, a date the stored Last-Modified;
//   without a stored validator of that kind the range is not served.

import { parseHttpDate } from '../runtime/httpdate.ts';
import type { VclHttp } from '../runtime/http.ts';

/**
 * Whether the response may be answered 304 Not Modified to `req`. `respOf` gives it, asked only
 * for a conditional request (a hit's stored head is then decoded, and only then).
 */
export function notModified(req: VclHttp, respOf: () => VclHttp): boolean {
  const inm = req.getKey('if-none-match');
  const ims = inm === null ? req.getKey('if-modified-since') : null;
  if (inm === null && ims === null) return false;
  const resp = respOf();
  if (inm !== null) {
    const etag = resp.getKey('etag');
    if (etag === null) return false;
    if (inm.trim() === '*') return true;
    const mine = etag.trim();
    if (req.hasKey('range')) return !isWeak(mine) && inm.split(',').some((e) => e.trim() === mine);
    const opaque = stripWeak(mine);
    return inm.split(',').some((e) => stripWeak(e.trim()) === opaque);
  }
  const since = parseHttpDate(ims!);
  const lmText = resp.getKey('last-modified');
  const lm = lmText === null ? null : parseHttpDate(lmText);
  return since !== null && lm !== null && lm <= since;
}

/** Whether a Range may be served under the request's If-Range (true when it has none). */
export function ifRangeAllows(req: VclHttp, resp: VclHttp): boolean {
  const ir = req.getKey('if-range');
  if (ir === null) return true;
  const v = ir.trim();
  if (v.startsWith('"') || v.startsWith('W/')) {
    const etag = resp.getKey('etag');
    return etag !== null && etag.trim() === v;
  }
  const date = parseHttpDate(v);
  const lmText = resp.getKey('last-modified');
  const lm = lmText === null ? null : parseHttpDate(lmText);
  return date !== null && lm !== null && date === lm;
}

function isWeak(etag: string): boolean {
  return etag.startsWith('W/');
}

function stripWeak(etag: string): string {
  return isWeak(etag) ? etag.slice(2) : etag;
}
