// Variants: a response's Vary header, read against the request that fetched it, becomes a
// VarySpec stored with the object; a later request matches the object when it carries the same
// value (or the same absence) for every name. As in Varnish 7.1 (checked with varnishtest):
// - names are split at blanks and commas; empty names are ignored; names compare in any case;
// - the first request header of a name counts; blanks around its value are ignored; values
//   compare exactly (case matters); an absent header differs from an empty one;
// - a Vary whose names are not comma-separated ("A B") is malformed: Varnish makes the fetch a
//   pass, so buildVary reports it and the caller does the same;
// - a name longer than 127 bytes or a value longer than 65534 bytes is refused likewise.
// The spec is built from the request headers as they were when the fetch started (Varnish's
// bereq0: after vcl_recv, before vcl_backend_fetch), and matched against the request headers at
// lookup (after vcl_hash).
// With http_gzip_support, Accept-Encoding does not vary: the cache always fetches with
// `Accept-Encoding: gzip` and unzips for clients that do not take it (as Varnish 7.1 does).

import type { HeaderReader } from './types.ts';

export interface VarySpec {
  /** Lower-cased header names, in Vary order. */
  readonly names: readonly string[];
  /** The fetching request's value for each name, blanks trimmed; null where it had none. */
  readonly values: readonly (string | null)[];
}

export type VaryResult = { readonly spec: VarySpec | null } | { readonly error: string };

const MAX_NAME = 127;
const MAX_VALUE = 0xffff - 1;
const NO_VARY: VaryResult = { spec: null };

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

/** Trims blanks at both ends without allocating when there are none. */
export function trimBlanks(s: string): string {
  let b = 0;
  let e = s.length;
  while (b < e && isBlank(s.charCodeAt(b))) b++;
  while (e > b && isBlank(s.charCodeAt(e - 1))) e--;
  return b === 0 && e === s.length ? s : s.slice(b, e);
}

/**
 * Reads a Vary header value (several Vary headers joined with ", ") against the request that
 * caused the fetch. `{ spec: null }` means nothing varies.
 */
export function buildVary(vary: string | null, req: HeaderReader, gzipSupport = false): VaryResult {
  if (vary === null) return NO_VARY;
  const names: string[] = [];
  const values: (string | null)[] = [];
  let p = 0;
  const n = vary.length;
  while (p < n) {
    if (isBlank(vary.charCodeAt(p))) {
      p++;
      continue;
    }
    let q = p;
    while (q < n && !isBlank(vary.charCodeAt(q)) && vary[q] !== ',') q++;
    if (q - p > MAX_NAME) return { error: 'Vary header name length exceeded' };
    if (q > p) {
      const name = vary.slice(p, q).toLowerCase();
      if (!gzipSupport || name !== 'accept-encoding') {
        const raw = req.get(name);
        const value = raw === null ? null : trimBlanks(raw);
        if (value !== null && value.length > MAX_VALUE) return { error: 'Vary header maximum length exceeded' };
        names.push(name);
        values.push(value);
      }
    }
    while (q < n && isBlank(vary.charCodeAt(q))) q++;
    if (q >= n) break;
    if (vary[q] !== ',') return { error: 'Malformed Vary header' };
    p = q + 1;
  }
  return names.length === 0 ? NO_VARY : { spec: { names, values } };
}

/** Whether a request is the variant a spec describes. */
export function varyMatches(spec: VarySpec, req: HeaderReader): boolean {
  const { names, values } = spec;
  for (let i = 0; i < names.length; i++) {
    const raw = req.get(names[i]);
    const want = values[i];
    if (raw === null) {
      if (want !== null) return false;
    } else if (want === null || trimBlanks(raw) !== want) {
      return false;
    }
  }
  return true;
}

/**
 * The variant a request will be, predicted from an object it did not match (Varnish's
 * predictive Vary): the same names, this request's values. A fetch started for the request
 * carries it, so requests for other variants need not wait for that fetch.
 */
export function predictVary(seen: VarySpec, req: HeaderReader): VarySpec {
  const values = seen.names.map((name) => {
    const raw = req.get(name);
    return raw === null ? null : trimBlanks(raw);
  });
  return { names: seen.names, values };
}
