// Ban expressions: parsing (with Varnish 7.1's error texts), the canonical form used to spot
// duplicates, the text ban.list shows, and evaluation against an object (and a request).
// Facts checked against 7.1 with varnishtest and its CLI:
// - fields: req.url, req.http.<name>, obj.status, obj.http.<name> (strings) and obj.ttl,
//   obj.age, obj.grace, obj.keep (durations). A field is recognised by prefix, so "req.urlx"
//   reads as req.url and "req.http." names the empty header;
// - string fields take == != ~ !~, duration fields == != > >= < <=; arguments of duration
//   fields need a unit ("10s"); obj.status compares as a string ("200");
// - an absent header is equal to nothing: == and ~ are false, != is true, and (7.1's own
//   behaviour, unlike its manual) !~ is false too;
// - obj.ttl and obj.age are taken at the time of the ban: obj.ttl > 1h bans objects that had
//   more than an hour left when the ban was added;
// - from VCL (ban(), std.ban()) the expression is split at blanks with no quoting at all: a
//   '"' is part of the argument. The CLI tokenizes its own line (quotes and escapes) and hands
//   the words to parseBanArgs, which checks their count first, as the CLI command does;
// - ban.list shows durations in the largest unit that divides them ("7d" as "1w", "90s"),
//   else with milliseconds ("1.500s", "100ms").

import { DURATION_UNITS } from '../common/units.ts';
import { parseDuration } from '../runtime/convert.ts';
import { compileVclRegex, type VclRegex } from '../common/regex.ts';
import type { CacheObject } from './object.ts';
import type { RequestView } from './types.ts';

export type BanField = 'req.url' | 'req.http.' | 'obj.status' | 'obj.http.' | 'obj.ttl' | 'obj.age' | 'obj.grace' | 'obj.keep';
export type BanOp = '==' | '!=' | '~' | '!~' | '>' | '>=' | '<' | '<=';

interface FieldInfo {
  readonly name: BanField;
  readonly req: boolean;
  readonly http: boolean;
  readonly duration: boolean;
}

/** In Varnish's order, which matters for prefix matching. */
const FIELDS: readonly FieldInfo[] = [
  { name: 'req.url', req: true, http: false, duration: false },
  { name: 'req.http.', req: true, http: true, duration: false },
  { name: 'obj.status', req: false, http: false, duration: false },
  { name: 'obj.http.', req: false, http: true, duration: false },
  { name: 'obj.ttl', req: false, http: false, duration: true },
  { name: 'obj.age', req: false, http: false, duration: true },
  { name: 'obj.grace', req: false, http: false, duration: true },
  { name: 'obj.keep', req: false, http: false, duration: true },
];

const STRING_OPS: readonly BanOp[] = ['==', '!=', '~', '!~'];
const DURATION_OPS: readonly BanOp[] = ['==', '!=', '>', '>=', '<', '<='];
const STRING_OPS_HELP = '==, !=, ~ or !~';
const DURATION_OPS_HELP = '==, !=, >, >=, < or <=';

export interface BanTest {
  readonly field: BanField;
  /** For req.http./obj.http.: the header name as written ('' otherwise). */
  readonly header: string;
  readonly op: BanOp;
  /** The argument as written. */
  readonly arg: string;
  /** For ~ and !~. */
  readonly re: VclRegex | null;
  /** For duration fields: the argument in seconds. */
  readonly seconds: number;
}

export interface BanSpec {
  readonly tests: readonly BanTest[];
  /** Uses req.* (only lookups can test it). */
  readonly req: boolean;
  /** Uses obj.*. */
  readonly obj: boolean;
  /** Equal for bans Varnish sees as identical (ban_dups). */
  readonly key: string;
  /** As ban.list shows it. */
  readonly text: string;
}

export type BanParse = { readonly spec: BanSpec } | { readonly error: string };

/** An expression from VCL's ban() / std.ban(); null is what an unset header gives. */
export function parseBanString(expression: string | null): BanParse {
  if (expression === null) return { error: 'Null argument' };
  const av = expression.split(/[ \t\n\v\f\r]+/).filter((w) => w !== '');
  const tests: BanTest[] = [];
  for (let i = 0; ; i += 4) {
    if (i >= av.length) return { error: 'No ban conditions found.' };
    if (i + 1 >= av.length) return { error: 'Expected comparison operator.' };
    if (i + 2 >= av.length) return { error: 'Expected second operand.' };
    const test = parseBanTest(av[i], av[i + 1], av[i + 2]);
    if (typeof test === 'string') return { error: test };
    tests.push(test);
    if (i + 3 >= av.length) return { spec: makeSpec(tests) };
    if (av[i + 3] !== '&&') return { error: `Expected && between conditions, found "${av[i + 3]}"` };
  }
}

