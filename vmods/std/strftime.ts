// C's strftime(3) on a UTC time, as glibc does it in the C locale: what std.strftime answers in
// Varnish (it calls gmtime_r, then strftime). Besides the POSIX conversions this keeps glibc's
// extensions and quirks, checked against glibc 2.36 output:
// - flags `_` (pad with spaces), `-` (no padding), `0` (zeros), `^` (upper case), `#` (swap
//   case of names), then an optional width, then an optional E or O modifier;
// - the width also pads text, `%-10Y` still pads to 10 with spaces, and `%10z` pads the sign
//   and the number separately (so it is 20 characters wide);
// - an unknown conversion, or one with a modifier it refuses (`%Ed`, `%OY`), is copied as written;
// - %Z is "GMT", %z "+0000", %s the seconds since the epoch; %c %x %X %r use the C locale's forms.

import { civilFromDays, daysFromCivil, isLeapYear, weekdayOfDays } from '../../src/runtime/civil-date.ts';

const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const INT_MAX = 2147483647;
const INT_MIN = -2147483648;

/** struct tm, as gmtime fills it (year in full, not minus 1900). */
interface BrokenTime {
  readonly t: number;
  readonly year: number;
  readonly mon: number;
  readonly mday: number;
  readonly hour: number;
  readonly min: number;
  readonly sec: number;
  readonly wday: number;
  readonly yday: number;
}

/**
 * Formats `t` (seconds since the epoch, truncated toward zero as a C cast does) in UTC; null
 * when the date cannot be broken down (its year does not fit a C int, as gmtime refuses).
 */
export function strftimeUtc(t: number, format: string): string | null {
  const tm = gmtime(Math.trunc(t));
  return tm === null ? null : formatTm(tm, format);
}

function gmtime(t: number): BrokenTime | null {
  if (!Number.isFinite(t)) return null;
  const days = Math.floor(t / 86400);
  const secOfDay = t - days * 86400;
  const { year, month, day } = civilFromDays(days);
  if (year - 1900 > INT_MAX || year - 1900 < INT_MIN) return null;
  return {
    t,
    year,
    mon: month - 1,
    mday: day,
    hour: Math.floor(secOfDay / 3600),
    min: Math.floor(secOfDay / 60) % 60,
    sec: secOfDay % 60,
    wday: weekdayOfDays(days),
    yday: days - daysFromCivil(year, 1, 1),
  };
}

/** C's integer division and remainder truncate toward zero. */
function cdiv(a: number, b: number): number {
  return Math.trunc(a / b);
}

function upper(s: string): string {
  return s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

function lower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** The state of one conversion: its flags, width and modifier. */
interface Spec {
  pad: string;
  width: number;
  upcase: boolean;
  lowcase: boolean;
}

/** glibc's add(): `text` right-aligned in the width, padded with zeros only under the 0 flag. */
function add(spec: Spec, text: string): string {
  const delta = spec.width - text.length;
  if (delta <= 0) return text;
  return (spec.pad === '0' ? '0' : ' ').repeat(delta) + text;
}

/** glibc's cpy(): add() after the case change the flags asked for. */
function cpy(spec: Spec, text: string): string {
  return add(spec, spec.lowcase ? lower(text) : spec.upcase ? upper(text) : text);
}

/** A number at least `digits` wide (or the width), padded as the flags say, then add()ed. */
function number(spec: Spec, digits: number, value: number, spacePad = false): string {
  if (spacePad && spec.pad !== '0' && spec.pad !== '-') spec.pad = '_';
  return signed(spec, Math.max(digits, spec.width), value);
}

function signed(spec: Spec, digits: number, value: number): string {
  const negative = value < 0;
  let body = (negative ? '-' : '') + String(Math.abs(value));
  let prefix = '';
  if (spec.pad !== '-') {
    const padding = digits - body.length;
    if (padding > 0) {
      if (spec.pad === '_') {
        prefix = ' '.repeat(padding);
        spec.width = spec.width > padding ? spec.width - padding : 0;
      } else {
        if (negative) {
          prefix = '-';
          body = body.slice(1);
        }
        prefix += '0'.repeat(padding);
        spec.width = 0;
      }
    }
  }
  return prefix + cpy(spec, body);
}

/** ISO 8601 week-based year and week number, as glibc computes them. */
function isoWeek(tm: BrokenTime): { year: number; week: number } {
  let year = tm.year;
  let days = isoWeekDays(tm.yday, tm.wday);
  if (days < 0) {
    year--;
    days = isoWeekDays(tm.yday + (365 + (isLeapYear(year) ? 1 : 0)), tm.wday);
  } else {
    const d = isoWeekDays(tm.yday - (365 + (isLeapYear(year) ? 1 : 0)), tm.wday);
    if (d >= 0) {
      year++;
      days = d;
    }
  }
  return { year, week: cdiv(days, 7) + 1 };
}

/** Days from the first day of the first ISO week of the year to day `yday` (weekday `wday`). */
function isoWeekDays(yday: number, wday: number): number {
  const bigEnoughMultipleOf7 = (Math.floor(366 / 7) + 2) * 7;
  return yday - ((yday - wday + 4 + bigEnoughMultipleOf7) % 7) + 4 - 1;
}

const SUBFORMATS: Readonly<Record<string, string>> = {
  c: '%a %b %e %H:%M:%S %Y',
  D: '%m/%d/%y',
  x: '%m/%d/%y',
  F: '%Y-%m-%d',
  R: '%H:%M',
  r: '%I:%M:%S %p',
  T: '%H:%M:%S',
  X: '%H:%M:%S',
};

/** Which modifiers make a conversion "bad" (copied as written). */
const REFUSES: Readonly<Record<string, string>> = {
  a: 'EO',
  A: 'EO',
  b: 'E',
  h: 'E',
  B: 'E',
  c: 'O',
  x: 'O',
  X: 'O',
  D: 'EO',
  F: 'EO',
  d: 'E',
  e: 'E',
  H: 'E',
  I: 'E',
  k: 'E',
  l: 'E',
  j: 'E',
  M: 'E',
  m: 'E',
  S: 'E',
  U: 'E',
  V: 'E',
  g: 'E',
  G: 'E',
  W: 'E',
  w: 'E',
  Y: 'O',
};

function formatTm(tm: BrokenTime, format: string): string {
  let out = '';
  let i = 0;
  while (i < format.length) {
    const c = format[i];
    if (c !== '%') {
      out += c;
      i++;
      continue;
    }
    const start = i;
    const spec: Spec = { pad: '', width: -1, upcase: false, lowcase: false };
    let changeCase = false;
    for (;;) {
      const f = format[++i];
      if (f === '_' || f === '-' || f === '0') spec.pad = f;
      else if (f === '^') spec.upcase = true;
      else if (f === '#') changeCase = true;
      else break;
    }
    if (isDigit(format, i)) {
      spec.width = 0;
      while (isDigit(format, i)) spec.width = Math.min(spec.width * 10 + (format.charCodeAt(i++) - 48), INT_MAX);
    }
    let modifier = '';
    if (format[i] === 'E' || format[i] === 'O') modifier = format[i++];
    const conv = format[i];
    if (conv === undefined) {
      // The format ends inside a conversion: copy what there is.
      out += cpy(spec, format.slice(start));
      break;
    }
    i++;
    const refused = modifier !== '' && (REFUSES[conv] ?? '').includes(modifier);
    // glibc applies `#` to %b and %h before it looks at the modifier, so even their copy changes.
    if (refused && changeCase && (conv === 'b' || conv === 'h')) spec.upcase = true;
    const text = refused ? null : convert(tm, conv, spec, changeCase);
    out += text ?? cpy(spec, format.slice(start, i));
  }
  return out;
}

function isDigit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  return c >= 48 && c <= 57;
}

