// HTTP dates as Varnish writes and reads them (its VTIM_format and VTIM_parse), the TIME <->
// STRING half of VCL conversions. Facts checked against Varnish 7.1 with varnishtest:
// - formatting truncates toward zero (-0.5 prints as the epoch), pads the year to 4 with
//   spaces ("Mon, 01 Jan    1 …"), and keeps at most 29 characters, so years past 9999 lose
//   the end of "GMT";
// - parsing takes RFC 1123, RFC 850 (two-digit years: below 69 are 20xx) and asctime dates
//   plus ISO "1994-11-06T08:49:37", each with surrounding blanks; names are case-sensitive,
//   the weekday must be right, years before 1899 are refused, second 60 reads as 59.

import { VclRuntimeError } from './errors.ts';

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const LONG_WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const SECONDS_PER_DAY = 86400;
/** Beyond this a JS number can no longer hold the seconds and days exactly. */
const MAX_SECONDS = 8.64e15;
/** Varnish formats into a buffer of 30 bytes, terminator included. */
const MAX_LENGTH = 29;

let cachedSecond = Number.NaN;
let cachedText = '';

/** Formats a TIME (seconds since the epoch) as Varnish prints it: `Sun, 06 Nov 1994 08:49:37 GMT`. */
export function formatHttpDate(t: number): string {
  const s = Math.trunc(t);
  if (s === cachedSecond) return cachedText;
  if (!(Math.abs(s) <= MAX_SECONDS)) throw new VclRuntimeError(`TIME out of range converting to string (${t})`);
  const days = Math.floor(s / SECONDS_PER_DAY);
  const inDay = s - days * SECONDS_PER_DAY;
  const { year, month, day } = civilFromDays(days);
  const weekday = WEEKDAYS[(((days + 4) % 7) + 7) % 7];
  const hms = `${pad2(Math.floor(inDay / 3600))}:${pad2(Math.floor(inDay / 60) % 60)}:${pad2(inDay % 60)}`;
  const text = `${weekday}, ${pad2(day)} ${MONTHS[month - 1]} ${String(year).padStart(4, ' ')} ${hms} GMT`;
  cachedSecond = s;
  cachedText = text.length > MAX_LENGTH ? text.slice(0, MAX_LENGTH) : text;
  return cachedText;
}

/**
 * Reads an HTTP date in one of the four forms above; null when it is none. Varnish's own parser
 * returns 0 for failure, so the epoch itself reads as a failure there (std.time applies that);
 * here the epoch is returned as 0 and only null means failure.
 */
export function parseHttpDate(text: string): number | null {
  const s = trimBlanks(text);
  for (const form of FORMS) {
    const m = form.re.exec(s);
    if (m) return form.read(m);
  }
  return null;
}

interface DateForm {
  readonly re: RegExp;
  readonly read: (m: RegExpExecArray) => number | null;
}

const WD = WEEKDAYS.join('|');
const MON = MONTHS.join('|');

const FORMS: readonly DateForm[] = [
  {
    // RFC 1123: Sun, 06 Nov 1994 08:49:37 GMT
    re: new RegExp(`^(${WD}), (\\d\\d) (${MON}) (\\d{4}) (\\d\\d):(\\d\\d):(\\d\\d) GMT$`),
    read: (m) => toTime(+m[4], m[3], +m[2], +m[5], +m[6], +m[7], WEEKDAYS.indexOf(m[1])),
  },
  {
    // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
    re: new RegExp(`^(${LONG_WEEKDAYS.join('|')}), (\\d\\d)-(${MON})-(\\d\\d) (\\d\\d):(\\d\\d):(\\d\\d) GMT$`),
    read: (m) => {
      const yy = +m[4];
      const year = yy < 69 ? 2000 + yy : 1900 + yy;
      return toTime(year, m[3], +m[2], +m[5], +m[6], +m[7], LONG_WEEKDAYS.indexOf(m[1]));
    },
  },
  {
    // asctime: Sun Nov  6 08:49:37 1994 (the day is two characters: " 6", "06" or "16")
    re: new RegExp(`^(${WD}) (${MON}) ([ \\d]\\d) (\\d\\d):(\\d\\d):(\\d\\d) (\\d{4})$`),
    read: (m) => toTime(+m[7], m[2], +m[3].trim(), +m[4], +m[5], +m[6], WEEKDAYS.indexOf(m[1])),
  },
  {
    // ISO 8601, without zone or fraction: 1994-11-06T08:49:37
    re: /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)$/,
    read: (m) => toTime(+m[1], MONTHS[+m[2] - 1], +m[3], +m[4], +m[5], +m[6], -1),
  },
];

/** Validates the fields and converts them; `weekday` -1 means the form has none to check. */
function toTime(
  year: number,
  monthName: string | undefined,
  day: number,
  hour: number,
  minute: number,
  second: number,
  weekday: number,
): number | null {
  const month = monthName === undefined ? 0 : MONTHS.indexOf(monthName) + 1;
  if (month === 0 || year < 1899) return null;
  if (day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 60) return null;
  const days = daysFromCivil(year, month, day);
  if (weekday >= 0 && (((days + 4) % 7) + 7) % 7 !== weekday) return null;
  return days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + Math.min(second, 59);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Varnish skips blanks (space and tab) around dates and numbers. */
export function trimBlanks(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s[a] === ' ' || s[a] === '\t')) a++;
  while (b > a && (s[b - 1] === ' ' || s[b - 1] === '\t')) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}
