// The parameters of a shard lookup (by, key, alt, warmup, rampup, healthy) and where they come
// from. As in Varnish, a set holds only the values it was given and falls back to another set
// for the rest: a `.backend()` call's arguments, then a shard_param object (its values for this
// backend task, then its vcl_init values), then the built-in defaults. Values set on the backend
// side live only as long as that task; this file keeps them per task context.

import type { VmodContext } from '../../src/vmod/api.ts';
import { bigEndianKey, hashStrands32 } from './hash32.ts';
import type { Healthy } from './shard-ring.ts';

export type By = 'HASH' | 'URL' | 'KEY' | 'BLOB';

export interface ParamValues {
  by?: By;
  /** The key of by=KEY or by=BLOB; travels with `by`. */
  key?: number;
  alt?: number;
  warmup?: number;
  rampup?: boolean;
  healthy?: Healthy;
}

export type ResolvedParams = Required<Omit<ParamValues, 'key'>> & { key: number };

export type Scope = 'builtin' | 'vcl' | 'task' | 'call';

export class ParamSet {
  values: ParamValues = {};
  defaults: ParamSet | null;
  readonly scope: Scope;
  /** The VCL name of the owner, for messages. */
  name: string;

  constructor(name: string, scope: Scope, defaults: ParamSet | null) {
    this.name = name;
    this.scope = scope;
    this.defaults = defaults;
  }
}

/** What `.backend()` does with nothing else to go by. */
export const BUILTIN = new ParamSet('builtin defaults', 'builtin', null);
BUILTIN.values = { by: 'HASH', healthy: 'CHOSEN', rampup: true, alt: 0, warmup: -1 };

/** Every value in effect for `p`: its own, then those of its defaults, down the chain. */
export function resolveParams(p: ParamSet): ResolvedParams {
  const out: ParamValues = {};
  for (let q: ParamSet | null = p; q !== null; q = q.defaults) {
    const v = q.values;
    if (out.by === undefined && v.by !== undefined) {
      out.by = v.by;
      out.key = v.key;
    }
    out.alt ??= v.alt;
    out.warmup ??= v.warmup;
    out.rampup ??= v.rampup;
    out.healthy ??= v.healthy;
  }
  return {
    by: out.by ?? 'HASH',
    key: out.key ?? 0,
    alt: out.alt ?? 0,
    warmup: out.warmup ?? -1,
    rampup: out.rampup ?? true,
    healthy: out.healthy ?? 'CHOSEN',
  };
}

// ---------------------------------------------------------------------------------------------
// Where a call runs. Varnish treats vcl_pipe like the backend side here, since a pipe has a
// backend request of its own.

const BACKEND_SIDE = new Set(['vcl_backend_fetch', 'vcl_backend_response', 'vcl_backend_error', 'vcl_pipe']);

export function inHousekeeping(ctx: VmodContext): boolean {
  return ctx.method === 'vcl_init' || ctx.method === 'vcl_fini';
}

/** On the backend side (or in vcl_pipe, or resolving for a fetch outside any sub). */
export function onBackendSide(ctx: VmodContext): boolean {
  return ctx.method === null ? ctx.http('bereq') !== null : BACKEND_SIDE.has(ctx.method);
}

/** On the client side, vcl_pipe excepted. */
export function onClientSide(ctx: VmodContext): boolean {
  return ctx.method !== null && !inHousekeeping(ctx) && !BACKEND_SIDE.has(ctx.method);
}

// ---------------------------------------------------------------------------------------------
// Task-scoped sets: one per (task, owner), where the owner is a shard director or a
// shard_param object.

const taskSets = new WeakMap<VmodContext, Map<object, ParamSet>>();

/**
 * The set `owner` writes to in this task, made on first use. It falls back to `base`, through
 * base's own task set when base is a shard_param object's vcl_init set.
 */
