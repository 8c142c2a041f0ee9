// The cookie jar: the cookies of one task, in the order they were first set, kept in the
// PRIV_TASK holder so they last for the request (or backend request) and no longer. Parsing and
// printing follow Varnish 7.1's vmod_cookie exactly (varnishtest), quirks included:
// - a cookie name runs from after the leading blanks to the first `=`, spaces included, and
//   its value to the next `;` (blanks kept); parsing stops at a part without `=`, which is how
//   "a=1; b; c=3" yields the cookie "b; c" = "3";
// - cookies with an empty name or value are dropped; a second cookie of a name replaces the
//   value and keeps the first one's place;
// - the jar prints as "a=1; b=2;" (each cookie followed by `;`, separated by a space).

import type { PrivHolder } from '../../src/vmod/api.ts';

export type CookieJar = Map<string, string>;

export function jarOf(priv: PrivHolder<CookieJar>): CookieJar {
  let jar = priv.priv;
  if (jar === undefined) {
    jar = new Map();
    priv.priv = jar;
  }
  return jar;
}

/** C's isspace in the C locale. */
function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

/** Adds the cookies of a Cookie header to the jar. */
export function parseInto(jar: CookieJar, header: string): void {
  let p = 0;
  while (p < header.length) {
    while (isSpace(header.charCodeAt(p))) p++;
    const eq = header.indexOf('=', p);
    if (eq < 0) break;
    const name = header.slice(p, eq);
    let end = header.indexOf(';', eq + 1);
    if (end < 0) end = header.length;
    setCookie(jar, name, header.slice(eq + 1, end));
    if (end >= header.length) break;
    p = end + 1;
  }
}

export function setCookie(jar: CookieJar, name: string | null, value: string | null): void {
  if (name === null || name === '' || value === null || value === '') return;
  jar.set(name, value);
}

export function jarToString(jar: CookieJar): string {
  let out = '';
  for (const [name, value] of jar) out += `${out === '' ? '' : ' '}${name}=${value};`;
  return out;
}

/**
 * The names of a comma-separated list, as keep() and filter() read it: leading blanks are
 * skipped, trailing ones kept, empty entries ignored.
 */
export function parseNameList(list: string | null): Set<string> {
  const names = new Set<string>();
  if (list === null) return names;
  let p = 0;
  while (p < list.length) {
    while (isSpace(list.charCodeAt(p))) p++;
    if (p >= list.length) break;
    let q = list.indexOf(',', p);
    if (q < 0) q = list.length;
    if (q === p) {
      p++;
      continue;
    }
    names.add(list.slice(p, q));
    p = q < list.length ? q + 1 : q;
  }
  return names;
}
