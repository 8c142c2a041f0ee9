// std's type conversions: duration, bytes, integer, real, time and ip. Each takes exactly one
// source argument (an optional argument not given arrives as `undefined`; a NULL STRING given
// arrives as null and counts as given) and an optional fallback; a failed conversion returns the
// fallback or fails the task. The STRING parsers are the runtime's (src/runtime/convert.ts),
// matched to Varnish 7.1; the rules here were checked with varnishtest:
// - "std.X: too many arguments" / "not enough arguments" when not exactly one source is given;
// - integer and real say why a string failed when the number is malformed at its start
//   ("Invalid number") or too long ("Too many digits"), and nothing more for trailing garbage;
// - conversions from REAL, DURATION and TIME to INT truncate toward zero and fail beyond 2^53-1;
// - std.time takes negative integer and real arguments as they are.

import { parseBytes, parseDuration, parseInteger, parseReal, parseTime, VCL_INT_MAX } from '../../src/runtime/convert.ts';
import type { VclIp, VmodContext } from '../../src/vmod/api.ts';
import { stringToIp } from './resolve.ts';

/** Varnish converts through doubles, so it stops where they stop being exact. */
const CONVERSION_MAX = 2 ** 53 - 1;

function given(x: unknown): number {
  return x === undefined ? 0 : 1;
}

function oneSource(ctx: VmodContext, name: string, count: number): void {
  if (count !== 1) ctx.fail(`std.${name}: ${count > 1 ? 'too many' : 'not enough'} arguments`);
}

/** The fallback when there is one; otherwise the task fails, saying why when that is known. */
function fallbackOrFail<T>(ctx: VmodContext, name: string, fallback: T | undefined, why: string | null): T {
  if (fallback !== undefined) return fallback;
  return ctx.fail(why === null ? `std.${name}: conversion failed` : `std.${name}: conversion failed: ${why}`);
}

/**
 * std.duration and std.time: a REAL or INT argument taken as it is, or a STRING parsed. Only
 * one of the three can be given (oneSource), so the order they are looked at in does not matter.
 */
function numberOrParsed(
  ctx: VmodContext,
  name: string,
  parse: (s: string) => number | null,
  s: string | null | undefined,
  fallback: number | undefined,
  real: number | undefined,
  integer: number | undefined,
): number {
  oneSource(ctx, name, given(s) + given(real) + given(integer));
  if (real !== undefined) return real;
  if (integer !== undefined) return integer;
  if (s != null) {
    const v = parse(s);
    if (v !== null) return v;
  }
  return fallbackOrFail(ctx, name, fallback, null);
}

export function duration(
  ctx: VmodContext,
  s: string | null | undefined,
  fallback: number | undefined,
  real: number | undefined,
  integer: number | undefined,
): number {
  return numberOrParsed(ctx, 'duration', parseDuration, s, fallback, real, integer);
}

export function bytes(
  ctx: VmodContext,
  s: string | null | undefined,
  fallback: number | undefined,
  real: number | undefined,
  integer: number | undefined,
): number {
  oneSource(ctx, 'bytes', given(s) + given(real) + given(integer));
  if (s != null) {
    const b = parseBytes(s);
    if (b !== null && b <= CONVERSION_MAX) return b;
  }
  if (real !== undefined && real >= 0) {
    const r = Math.trunc(real);
    if (r <= CONVERSION_MAX) return r + 0;
  }
  if (integer !== undefined && integer >= 0) return integer;
  return fallbackOrFail(ctx, 'bytes', fallback, null);
}

export function integer(
  ctx: VmodContext,
  s: string | null | undefined,
  fallback: number | undefined,
  bool: boolean | undefined,
  bytes: number | undefined,
  duration: number | undefined,
  real: number | undefined,
  time: number | undefined,
): number {
  oneSource(ctx, 'integer', given(s) + given(bool) + given(bytes) + given(duration) + given(real) + given(time));
  if (bool !== undefined) return bool ? 1 : 0;
  if (bytes !== undefined) return bytes;
  let why: string | null = null;
  if (s != null) {
    const n = parseInteger(s);
    if (n !== null) return n;
    why = numberError(s, false);
  }
  const r = duration ?? real ?? time;
  if (r !== undefined && !Number.isNaN(r)) {
    const t = Math.trunc(r);
    // A number past an INT's 15 digits takes the fallback (varnishtest: 1.23e15 does, 1.23e14 not).
    if (t >= -VCL_INT_MAX && t <= VCL_INT_MAX) return t + 0;
  }
  return fallbackOrFail(ctx, 'integer', fallback, why);
}

export function real(
  ctx: VmodContext,
  s: string | null | undefined,
  fallback: number | undefined,
  integer: number | undefined,
  bool: boolean | undefined,
  bytes: number | undefined,
  duration: number | undefined,
  time: number | undefined,
): number {
  oneSource(ctx, 'real', given(s) + given(integer) + given(bool) + given(bytes) + given(duration) + given(time));
  if (integer !== undefined) return integer;
  if (bool !== undefined) return bool ? 1 : 0;
  if (bytes !== undefined) return bytes;
  if (duration !== undefined) return duration;
  if (time !== undefined) return time;
  let why: string | null = null;
  if (s != null) {
    const r = parseReal(s);
    if (r !== null) return r;
    why = numberError(s, true);
  }
  return fallbackOrFail(ctx, 'real', fallback, why);
}

export function time(
  ctx: VmodContext,
  s: string | null | undefined,
  fallback: number | undefined,
  real: number | undefined,
  integer: number | undefined,
): number {
  return numberOrParsed(ctx, 'time', parseTime, s, fallback, real, integer);
}

export function ip(
  ctx: VmodContext,
  s: string | null,
  fallback: VclIp | null | undefined,
  resolve: boolean,
  p: string | null | undefined,
): VclIp | null {
  const found = s === null ? null : stringToIp(s, p, resolve);
  if (found !== null) return found;
  return fallbackOrFail(ctx, 'ip', fallback, null);
}

/**
 * Why a number that the parsers refused is malformed, in Varnish's words, or null when it only
 * has something after it (or, for an integer, a fraction). A REAL may have at most 12 digits
 * before its point, any number at most 15.
 */
function numberError(s: string, isReal: boolean): string | null {
  let i = 0;
  while (s[i] === ' ' || s[i] === '\t') i++;
  if (s[i] === '-') i++;
  const start = i;
  while (s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
  const digits = i - start;
  if (digits === 0) {
    const c = s.charCodeAt(i + 1);
    return s[i] === '.' && c >= 48 && c <= 57 ? null : 'Invalid number';
  }
  if (digits > 15 || (isReal && digits > 12)) return 'Too many digits';
  while (s[i] === ' ' || s[i] === '\t') i++;
  if (s[i] === '.' && digits > 12) return 'Too many digits';
  return null;
}
