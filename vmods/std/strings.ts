// std's string and header functions: toupper, tolower, strstr, querysort, collect, fnmatch and
// strftime. Strings are handled code unit by code unit, as Varnish handles bytes: case changes
// touch ASCII letters only (C's toupper in the C locale), and comparisons are plain.

import type { HeaderRef, VmodContext } from '../../src/vmod/api.ts';
import { globMatch } from './glob.ts';
import { strftimeUtc } from './strftime.ts';

/** `s` in upper case: ASCII letters only, NULL pieces skipped. */
export function toupper(_ctx: VmodContext, s: readonly (string | null)[]): string {
  return s.join('').replace(/[a-z]+/g, (m) => m.toUpperCase());
}

/** `s` in lower case: ASCII letters only, NULL pieces skipped. */
export function tolower(_ctx: VmodContext, s: readonly (string | null)[]): string {
  return s.join('').replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** The tail of s1 from the first s2 in it; NULL when there is none or either is NULL. */
export function strstr(_ctx: VmodContext, s1: string | null, s2: string | null): string | null {
  if (s1 === null || s2 === null) return null;
  const at = s1.indexOf(s2);
  return at < 0 ? null : s1.slice(at);
}

/**
 * The URL with its query parameters sorted. As in Varnish: a URL without `?`, or whose query
 * has no `&`, is returned as it is; empty parameters are dropped; parameters are compared only
 * over their common length (so "a" and "a=1" are equal and keep their order), byte by byte as
 * signed chars, and sorted by glibc's merge sort.
 */
export function querysort(_ctx: VmodContext, url: string | null): string | null {
  if (url === null) return null;
  const q = url.indexOf('?');
  if (q < 0 || url.indexOf('&', q) < 0) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .filter((p) => p !== '');
  return `${url.slice(0, q + 1)}${mergeSort(params, compareParams).join('&')}`;
}

function compareParams(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = signedChar(a.charCodeAt(i)) - signedChar(b.charCodeAt(i));
    if (d !== 0) return d;
  }
  return 0;
}

/** A byte as C's (signed) char sees it. */
function signedChar(c: number): number {
  return c >= 128 && c < 256 ? c - 256 : c;
}

/**
 * glibc's qsort is a top-down merge sort taking from the left run on ties; with a comparison
 * that is not transitive (as above) only the same algorithm gives the same order.
 */
function mergeSort<T>(items: T[], cmp: (a: T, b: T) => number): T[] {
  if (items.length <= 1) return items;
  const half = items.length >> 1;
  const left = mergeSort(items.slice(0, half), cmp);
  const right = mergeSort(items.slice(half), cmp);
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length && j < right.length) out.push(cmp(left[i], right[j]) <= 0 ? left[i++] : right[j++]);
  while (i < left.length) out.push(left[i++]);
  while (j < right.length) out.push(right[j++]);
  return out;
}

/** Joins every copy of a header into the first; obj's headers are read-only, as in Varnish. */
export function collect(ctx: VmodContext, hdr: HeaderRef, sep: string | null): void {
  const http = hdr.where === 'obj' ? null : ctx.http(hdr.where);
  if (http === null) ctx.fail('std.collect(): header argument can not be used here');
  http.collect(hdr.name, sep ?? ', ');
}

/** Shell wildcard matching (fnmatch(3)); a NULL pattern or subject fails the task. */
export function fnmatch(
  ctx: VmodContext,
  pattern: string | null,
  subject: string | null,
  pathname: boolean,
  noescape: boolean,
  period: boolean,
): boolean {
  if (pattern === null) ctx.fail('std.fnmatch(): pattern is NULL');
  if (subject === null) ctx.fail('std.fnmatch(): subject is NULL');
  return globMatch(pattern, subject, { pathname, noescape, period });
}

/** strftime(3) in UTC; "" when formatting gives nothing or the time cannot be broken down. */
export function strftime(_ctx: VmodContext, time: number, format: string | null): string {
  // Varnish crashes on a NULL format; an empty result is the gentler answer.
  if (format === null) return '';
  return strftimeUtc(time, format) ?? '';
}