/** One conversion; null when the character names none (the caller copies it as written). */
function convert(tm: BrokenTime, conv: string, spec: Spec, changeCase: boolean): string | null {
  const hour12 = tm.hour > 12 ? tm.hour - 12 : tm.hour === 0 ? 12 : tm.hour;
  switch (conv) {
    case '%':
      return add(spec, '%');
    case 'n':
      return add(spec, '\n');
    case 't':
      return add(spec, '\t');
    case 'a':
    case 'A':
    case 'b':
    case 'h':
    case 'B': {
      if (changeCase) spec.upcase = true;
      const names = conv === 'a' || conv === 'A' ? WEEKDAYS : MONTHS;
      const name = names[conv === 'a' || conv === 'A' ? tm.wday : tm.mon];
      return cpy(spec, conv === 'A' || conv === 'B' ? name : name.slice(0, 3));
    }
    case 'P':
    case 'p':
      if (conv === 'P' || changeCase) {
        spec.lowcase = true;
        if (changeCase) spec.upcase = false;
      }
      return cpy(spec, tm.hour > 11 ? 'PM' : 'AM');
    case 'Z':
      if (changeCase) spec.lowcase = true;
      return cpy(spec, 'GMT');
    case 'z': {
      const sign = add(spec, '+');
      return sign + number(spec, 4, 0);
    }
    case 'C':
      return number(spec, 1, cdiv(tm.year, 100) - (tm.year % 100 < 0 ? 1 : 0));
    case 'd':
      return number(spec, 2, tm.mday);
    case 'e':
      return number(spec, 2, tm.mday, true);
    case 'H':
      return number(spec, 2, tm.hour);
    case 'I':
      return number(spec, 2, hour12);
    case 'k':
      return number(spec, 2, tm.hour, true);
    case 'l':
      return number(spec, 2, hour12, true);
    case 'j':
      return number(spec, 3, tm.yday + 1);
    case 'M':
      return number(spec, 2, tm.min);
    case 'm':
      return number(spec, 2, tm.mon + 1);
    case 'S':
      return number(spec, 2, tm.sec);
    case 's':
      return signed(spec, 1, tm.t);
    case 'u':
      return number(spec, 1, ((tm.wday - 1 + 7) % 7) + 1);
    case 'U':
      return number(spec, 2, cdiv(tm.yday - tm.wday + 7, 7));
    case 'W':
      return number(spec, 2, cdiv(tm.yday - ((tm.wday - 1 + 7) % 7) + 7, 7));
    case 'w':
      return number(spec, 1, tm.wday);
    case 'V':
      return number(spec, 2, isoWeek(tm).week);
    case 'G':
      return number(spec, 1, isoWeek(tm).year);
    case 'g':
      return number(spec, 2, ((isoWeek(tm).year % 100) + 100) % 100);
    case 'Y':
      return number(spec, 1, tm.year);
    case 'y':
      return number(spec, 2, ((tm.year % 100) + 100) % 100);
    default: {
      const sub = SUBFORMATS[conv];
      if (sub === undefined) return null;
      const text = add(spec, formatTm(tm, sub));
      return spec.upcase ? upper(text) : text;
    }
  }
}
