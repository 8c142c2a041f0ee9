// The header VMOD (see vmod.vcc): per-line work on repeated headers. VclHttp keeps headers as
// ordered lines; removing some lines or rewriting them keeps the order of all the others,
// which is why remove and regsub rebuild the list rather than unset and append.

import { type HeaderRef, type HttpWhere, regsub as vclRegsub, type VclHttp, type VclRegex, type VmodContext } from '../../src/vmod/api.ts';
import * as self from './index.ts';
import type { VmodHeader } from './interface.ts';

/** The HTTP objects a HEADER or HTTP argument can name, for finding which one dyn() was given. */
const WHERES: readonly HttpWhere[] = ['req', 'bereq', 'beresp', 'resp', 'obj'];

function httpOf(ctx: VmodContext, ref: HeaderRef): VclHttp | null {
  return ctx.http(ref.where);
}

/** Whether line i is the header `name` with a non-empty value that `re` matches (as upstream). */
function lineMatches(http: VclHttp, i: number, key: string, re: VclRegex | null): boolean {
  if (http.nameAt(i).toLowerCase() !== key) return false;
  if (re === null) return true;
  const value = http.valueAt(i);
  return value !== '' && re.test(value);
}

/** Replaces every header line by what `edit` makes of it (null drops it), keeping the order. */
function rewrite(http: VclHttp, edit: (name: string, value: string, i: number) => [string, string] | null): void {
  const lines: [string, string][] = [];
  for (let i = 0; i < http.count; i++) {
    const line = edit(http.nameAt(i), http.valueAt(i), i);
    if (line !== null) lines.push(line);
  }
  http.clear();
  for (const [name, value] of lines) http.append(name, value);
}

export function append(ctx: VmodContext, hdr: HeaderRef, value: readonly (string | null)[]): void {
  // Unset pieces read as empty, so an unset value still adds an empty line, as upstream does.
  httpOf(ctx, hdr)?.append(hdr.name, value.join(''));
}

export function copy(ctx: VmodContext, src: HeaderRef, dst: HeaderRef): void {
  const from = httpOf(ctx, src);
  const to = httpOf(ctx, dst);
  if (from === null || to === null) return;
  for (const value of from.getAll(src.name)) to.append(dst.name, value);
}

export function get(ctx: VmodContext, hdr: HeaderRef, regex: VclRegex): string | null {
  const http = httpOf(ctx, hdr);
  if (http === null) return null;
  const key = hdr.name.toLowerCase();
  for (let i = 0; i < http.count; i++) if (lineMatches(http, i, key, regex)) return http.valueAt(i);
  return null;
}

export function remove(ctx: VmodContext, hdr: HeaderRef, regex: VclRegex): void {
  const http = httpOf(ctx, hdr);
  if (http === null) return;
  const key = hdr.name.toLowerCase();
  rewrite(http, (name, value, i) => (lineMatches(http, i, key, regex) ? null : [name, value]));
}

export function regsub(_ctx: VmodContext, http: VclHttp, regex: VclRegex, sub: string | null, all: boolean): void {
  rewrite(http, (name, value) => {
    const line = `${name}: ${value}`;
    if (!regex.test(line)) return [name, value];
    const out = vclRegsub(line, regex, sub ?? '', all);
    const colon = out.indexOf(':');
    // No colon left: the whole line is a name with an empty value, as Varnish would send it.
    return colon < 0 ? [out, ''] : [out.slice(0, colon), out.slice(colon + 1).replace(/^[ \t]+/, '')];
  });
}

export function dyn(ctx: VmodContext, http: VclHttp, name: string | null): HeaderRef {
  const where = WHERES.find((w) => ctx.http(w) === http);
  if (where === undefined) ctx.fail('header.dyn: not an HTTP object of this task');
  return { where, name: name ?? '' };
}

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies VmodHeader;
