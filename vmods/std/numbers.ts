// std's numeric helpers: random, round, and the conversions 7.1 still documents though it
// deprecates them (real2integer, real2time, time2integer, time2real). Rounding is C's round():
// halves go away from zero, which Math.round does not do for negative numbers.

import { VCL_INT_MAX, VCL_REAL_MAX } from '../../src/runtime/convert.ts';
import type { VmodContext } from '../../src/vmod/api.ts';

/** Varnish converts TIME to INT through doubles, exact up to here. */
const CONVERSION_MAX = 2 ** 53 - 1;

/** C's round(): the nearest whole number, halves away from zero; -0, NaN and infinities kept. */
export function cRound(x: number): number {
  const t = Math.trunc(x);
  return Math.abs(x - t) >= 0.5 ? t + Math.sign(x) : t;
}

/** A pseudo-random number from lo to hi (not for secrets). */
export function random(_ctx: VmodContext, lo: number, hi: number): number {
  return Math.random() * (hi - lo) + lo;
}

export function round(_ctx: VmodContext, r: number): number {
  return cRound(r);
}

/** r rounded to an INT; the fallback when r or the result is out of VCL's ranges. */
export function real2integer(_ctx: VmodContext, r: number, fallback: number): number {
  if (!(Math.abs(r) <= VCL_REAL_MAX)) return fallback;
  const i = cRound(r);
  return Math.abs(i) <= VCL_INT_MAX ? i + 0 : fallback;
}

export function real2time(_ctx: VmodContext, r: number, fallback: number): number {
  return Number.isFinite(r) ? r : fallback;
}

export function time2integer(_ctx: VmodContext, t: number, fallback: number): number {
  if (!Number.isFinite(t)) return fallback;
  const i = cRound(t);
  return Math.abs(i) <= CONVERSION_MAX ? i + 0 : fallback;
}

export function time2real(_ctx: VmodContext, t: number, fallback: number): number {
  return Number.isFinite(t) ? t : fallback;
}