/** The words of the CLI's `ban` command, already split and unquoted by the CLI. */
export function parseBanArgs(args: readonly string[]): BanParse {
  if (args.length % 4 !== 3) return { error: 'Wrong number of arguments' };
  for (let i = 3; i < args.length; i += 4) {
    if (args[i] !== '&&') return { error: `Found "${args[i]}" expected &&` };
  }
  const tests: BanTest[] = [];
  for (let i = 0; i < args.length; i += 4) {
    const test = parseBanTest(args[i], args[i + 1], args[i + 2]);
    if (typeof test === 'string') return { error: test };
    tests.push(test);
  }
  return { spec: makeSpec(tests) };
}

/** One condition; a string is the error. */
function parseBanTest(a1: string, a2: string, a3: string): BanTest | string {
  const info = FIELDS.find((f) => a1.startsWith(f.name));
  if (info === undefined) return `Unknown or unsupported field "${a1}"`;
  const header = info.http ? a1.slice(info.name.length) : '';
  const ops = info.duration ? DURATION_OPS : STRING_OPS;
  const op = ops.find((o) => o === a2);
  if (op === undefined) {
    return `expected conditional (${info.duration ? DURATION_OPS_HELP : STRING_OPS_HELP}) got "${a2}"`;
  }
  if (info.duration) {
    const seconds = parseDuration(a3);
    if (seconds === null) return `expected duration <n.nn>[ms|s|m|h|d|w|y] got "${a3}"`;
    return { field: info.name, header, op, arg: a3, re: null, seconds };
  }
  let re: VclRegex | null = null;
  if (op === '~' || op === '!~') {
    const compiled = compileVclRegex(a3);
    if ('error' in compiled) return `Regex compile error: ${compiled.error}`;
    re = compiled.re;
  }
  return { field: info.name, header, op, arg: a3, re, seconds: 0 };
}

function makeSpec(tests: BanTest[]): BanSpec {
  let req = false;
  let obj = false;
  const keys: string[] = [];
  const texts: string[] = [];
  for (const t of tests) {
    const info = FIELDS.find((f) => f.name === t.field)!;
    if (info.req) req = true;
    else obj = true;
    const arg = info.duration ? renderDuration(t.seconds) : t.arg;
    keys.push(`${t.field}\0${t.header}\0${t.op}\0${info.duration ? t.seconds : t.arg}`);
    texts.push(`${t.field}${t.header} ${t.op} ${arg}`);
  }
  return { tests, req, obj, key: keys.join('\0\0'), text: texts.join(' && ') };
}

const TWO_64 = 1n << 64n;
/** The units ban.list prints ages in, largest first (whole seconds). */
const UNITS: readonly [bigint, string][] = (['y', 'w', 'd', 'h', 'm'] as const).map((u) => [BigInt(DURATION_UNITS[u]), u]);

/** Varnish does this arithmetic in unsigned 64 bits, so negative durations wrap as there. */
function unsigned64(x: number): bigint {
  return ((BigInt(x) % TWO_64) + TWO_64) % TWO_64;
}

/** A duration as ban.list prints it. */
export function renderDuration(seconds: number): string {
  const whole = unsigned64(Math.floor(seconds));
  const ms = unsigned64(Math.trunc(seconds * 1000)) % 1000n;
  if (ms !== 0n) return whole === 0n ? `${ms}ms` : `${whole}.${String(ms).padStart(3, '0')}s`;
  if (whole !== 0n) {
    for (const [size, unit] of UNITS) if (whole % size === 0n) return `${whole / size}${unit}`;
  }
  return `${whole}s`;
}

/** Counts what evaluation did, for the bans_*tests_tested counters. */
export interface BanTally {
  tests: number;
}

/**
 * Whether every condition holds for the object (and the request: null for the lurker, which
 * only gets obj-only bans). `banTime` is when the ban was added, for obj.ttl and obj.age.
 */
export function banMatches(spec: BanSpec, banTime: number, obj: CacheObject, req: RequestView | null, tally: BanTally): boolean {
  for (const t of spec.tests) {
    tally.tests++;
    if (!testHolds(t, banTime, obj, req)) return false;
  }
  return true;
}

function testHolds(t: BanTest, banTime: number, obj: CacheObject, req: RequestView | null): boolean {
  let subject: string | null;
  switch (t.field) {
    case 'req.url':
      if (req === null) return false;
      subject = req.url;
      break;
    case 'req.http.':
      if (req === null) return false;
      subject = req.get(t.header);
      break;
    case 'obj.http.':
      subject = obj.http.get(t.header);
      break;
    case 'obj.status':
      subject = String(obj.status);
      break;
    case 'obj.ttl':
      return compare(t.op, obj.origin + obj.ttl, t.seconds + banTime);
    case 'obj.age':
      return compare(t.op, -obj.origin, -(banTime - t.seconds));
    case 'obj.grace':
      return compare(t.op, obj.grace, t.seconds);
    case 'obj.keep':
      return compare(t.op, obj.keep, t.seconds);
  }
  if (subject === null) return t.op === '!=';
  switch (t.op) {
    case '==':
      return subject === t.arg;
    case '!=':
      return subject !== t.arg;
    case '~':
      return t.re!.test(subject);
    case '!~':
      return !t.re!.test(subject);
    default:
      return false;
  }
}

function compare(op: BanOp, a: number, b: number): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    default:
      return false;
  }
}
