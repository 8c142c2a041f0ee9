// VCL value <-> STRING conversions, as Varnish 7.1 does them (every rule below was checked with
// varnishtest; see test/runtime/convert.test.ts for the cases):
// - INT and BYTES print as plain integers and fail the task beyond ±999999999999999;
// - REAL and DURATION print with 3 decimals, C's rounding (ties to even: 1/16 is "0.062"),
//   negative zero as "-0.000", and fail the task beyond ±999999999999.999;
// - TIME prints as an HTTP date (httpdate.ts), BOOL as true/false, BACKEND as its name;
// - the parsers are what std.integer/real/duration/bytes/time accept from a STRING.

import { BYTE_UNITS, DURATION_UNITS } from '../common/units.ts';
import { VclRuntimeError } from './errors.ts';
import { formatHttpDate, parseHttpDate, trimBlanks } from './httpdate.ts';

export { ipToString } from '../common/ip.ts';
export { formatHttpDate, parseHttpDate } from './httpdate.ts';

/** The largest magnitude an INT (or BYTES) may have to be printed: 15 digits. */
export const VCL_INT_MAX = 999999999999999;
/** The largest magnitude a REAL (or DURATION) may have to be printed. */
export const VCL_REAL_MAX = 999999999999.999;

// ---------------------------------------------------------------------------------------------
// Values to strings

export function intToString(n: number): string {
  if (!(Math.abs(n) <= VCL_INT_MAX)) {
    throw new VclRuntimeError(`INT overflow converting to string (${int64Hex(n)})`);
  }
  return n === 0 ? '0' : String(n);
}

export const bytesToString = intToString;

export function realToString(x: number): string {
  if (!(Math.abs(x) <= VCL_REAL_MAX)) {
    throw new VclRuntimeError(`REAL overflow converting to string (${cExponential(x)})`);
  }
  if (x === 0) return Object.is(x, -0) ? '-0.000' : '0.000';
  const sixteenths = x * 16;
  if (Number.isInteger(sixteenths) && sixteenths % 2 !== 0) return evenTie(x);
  return x.toFixed(3);
}

export const durationToString = realToString;

export function timeToString(t: number): string {
  return formatHttpDate(t);
}

export function boolToString(b: boolean): string {
  return b ? 'true' : 'false';
}

/** A BACKEND prints as its name; no backend is a null STRING. */
export function backendToString(backend: { readonly name: string } | null | undefined): string | null {
  return backend ? backend.name : null;
}

/**
 * x * 1000 lies exactly halfway between two integers only when x is an odd multiple of 1/16;
 * there C rounds to even where toFixed rounds away from zero.
 */
function evenTie(x: number): string {
  const scaled = Math.abs(x) * 1000;
  let n = Math.floor(scaled);
  if (n % 2 !== 0) n += 1;
  const frac = String(n % 1000).padStart(3, '0');
  return `${x < 0 ? '-' : ''}${Math.floor(n / 1000)}.${frac}`;
}

/** C's `%e`: six decimals and an exponent of at least two digits. */
function cExponential(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  const [mantissa, exp] = x.toExponential(6).split('e');
  const sign = exp[0] === '-' ? '-' : '+';
  return `${mantissa}e${sign}${exp.replace(/^[-+]/, '').padStart(2, '0')}`;
}

/** `%jX` of the value as a 64-bit integer, as in Varnish's overflow message. */
function int64Hex(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return BigInt.asUintN(64, BigInt(Math.trunc(n))).toString(16).toUpperCase();
}

// ---------------------------------------------------------------------------------------------
// The number syntax shared by std's parsers (and VCL literals): optional leading blanks, an
// optional '-', up to 15 digits, blanks allowed before an optional '.', then up to 3 decimals
// (further ones are skipped, or refused when strict). A number with a fraction part may have at
// most 12 integer digits' worth of value. No '+', no exponent, no hex.

const MAX_INT_DIGITS = 15;
const MAX_DECIMAL_INT = 999999999999;

/** The last scan's result; reused so that parsing allocates nothing. */
const scan = { value: 0, end: 0, fractional: false };

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9;
}

function skipBlanks(s: string, i: number): number {
  while (i < s.length && isBlank(s.charCodeAt(i))) i++;
  return i;
}

/**
 * Scans a number at the start of `s` into `scan`; false when there is none. Decimals are added
 * to the value one by one with a running scale of 0.1, 0.01, ... as Varnish does, which is not
 * always the nearest double ("0.3" gives 0.30000000000000004): varnishtest confirms that
 * std.real("0.3") == 0.3 is false there, and std.real("2.675") == 2.675 true.
 */