export function taskSetForWrite(ctx: VmodContext, owner: object, base: ParamSet): ParamSet {
  let sets = taskSets.get(ctx);
  if (!sets) {
    sets = new Map();
    taskSets.set(ctx, sets);
  }
  const found = sets.get(owner);
  if (found) return found;
  const defaults = owner === base || base.scope !== 'vcl' ? base : taskSetForWrite(ctx, base, base);
  const made = new ParamSet(base.name, 'task', defaults);
  sets.set(owner, made);
  return made;
}

/** The set `owner` reads in this task: its task set when it has one, else base (or base's). */
export function taskSetForRead(ctx: VmodContext, owner: object, base: ParamSet): ParamSet {
  const found = taskSets.get(ctx)?.get(owner);
  if (found) return found;
  if (owner === base || base.scope !== 'vcl') return base;
  return taskSetForRead(ctx, base, base);
}

// ---------------------------------------------------------------------------------------------
// Arguments.

export interface ParamArgs {
  by?: By;
  key?: number;
  key_blob?: Uint8Array | null;
  alt?: number;
  warmup?: number;
  rampup?: boolean;
  healthy?: Healthy;
}

/** `vmod_directors: shard NAME: message`, the prefix every shard message carries. */
export function shardMessage(name: string, message: string): string {
  return `vmod_directors: shard ${name}: ${message}`;
}

/**
 * Checks the arguments of `.backend()` or `shard_param.set()` and makes them the values of `p`
 * (replacing what it held). Fails the task on a contradiction, as Varnish does.
 */
export function applyArgs(ctx: VmodContext, p: ParamSet, func: string, a: ParamArgs): void {
  const fail: (message: string) => never = (message) => ctx.fail(shardMessage(p.name, `${func} ${message}`));
  const by = a.by ?? 'HASH';
  const values: ParamValues = {};
  if (by === 'KEY') {
    if (a.key === undefined) fail(`missing key argument with by=${by}`);
    const key = a.key as number;
    if (key < 0 || key > 0xffffffff) fail(`invalid key argument ${key} with by=${by}`);
    values.key = key;
  } else if (by === 'BLOB') {
    if (a.key_blob === undefined) fail(`missing key_blob argument with by=${by}`);
    if (a.key_blob === null || a.key_blob.length === 0) {
      ctx.log(shardMessage(p.name, `${func} by=BLOB but no or empty key_blob - using key 0`));
      values.key = 0;
    } else {
      values.key = bigEndianKey(a.key_blob);
    }
  } else if (a.key !== undefined || a.key_blob !== undefined) {
    fail(`key and key_blob arguments are invalid with by=${by}`);
  }
  if (a.by !== undefined) values.by = a.by;
  if (a.alt !== undefined) {
    if (a.alt < 0) fail(`invalid alt argument ${a.alt}`);
    values.alt = a.alt;
  }
  if (a.warmup !== undefined) {
    if ((a.warmup < 0 && a.warmup !== -1) || a.warmup > 1) fail(`invalid warmup argument ${a.warmup.toFixed(6)}`);
    values.warmup = a.warmup;
  }
  if (a.rampup !== undefined) values.rampup = a.rampup;
  if (a.healthy !== undefined) values.healthy = a.healthy;
  p.values = values;
}

/** A task context that also offers its request's hash digest (what vcl_hash fed), as VclTask does. */
type DigestContext = VmodContext & { hashDigest?(): Uint8Array };

/**
 * The ring key for resolved parameters. by=HASH uses the request's hash digest on the backend
 * side and in vcl_pipe, and the URL on the client side, as Varnish does.
 */
export function keyFor(ctx: VmodContext, p: ResolvedParams): number {
  if (p.by === 'KEY' || p.by === 'BLOB') return p.key;
  const digest = (ctx as DigestContext).hashDigest;
  if (p.by === 'HASH' && onBackendSide(ctx) && digest) return bigEndianKey(digest.call(ctx));
  const http = ctx.http('req') ?? ctx.http('bereq');
  return hashStrands32([http?.url ?? null]);
}
