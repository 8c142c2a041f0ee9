// directors.shard_param(): a named set of shard lookup parameters that shard directors take
// their defaults from. Set in vcl_init, its values hold for the VCL; set on the backend side
// (or in vcl_pipe), for that task only. `.use()` hands it to `shard.associate()` or
// `shard.backend(param=...)` as a BLOB, which this file maps back to the set.

import type { VmodContext } from '../../src/vmod/api.ts';
import type { By } from './shard-params.ts';
import {
  applyArgs,
  BUILTIN,
  inHousekeeping,
  keyFor,
  onBackendSide,
  onClientSide,
  ParamSet,
  resolveParams,
  shardMessage,
  taskSetForRead,
  taskSetForWrite,
} from './shard-params.ts';
import type { Healthy } from './shard-ring.ts';

/** The BLOB each shard_param hands out, mapped back to its set. */
const setsByBlob = new WeakMap<Uint8Array, ParamSet>();

export function paramSetOfBlob(blob: Uint8Array): ParamSet | undefined {
  return setsByBlob.get(blob);
}

export class ShardParamObject {
  private readonly params: ParamSet;
  private readonly token: Uint8Array;

  constructor(_ctx: VmodContext, vclName: string) {
    this.params = new ParamSet(vclName, 'vcl', BUILTIN);
    this.token = new TextEncoder().encode(`shard_param ${vclName}`);
    setsByBlob.set(this.token, this.params);
  }

  /** The set a change goes to: the VCL's in vcl_init, the task's on the backend side. */
  private writable(ctx: VmodContext, who: string): ParamSet {
    if (onClientSide(ctx)) {
      ctx.fail(shardMessage(this.params.name, `${who} may only be used in vcl_init and in backend/pipe context`));
    }
    return inHousekeeping(ctx) ? this.params : taskSetForWrite(ctx, this.params, this.params);
  }

  private readable(ctx: VmodContext) {
    const set = onBackendSide(ctx) || ctx.method === null ? taskSetForRead(ctx, this.params, this.params) : this.params;
    return resolveParams(set);
  }

  clear(ctx: VmodContext): void {
    this.writable(ctx, 'shard_param.clear()').values = {};
  }

  set(
    ctx: VmodContext,
    by: By | undefined,
    key: number | undefined,
    key_blob: Uint8Array | null | undefined,
    alt: number | undefined,
    warmup: number | undefined,
    rampup: boolean | undefined,
    healthy: Healthy | undefined,
  ): void {
    const target = this.writable(ctx, 'shard_param.set()');
    applyArgs(ctx, target, 'shard_param.set()', { by, key, key_blob, alt, warmup, rampup, healthy });
  }

  get_by(ctx: VmodContext): string {
    return this.readable(ctx).by;
  }

  get_key(ctx: VmodContext): number {
    return keyFor(ctx, this.readable(ctx));
  }

  get_alt(ctx: VmodContext): number {
    return this.readable(ctx).alt;
  }

  get_warmup(ctx: VmodContext): number {
    return this.readable(ctx).warmup;
  }

  get_rampup(ctx: VmodContext): boolean {
    return this.readable(ctx).rampup;
  }

  get_healthy(ctx: VmodContext): string {
    return this.readable(ctx).healthy;
  }

  use(_ctx: VmodContext): Uint8Array {
    return this.token;
  }
}
