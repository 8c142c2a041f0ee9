// The TTL rules: what a backend response says about its own freshness, read as Varnish 7.1
// reads it before vcl_backend_response runs (beresp.ttl, beresp.grace, beresp.keep). Facts,
// checked case by case with varnishtest against 7.1 (test/cache/ttl.test.ts holds the table):
// - Age moves the origin back (t_origin = now - Age); ttl counts from the origin, so with
//   max-age=60 and Age: 10 VCL reads beresp.ttl as 50;
// - only these statuses get a ttl: 200 203 204 300 301 304 404 410 414, plus 302 and 307 when
//   Cache-Control or Expires gives one; any other status gets 0;
// - s-maxage, else max-age, wins over Expires; if s-maxage is present without a value, max-age
//   is not looked at and Expires or the default applies (a Varnish quirk kept on purpose);
// - numbers: leading '+' and blanks accepted, a '-' or garbage reads 0, a fraction is cut,
//   anything above 2^32-1 is 2^32-1; values are stored as 32-bit floats, as Varnish does;
// - Expires before Date: 0. Date within clock_skew of our clock (or absent): Expires - now.
//   Otherwise Expires - Date;
// - stale-while-revalidate sets grace when the ttl came out non-negative (garbage reads 0);
// - no-cache, no-store and private change nothing here: builtin.vcl acts on them;
// - for a pass only the origin is computed: ttl, grace and keep are 0;
// - a negative result is stored as 0.

import { parseHttpDate } from '../runtime/httpdate.ts';
import type { CacheParams } from './params.ts';
import type { ResponseHeaders } from './types.ts';

export interface TtlResult {
  /** t_origin: when the response was generated, seconds since the epoch. */
  origin: number;
  /** Seconds of freshness counted from `origin` (so the object is fresh until origin + ttl). */
  ttl: number;
  grace: number;
  keep: number;
}

type TtlParams = Pick<CacheParams, 'default_ttl' | 'default_grace' | 'default_keep' | 'clock_skew'>;

const UINT_MAX = 4294967295;
/** Statuses that get the default ttl when the headers say nothing. */
const CACHEABLE = new Set([200, 203, 204, 300, 301, 304, 404, 410, 414]);

/**
 * Computes beresp's expiry fields from its status and headers at `now`. `pass` is true for a
 * fetch that will not be cached (bereq.uncacheable).
 */
export function rfcTtl(status: number, headers: ResponseHeaders, now: number, params: TtlParams, pass = false): TtlResult {
  let origin = now;
  let ttl = params.default_ttl;
  let grace = params.default_grace;
  const keep = params.default_keep;

  const age = headers.get('Age');
  if (age !== null) origin -= deltaSeconds(age);
  if (pass) return { origin, ttl: 0, grace: 0, keep: 0 };

  const cacheControl = joined(headers, 'Cache-Control');
  const expiresText = headers.get('Expires');
  const dateText = headers.get('Date');
  const expires = expiresText === null ? 0 : (parseHttpDate(expiresText) ?? 0);
  const date = dateText === null ? 0 : (parseHttpDate(dateText) ?? 0);

  if (CACHEABLE.has(status)) {
    ttl = explicitTtl(cacheControl, expires, date, now, params.clock_skew) ?? ttl;
  } else if (status === 302 || status === 307) {
    // Temporary redirects get no default ttl, only an explicit one.
    ttl = explicitTtl(cacheControl, expires, date, now, params.clock_skew) ?? -1;
  } else {
    ttl = -1;
  }

  if (ttl >= 0) {
    const swr = directive(cacheControl, 'stale-while-revalidate');
    if (swr !== undefined && swr !== null) grace = deltaSeconds(swr);
  }
  return { origin, ttl: Math.fround(Math.max(ttl, 0)), grace: Math.fround(grace), keep: Math.fround(keep) };
}

/** The freshness the headers state, or null when they state none. */
function explicitTtl(cacheControl: string | null, expires: number, date: number, now: number, clockSkew: number): number | null {
  // A present s-maxage hides max-age even when it has no value.
  let maxAge = directive(cacheControl, 's-maxage');
  if (maxAge === undefined) maxAge = directive(cacheControl, 'max-age');
  if (maxAge !== undefined && maxAge !== null) return deltaSeconds(maxAge);
  if (expires === 0) return null;
  if (expires < date) return 0;
  if (date === 0 || Math.abs(date - now) < clockSkew) return expires < now ? 0 : expires - now;
  return Math.trunc(expires - date);
}

function joined(headers: ResponseHeaders, name: string): string | null {
  const all = headers.getAll(name);
  if (all.length === 0) return null;
  return all.length === 1 ? all[0] : all.join(', ');
}

function isBlank(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/**
 * Finds a directive in a comma-separated header: undefined when absent, null when present
 * without a value, else the text after '=' up to the end of the whole header (the number
 * reader stops at the next comma itself).
 */
export function directive(header: string | null, name: string): string | null | undefined {
  if (header === null) return undefined;
  const lower = header.toLowerCase();
  let start = 0;
  while (start <= header.length) {
    let comma = header.indexOf(',', start);
    if (comma < 0) comma = header.length;
    let b = start;
    while (b < comma && isBlank(header[b])) b++;
    if (lower.startsWith(name, b)) {
      let after = b + name.length;
      if (after === comma || isBlank(header[after]) || header[after] === '=') {
        while (after < comma && isBlank(header[after])) after++;
        if (header[after] !== '=') return null;
        after++;
        while (after < header.length && isBlank(header[after])) after++;
        return header.slice(after);
      }
    }
    start = comma + 1;
  }
  return undefined;
}

/** A delta-seconds value as Varnish reads it (see the header of this file). */
export function deltaSeconds(text: string): number {
  let i = 0;
  while (i < text.length && /\s/.test(text[i])) i++;
  if (text[0] === '-') return 0;
  if (text[i] === '+') i++;
  let value = 0;
  while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) {
    value = value * 10 + (text.charCodeAt(i) - 48);
    i++;
  }
  while (isBlank(text[i])) i++;
  if (i < text.length && text[i] !== ',' && text[i] !== '.') return 0;
  return Math.min(value, UINT_MAX);
}