function scanNumber(s: string, strict: boolean): boolean {
  let i = skipBlanks(s, 0);
  const negative = s.charCodeAt(i) === 45;
  if (negative) i++;
  let value = 0;
  let intDigits = 0;
  while (i < s.length && isDigit(s.charCodeAt(i))) {
    if (++intDigits > MAX_INT_DIGITS) return false;
    value = value * 10 + (s.charCodeAt(i) - 48);
    i++;
  }
  if (intDigits > 0) {
    const afterBlanks = skipBlanks(s, i);
    if (s.charCodeAt(afterBlanks) === 46) i = afterBlanks;
  }
  let fractional = false;
  if (s.charCodeAt(i) === 46) {
    if (value > MAX_DECIMAL_INT || (strict && intDigits === 0)) return false;
    i++;
    let scale = 0.1;
    let fracDigits = 0;
    while (i < s.length && isDigit(s.charCodeAt(i))) {
      const digit = s.charCodeAt(i) - 48;
      if (fracDigits < 3) {
        value += scale * digit;
        scale *= 0.1;
        if (digit !== 0) fractional = true;
      } else if (strict) {
        return false;
      }
      fracDigits++;
      i++;
    }
    if (strict && fracDigits === 0) return false;
    if (intDigits === 0 && fracDigits === 0) return false;
  } else if (intDigits === 0) {
    return false;
  }
  scan.value = negative ? -value : value;
  scan.fractional = fractional;
  scan.end = i;
  return true;
}

/** True when only blanks remain of `s` from `i`. */
function atEnd(s: string, i: number): boolean {
  return skipBlanks(s, i) === s.length;
}

/** A number as std.real reads it (no unit, any magnitude up to 15 digits); null when it is not one. */
export function parseVclNumber(s: string): number | null {
  return scanNumber(s, false) && atEnd(s, scan.end) ? scan.value : null;
}

// ---------------------------------------------------------------------------------------------
// std's STRING parsers; each gives null where std would use its fallback

/** std.integer(s): an integer, or a number whose first 3 decimals are zero ("1.0009" is 1). */
export function parseInteger(s: string): number | null {
  if (!scanNumber(s, false) || !atEnd(s, scan.end) || scan.fractional) return null;
  return scan.value + 0;
}

/** std.real(s): a number whose magnitude fits a REAL (at most 999999999999.999). */
export function parseReal(s: string): number | null {
  const v = parseVclNumber(s);
  return v !== null && Math.abs(v) <= VCL_REAL_MAX ? v : null;
}

/** std.duration(s): a number, blanks allowed, then a unit: ms, s, m, h, d, w or y (lower case). */
export function parseDuration(s: string): number | null {
  if (!scanNumber(s, false)) return null;
  const value = scan.value;
  let i = skipBlanks(s, scan.end);
  const unit = s.startsWith('ms', i) ? 'ms' : s[i];
  if (unit === undefined || !Object.hasOwn(DURATION_UNITS, unit)) return null;
  i += unit.length;
  return atEnd(s, i) ? value * DURATION_UNITS[unit] : null;
}

/** Results from 2^53 on are refused, as Varnish does. */
const MAX_BYTES = 2 ** 53;

/**
 * std.bytes(s): a non-negative number (at most 3 decimals, digits on both sides of a '.'), then
 * optionally b, or k/m/g/t/p with an optional b, any case. Without a multiplier the number must
 * be whole; with one, the result is rounded down.
 */
export function parseBytes(s: string): number | null {
  if (!scanNumber(s, true) || scan.value < 0) return null;
  const { value, fractional } = scan;
  let i = skipBlanks(s, scan.end);
  const c = s[i]?.toLowerCase();
  let multiplier = 1;
  if (c !== undefined && Object.hasOwn(BYTE_UNITS, c)) {
    multiplier = BYTE_UNITS[c];
    i++;
    if (s[i] === 'b' || s[i] === 'B') i++;
  } else if (c === 'b') {
    i++;
  }
  if (!atEnd(s, i)) return null;
  if (multiplier === 1 && fractional) return null;
  const bytes = Math.floor(value * multiplier);
  return bytes < MAX_BYTES ? bytes + 0 : null;
}

/**
 * std.time(s): an HTTP date (httpdate.ts), or else a positive number of seconds since the epoch.
 * As in Varnish, a date that falls on the epoch itself counts as a failure.
 */
export function parseTime(s: string): number | null {
  const date = parseHttpDate(trimBlanks(s));
  if (date !== null && date !== 0) return date;
  const n = parseVclNumber(s);
  return n !== null && n > 0 ? n : null;
}
