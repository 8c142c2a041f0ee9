// HTTP dates as Varnish writes and reads them (its VTIM_format and VTIM_parse), the TIME <->
// STRING half of VCL conversions. Facts checked against Varnish 7.1 with varnishtest:
// - formatting truncates toward zero (-0.5 prints as the epoch), pads the year to 4 with
//   spaces ("Mon, 01 Jan    1 …"), and keeps at most 29 characters, so years past 9999 lose
//   the end of "GMT";
// - parsing takes RFC 1123, RFC 850 (two-digit years: below 69 are 20xx) and asctime dates
//   plus ISO "1994-11-06T08:49:37", each with surrounding blanks; names are case-sensitive,
//   the weekday must be right, years before 1899 are refused, second 60 reads as 59.

import { civilFromDays, daysFromCivil, isLeapYear, weekdayOfDays } from './civil-date.ts';
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
  const weekday = WEEKDAYS[weekdayOfDays(days)];
  const hms = `${pad2(Math.floor(inDay / 3600))}:${pad2(Math.floor(inDay / 60) % 60)}:${pad2(inDay % 60)}`;
  const text = `${weekday}, ${pad2(day)} ${MONTHS[month - 1]} ${String(year).padStart(4, ' ')} ${hms} GMT`;
  cachedSecond = s;
  cachedText = text.length > MAX_LENGTH ? text.slice(0, MAX_LENGTH) : text;
  return cachedText;
}

/**
 * feature http_date_postel: RFC 1123 dates with a one-digit day ("Thu, 4 Jan 2018 …") are
 * read too. One switch for the whole process, as in Varnish (its parameters are the process's).
 */
let postel = false;

export function setHttpDatePostel(on: boolean): void {
  postel = on;
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
  if (postel) {
    const m = POSTEL_RFC1123.exec(s);
    if (m) return FORMS[0].read(m);
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

/** RFC 1123 with a one-digit day, read only under http_date_postel. */
const POSTEL_RFC1123 = new RegExp(`^(${WD}), (\\d) (${MON}) (\\d{4}) (\\d\\d):(\\d\\d):(\\d\\d) GMT$`);

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
  if (weekday >= 0 && weekdayOfDays(days) !== weekday) return null;
  return days * SECONDS_PER_DAY + hour * 3600 + minute * 60 + Math.min(second, 59);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
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
