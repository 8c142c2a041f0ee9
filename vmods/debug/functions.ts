// The debug VMOD's plain functions: argument forms (ENUMs with defaults, optional and named
// arguments, STRANDS, HEADER, HTTP, REGEX, PROBE), values read from the task (client address,
// a parameter) and forced failures. Outputs match what Varnish 7.1's debug module gives for the
// same calls, so Varnish's test cases can compare them.

import type { HeaderRef, ProbeRef, VclHttp, VclRegex, VmodContext } from '../../src/vmod/api.ts';

const AUTHORS = { phk: 'Poul-Henning', des: 'Dag-Erling', kristian: 'Kristian', mithrandir: 'Tollef' } as const;

export function author(_ctx: VmodContext, person: keyof typeof AUTHORS, _someone: string): string {
  return AUTHORS[person];
}

/** How C's printf prints a string argument that is NULL. */
const C_NULL = '(null)';

export function argtest(
  _ctx: VmodContext,
  one: string | null,
  two: number,
  three: string | null,
  comma: string | null,
  four: number,
  opt: string | null | undefined,
): string {
  const given = opt !== undefined;
  const optText = given ? (opt ?? C_NULL) : '<undef>';
  return [one ?? C_NULL, formatG(two), three ?? C_NULL, comma ?? C_NULL, String(four), given ? '1' : '0', optText].join(' ');
}

/** A number as C's `%g` prints it: 6 significant digits, no trailing zeros, exponent form when far from 1. */
export function formatG(n: number): string {
  if (!Number.isFinite(n)) return Number.isNaN(n) ? 'nan' : n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const exponent = Math.floor(Math.log10(Math.abs(Number(n.toPrecision(6)))));
  if (exponent < -4 || exponent >= 6) {
    const [mantissa, exp] = n.toExponential(5).split('e');
    const e = Number(exp);
    return `${stripZeros(mantissa)}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  return stripZeros(n.toFixed(Math.max(0, 5 - exponent)));
}

function stripZeros(s: string): string {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

export function concatenate(_ctx: VmodContext, strands: readonly (string | null)[]): string {
  return strands.join('');
}

export function collect(ctx: VmodContext, strands: readonly (string | null)[]): string {
  return concatenate(ctx, strands);
}

export function sethdr(ctx: VmodContext, hdr: HeaderRef, strands: readonly (string | null)[]): void {
  ctx.setHeader(hdr, strands.join(''));
}

/** ROT13 twice is no change at all, so only the marker header shows that it ran. */
export function rot52(_ctx: VmodContext, hdr: VclHttp): void {
  hdr.append('Encrypted', 'ROT52');
}

/** `\Q...\E`, with each `\E` inside closed and reopened around its `E` as PCRE needs. */
export function re_quote(_ctx: VmodContext, s: string | null): string | null {
  if (s === null) return null;
  return `\\Q${s.split('\\E').join('\\\\EE\\Q')}\\E`;
}

export function just_return_regex(_ctx: VmodContext, re: VclRegex): VclRegex {
  return re;
}

export function client_ip(ctx: VmodContext): string | null {
  return ctx.clientIp?.text ?? null;
}

export function client_port(ctx: VmodContext): string | null {
  const ip = ctx.clientIp;
  return ip === null ? null : String(ip.port);
}

export function vre_limit(ctx: VmodContext): number {
  const limit = ctx.param('pcre2_match_limit');
  if (typeof limit !== 'number') ctx.fail('debug.vre_limit(): the parameter pcre2_match_limit is not known here');
  return limit;
}

export function fail(ctx: VmodContext): void {
  ctx.fail('Forced failure');
}

export function fail2(ctx: VmodContext): boolean {
  ctx.fail('Forced failure');
}

export function test_probe(ctx: VmodContext, probe: ProbeRef | null, same: ProbeRef | null): void {
  if (probe === null) ctx.fail('debug.test_probe(): no probe given');
  if (same !== null && same !== probe) ctx.fail(`debug.test_probe(): '${same.name}' is not the same probe as '${probe.name}'`);
}
