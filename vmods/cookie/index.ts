// The cookie VMOD (vmods/cookie/vmod.vcc): parse a Cookie header into a jar kept for the task
// (PRIV_TASK), read and change single cookies, filter them by name or regex, and write the jar
// back as a header. The jar's rules are in jar.ts.

import { formatHttpDate } from '../../src/runtime/convert.ts';
import type { PrivHolder, VclRegex, VmodContext } from '../../src/vmod/api.ts';
import * as self from './index.ts';
import type { VmodCookie } from './interface.ts';
import { type CookieJar, jarOf, jarToString, parseInto, parseNameList, setCookie } from './jar.ts';

type Jar = PrivHolder<CookieJar>;

/** Reads a Cookie header into the jar, replacing what it held; an empty header changes nothing. */
export function parse(_ctx: VmodContext, priv: Jar, cookieheader: string | null): void {
  if (cookieheader === null || cookieheader === '') return;
  const jar = jarOf(priv);
  jar.clear();
  parseInto(jar, cookieheader);
}

export function clean(_ctx: VmodContext, priv: Jar): void {
  jarOf(priv).clear();
}

export function set(_ctx: VmodContext, priv: Jar, cookiename: string | null, value: string | null): void {
  setCookie(jarOf(priv), cookiename, value);
}

export function get(_ctx: VmodContext, priv: Jar, cookiename: string | null): string | null {
  if (cookiename === null || cookiename === '') return null;
  return jarOf(priv).get(cookiename) ?? null;
}

/** The value of the first cookie whose name matches. */
export function get_re(_ctx: VmodContext, priv: Jar, expression: VclRegex): string | null {
  for (const [name, value] of jarOf(priv)) if (expression.test(name)) return value;
  return null;
}

export function isset(_ctx: VmodContext, priv: Jar, cookiename: string | null): boolean {
  if (cookiename === null || cookiename === '') return false;
  return jarOf(priv).has(cookiename);
}

function del(_ctx: VmodContext, priv: Jar, cookiename: string | null): void {
  if (cookiename === null || cookiename === '') return;
  jarOf(priv).delete(cookiename);
}
// `delete` is a reserved word: the function gets its VCL name on the way out.
export { del as delete };

/** Removes the cookies named in the comma-separated list. */
export function filter(_ctx: VmodContext, priv: Jar, filterstring: string | null): void {
  const names = parseNameList(filterstring);
  const jar = jarOf(priv);
  for (const name of jar.keys()) if (names.has(name)) jar.delete(name);
}

/** Removes the cookies not named in the comma-separated list. */
export function keep(_ctx: VmodContext, priv: Jar, filterstring: string | null): void {
  const names = parseNameList(filterstring);
  const jar = jarOf(priv);
  for (const name of jar.keys()) if (!names.has(name)) jar.delete(name);
}

export function filter_re(_ctx: VmodContext, priv: Jar, expression: VclRegex): void {
  const jar = jarOf(priv);
  for (const name of jar.keys()) if (expression.test(name)) jar.delete(name);
}

export function keep_re(_ctx: VmodContext, priv: Jar, expression: VclRegex): void {
  const jar = jarOf(priv);
  for (const name of jar.keys()) if (!expression.test(name)) jar.delete(name);
}

/** The jar as a Cookie header value: "a=1; b=2;", or "" when it is empty. */
export function get_string(_ctx: VmodContext, priv: Jar): string {
  return jarToString(jarOf(priv));
}

/** An HTTP date `timedelta` after `now`, for a Set-Cookie Expires attribute. */
export function format_date(_ctx: VmodContext, now: number, timedelta: number): string {
  return formatHttpDate(now + timedelta);
}

self satisfies VmodCookie<{ task: CookieJar }>;
