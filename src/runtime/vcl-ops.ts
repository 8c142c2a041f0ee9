// The operations generated VCL code calls besides variable accessors: conversions to STRING,
// string comparisons with Varnish's NULL rules, integer division, ACL matching, and the return
// actions. The code generator hoists each into a local of the compiled closure, so a use is one
// direct call. Semantics checked with varnishtest against Varnish 7.1:
// - comparing an unset STRING is as C's strcmp against NULL in VRT_strcmp: `==` false, `!=`
//   true, `<` and `<=` false, `>` and `>=` true, whatever the other side is;
// - a REAL division by zero gives infinity, which fails when converted to a string;
// - INT division truncates toward zero, and `%` keeps the sign of the dividend. Varnish 7.1
//   crashes its worker on an INT division by zero; we fail the task instead;
// - a BLOB converts to STRING as a `:base64:` literal.

import type { AclRef, Director, VmodContext } from '../vmod/api.ts';
import type { CompiledAcl } from '../common/acl.ts';
import { ACTION, errorAction, failAction, passAction, synthAction, type VclAction } from './actions.ts';
import { intToString, realToString, timeToString } from './convert.ts';
import { VclRuntimeError } from './errors.ts';
import { ipEquals, type VclIp } from '../common/ip.ts';
import { regsub } from '../common/regex.ts';

/** `a == b` on strings; a non-null constant on one side needs only `===`. */
export function strEq(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && a === b;
}

export function strLt(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && a < b;
}

export function strLe(a: string | null, b: string | null): boolean {
  return a !== null && b !== null && a <= b;
}

export function strGt(a: string | null, b: string | null): boolean {
  return a === null || b === null || a > b;
}

export function strGe(a: string | null, b: string | null): boolean {
  return a === null || b === null || a >= b;
}

export function ipEq(a: VclIp | null, b: VclIp | null): boolean {
  return a !== null && b !== null && ipEquals(a, b);
}

export function intDiv(a: number, b: number): number {
  if (b === 0) throw new VclRuntimeError('INT division by zero');
  return Math.trunc(a / b);
}

export function intMod(a: number, b: number): number {
  if (b === 0) throw new VclRuntimeError('INT modulo by zero');
  return a % b;
}

export function ipStr(ip: VclIp | null): string | null {
  return ip === null ? null : ip.text;
}

/** BACKEND, ACL, PROBE, STEVEDORE, SUB values print as their name. */
export function nameStr(v: { readonly name: string } | null | undefined): string | null {
  return v ? v.name : null;
}

/** A STEVEDORE prints as VCL names it: `storage.s0` (Varnish's vclname). */
export function stevedoreStr(v: { readonly name: string } | null | undefined): string | null {
  return v ? `storage.${v.name}` : null;
}

export function blobStr(b: Uint8Array | null): string | null {
  return b === null ? null : `:${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')}:`;
}

/** `.upper()` and `.lower()`: ASCII letters only, as C's toupper in Varnish; unset reads as "". */
export function upper(s: string | null): string {
  return s === null ? '' : s.replace(/[a-z]+/g, (m) => m.toUpperCase());
}

export function lower(s: string | null): string {
  return s === null ? '' : s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** `backend.resolve()`: the backend a director would pick now. */
export function resolve(ctx: VmodContext, d: Director | null): Director | null {
  return d === null ? null : d.resolve(ctx);
}

export function aclMatch(acl: CompiledAcl, name: string, ip: VclIp | null): boolean {
  if (ip === null) throw new VclRuntimeError(`ACL ${name}: no IP address to match`);
  return acl.match(ip);
}

/** `ip ~ vmod.acl()`: an ACL a VMOD returned; an unset one fails the task, as in Varnish. */
export function aclRefMatch(acl: AclRef | null | undefined, ip: VclIp | null): boolean {
  if (acl == null) throw new VclRuntimeError('ACL is not set');
  if (ip === null) throw new VclRuntimeError(`ACL ${acl.name}: no IP address to match`);
  return acl.match(ip);
}

/** Sets the position of what is evaluated next after its arguments are: `f(a, at(t, N, b))`. */
export function at<T>(t: { at: number }, position: number, value: T): T {
  t.at = position;
  return value;
}

/** `return (fail("reason"))`. */
export function failWith(message: string | null, where: string): VclAction {
  return failAction(message ?? '', where);
}

/** Everything generated code can hoist from here, by name. */
export const VCL_OPS = {
  ACTION,
  synth: synthAction,
  error: errorAction,
  pass: passAction,
  failWith,
  intStr: intToString,
  realStr: realToString,
  timeStr: timeToString,
  ipStr,
  nameStr,
  stevedoreStr,
  blobStr,
  strEq,
  strLt,
  strLe,
  strGt,
  strGe,
  ipEq,
  intDiv,
  intMod,
  upper,
  lower,
  resolve,
  aclMatch,
  aclRefMatch,
  regsub,
  at,
};

export type VclOps = typeof VCL_OPS;
