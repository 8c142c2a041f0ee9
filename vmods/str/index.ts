// The str VMOD (see vmod.vcc), ported from upstream's semantics: take's anchoring and
// clipping, and split's field walk in either direction.

import type { VmodContext } from '../../src/vmod/api.ts';
import * as self from './index.ts';
import type { VmodStr } from './interface.ts';

export function count(_ctx: VmodContext, s: string | null): number {
  return s === null ? -1 : Buffer.byteLength(s);
}

export function startswith(_ctx: VmodContext, s1: string | null, s2: string | null): boolean {
  return s1 !== null && s2 !== null && s1.startsWith(s2);
}

export function endswith(_ctx: VmodContext, s1: string | null, s2: string | null): boolean {
  return s1 !== null && s2 !== null && s1.endsWith(s2);
}

export function contains(_ctx: VmodContext, s1: string | null, s2: string | null): boolean {
  return s1 !== null && s2 !== null && s1.includes(s2);
}

export function take(_ctx: VmodContext, s: string | null, n: number, offset: number): string | null {
  if (s === null) return null;
  const l = s.length;
  let o = offset;
  // A negative offset, or a negative n from offset 0, anchors at the right end.
  if (o < 0 || (o === 0 && n < 0)) o += l;
  if (n < 0) {
    n = -n;
    o -= n;
  }
  if (o + n < 0 || o > l || n === 0) return '';
  if (o < 0) {
    n += o;
    o = 0;
  }
  return s.slice(o, Math.min(o + n, l));
}

export function reverse(_ctx: VmodContext, s: string | null): string | null {
  return s === null ? null : [...s].reverse().join('');
}

export function split(_ctx: VmodContext, s: string | null, n: number, sep: string | null): string | null {
  if (!s || n === 0 || !sep) return null;
  const fields = s.split(new RegExp(`[${sep.replace(/[\\\]^-]/g, '\\$&')}]+`)).filter((f) => f !== '');
  const i = n > 0 ? n - 1 : fields.length + n;
  return fields[i] ?? null;
}

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies VmodStr;
