// The directors VMOD: load balancing over backends, each director a Director itself so that
// directors nest. The manifest is vmod.vcc; interface.ts, generated from it, is the contract.

import type { Director, VmodContext } from '../../src/vmod/api.ts';
import * as self from './index.ts';
import type { VmodDirectors } from './interface.ts';

export { FallbackDirector as fallback } from './fallback.ts';
export { HashDirector as hash } from './hash.ts';
export { RandomDirector as random } from './random.ts';
export { RoundRobinDirector as round_robin } from './round-robin.ts';
export { ShardDirector as shard } from './shard.ts';
export { ShardParamObject as shard_param } from './shard-param.ts';

/** The backend of this VCL with the given name; only while the VCL loads or is discarded. */
export function lookup(ctx: VmodContext, name: string | null): Director | null {
  if (ctx.method !== 'vcl_init' && ctx.method !== 'vcl_fini') {
    ctx.fail('lookup() may only be called from vcl_init / vcl_fini');
  }
  return ctx.backend(name ?? '');
}

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies VmodDirectors;
