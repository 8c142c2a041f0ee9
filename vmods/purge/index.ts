// The purge VMOD: hard and soft purges of the object being looked up and all its variants,
// from vcl_hit or vcl_miss, through the task's cache (ctx.purge). The manifest is vmod.vcc;
// interface.ts, generated from it, is the contract.

import type { PurgeOptions, VmodContext } from '../../src/vmod/api.ts';
import * as self from './index.ts';
import type { VmodPurge } from './interface.ts';

/** Varnish refuses a purge anywhere but where the lookup's objects are at hand. */
function purgeNow(ctx: VmodContext, options: PurgeOptions): number {
  if (ctx.method !== 'vcl_hit' && ctx.method !== 'vcl_miss') {
    ctx.fail('purge can only happen in vcl_hit{} or vcl_miss{}');
  }
  return ctx.purge(options);
}

export function hard(ctx: VmodContext): number {
  return purgeNow(ctx, { soft: false });
}

/**
 * Lowers the objects' ttl to `ttl`, and their grace and keep to `grace` and `keep` where those
 * are zero or more (a negative value leaves that one alone). All three zero is a hard purge.
 */
export function soft(ctx: VmodContext, ttl: number, grace: number, keep: number): number {
  if (ttl === 0 && grace === 0 && keep === 0) return purgeNow(ctx, { soft: false });
  return purgeNow(ctx, {
    soft: true,
    ttl,
    ...(grace >= 0 ? { grace } : {}),
    ...(keep >= 0 ? { keep } : {}),
  });
}

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies VmodPurge;
