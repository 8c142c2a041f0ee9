// The xkey VMOD: surrogate keys (see vmod.vcc). One index per cache, shared by every VCL that
// imports xkey: made when the first of them loads (it subscribes to the cache's object
// events), dropped when the last is discarded, as Varnish's xkey registers and unregisters its
// callback. A VCL run without a cache (a test loading VCL alone) has no index: purges find 0.

import type { CacheObjects, PrivHolder, VclEvent, VmodContext, VmodEventContext } from '../../src/vmod/api.ts';
import * as self from './index.ts';
import type { VmodXkey, VmodXkeyCounters, VmodXkeyParams } from './interface.ts';
import { KeyIndex } from './key-index.ts';

interface Shared {
  readonly index: KeyIndex;
  readonly unsubscribe: () => void;
  /** Loaded VCLs that import xkey. */
  users: number;
}

// One index per cache for every copy of this module: a VCL loaded after xkey was rebuilt gets
// a fresh copy of its code (hot reload), and must still find the index the others fill.
const SHARED = Symbol.for('shellac.vmod.xkey.shared');
const holder = globalThis as { [SHARED]?: WeakMap<CacheObjects, Shared> };
holder[SHARED] ??= new WeakMap();
const shared: WeakMap<CacheObjects, Shared> = holder[SHARED];

/** The index kept for this cache, if a VCL importing xkey is loaded (tests and the bench read it). */
export function indexOf(cache: CacheObjects): KeyIndex | undefined {
  return shared.get(cache)?.index;
}

function purgeKeys(ctx: VmodContext, keys: string | null, soft: boolean): number {
  const cache = ctx.objects;
  if (!keys || cache === undefined) return 0;
  return shared.get(cache)?.index.purge(cache, keys, ctx.now, soft) ?? 0;
}

export function purge(ctx: VmodContext, keys: string | null): number {
  return purgeKeys(ctx, keys, false);
}

export function softpurge(ctx: VmodContext, keys: string | null): number {
  return purgeKeys(ctx, keys, true);
}

/** PRIV_VCL holds whether this VCL counted itself as a user, so discard undoes only that. */
export function on_event(ctx: VmodEventContext<VmodXkeyCounters, VmodXkeyParams>, vcl: PrivHolder<CacheObjects>, event: VclEvent): number {
  const cache = ctx.objects;
  if (cache === undefined) return 0;
  if (event === 'load') {
    let s = shared.get(cache);
    if (s === undefined) {
      // The index keeps xkey's gauges (process-wide, as the counters are).
      const index = new KeyIndex(ctx.counters);
      s = { index, unsubscribe: cache.subscribe(index), users: 0 };
      shared.set(cache, s);
    }
    s.users++;
    vcl.priv = cache;
  } else if (event === 'discard' && vcl.priv !== undefined) {
    vcl.priv = undefined;
    const s = shared.get(cache);
    if (s !== undefined && --s.users === 0) {
      s.unsubscribe();
      shared.delete(cache);
    }
  }
  return 0;
}

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies VmodXkey<{ vcl: CacheObjects }>;
