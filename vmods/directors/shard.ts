// directors.shard(): consistent hashing over a ring of members (see shard-ring.ts). Changes to
// the members (add_backend, remove_backend, clear) are collected per task and applied together
// by reconfigure(), or by themselves once the code that made them has run: Varnish applies
// them at the end of the task, Shellac when the current synchronous stretch of VCL ends.

import type { Director, VmodContext } from '../../src/vmod/api.ts';
import { hashStrands32 } from './hash32.ts';
import { paramSetOfBlob } from './shard-param.ts';
import {
  applyArgs,
  BUILTIN,
  type By,
  inHousekeeping,
  keyFor,
  onBackendSide,
  ParamSet,
  resolveParams,
  shardMessage,
  taskSetForRead,
  taskSetForWrite,
} from './shard-params.ts';
import { buildRing, type Healthy, identOf, pickMember, type RingPoint, type ShardMember } from './shard-ring.ts';

type Change =
  | { readonly op: 'add'; readonly backend: Director; readonly ident: string | undefined; readonly rampup: number; readonly weight: number }
  | { readonly op: 'remove'; readonly backend: Director | null; readonly ident: string | undefined }
  | { readonly op: 'clear' };

const DEFAULT_REPLICAS = 67;
const UINT32_MAX = 0xffffffff;

export class ShardDirector implements Director {
  readonly name: string;
  readonly type = 'shard';
  private members: ShardMember[] = [];
  private ring: RingPoint[] = [];
  private warmup = 0;
  private rampup = 0;
  private debugFlags = 0;
  /** Where `.backend()` takes the values it is not given: a shard_param's set or the built-ins. */
  private param: ParamSet = BUILTIN;
  /** Changes not yet applied, per task. */
  private readonly pending = new Map<VmodContext, Change[]>();

  constructor(_ctx: VmodContext, vclName: string) {
    this.name = vclName;
  }

  private message(text: string): string {
    return shardMessage(this.name, text);
  }

  set_warmup(ctx: VmodContext, probability: number): void {
    if (probability < 0 || probability >= 1) {
      ctx.log(this.message(`.set_warmup(${probability.toFixed(6)}) ignored`));
      return;
    }
    this.warmup = probability;
  }

  set_rampup(ctx: VmodContext, duration: number): void {
    if (duration < 0) {
      ctx.log(this.message(`.set_rampup(${duration.toFixed(3)}) ignored`));
      return;
    }
    this.rampup = duration;
  }

  associate(ctx: VmodContext, param: Uint8Array | null): void {
    if (param === null) {
      this.param = BUILTIN;
      return;
    }
    const set = paramSetOfBlob(param);
    if (!set) ctx.fail(this.message('shard .associate param invalid'));
    this.param = set;
  }

  add_backend(
    ctx: VmodContext,
    backend: Director | null,
    ident: string | null | undefined,
    rampup: number | undefined,
    weight: number | undefined,
  ): boolean {
    if (backend === null) ctx.fail(this.message('NULL backend cannot be added'));
    let w = 1;
    if (weight !== undefined) {
      if (weight >= 1) w = weight;
      else ctx.log(this.message(`.add_backend(weight=${weight.toFixed(6)}) ignored`));
    }
    this.queue(ctx, { op: 'add', backend, ident: ident || undefined, rampup: rampup ?? Number.NaN, weight: w });
    return true;
  }

  remove_backend(ctx: VmodContext, backend: Director | null | undefined, ident: string | null | undefined): boolean {
    if (!backend && !ident) ctx.fail(this.message('.backend_remove(): either backend or ident are required'));
    this.queue(ctx, { op: 'remove', backend: backend ?? null, ident: ident || undefined });
    return true;
  }

  clear(ctx: VmodContext): boolean {
    this.queue(ctx, { op: 'clear' });
    return true;
  }

  reconfigure(ctx: VmodContext, replicas: number): boolean {
    if (replicas <= 0) {
      ctx.log(this.message(`.reconfigure() invalid replicas argument ${replicas}`));
      return false;
    }
    return this.apply(ctx, replicas);
  }

  key(_ctx: VmodContext, strands: readonly (string | null)[]): number {
    return hashStrands32(strands);
  }

  backend(
    ctx: VmodContext,
    by: By | undefined,
    key: number | undefined,
    key_blob: Uint8Array | null | undefined,
    alt: number | undefined,
    warmup: number | undefined,
    rampup: boolean | undefined,
    healthy: Healthy | undefined,
    param: Uint8Array | null | undefined,
    resolve: 'NOW' | 'LAZY' | undefined,
  ): Director | null {
    // Today's binder passes an optional argument's manifest default when it was left out, so
    // a value equal to the default counts as not given (Varnish can tell the two apart; the
    // difference shows only when an explicit default should override a shard_param).
    const args = {
      by: by === 'HASH' ? undefined : by,
      key,
      key_blob,
      alt: alt === 0 ? undefined : alt,
      warmup: warmup === -1 ? undefined : warmup,
      rampup: rampup === true ? undefined : rampup,
      healthy: healthy === 'CHOSEN' ? undefined : healthy,
    };
    const given = Object.values(args).some((v) => v !== undefined) || param !== undefined;
    const mode = resolve ?? (inHousekeeping(ctx) ? 'LAZY' : 'NOW');
    if (mode === 'LAZY') {
      if (!given) return this;
      if (!onBackendSide(ctx)) {
        ctx.fail(this.message('.backend(resolve=LAZY) with other parameters can only be used in backend/pipe context'));
      }
    } else if (inHousekeeping(ctx)) {
      ctx.fail(this.message('.backend(resolve=NOW) can not be used in vcl_init{}/vcl_fini{}'));
    }
    // On the backend side the arguments stay with the task, for a later lazy resolution.
    const set = onBackendSide(ctx) ? taskSetForWrite(ctx, this, this.param) : new ParamSet(this.name, 'call', this.param);
    set.name = this.name;
    if (param !== undefined) {
      const from = param === null ? undefined : paramSetOfBlob(param);
      if (!from) ctx.fail(this.message('.backend(key_blob) param invalid'));
      set.defaults = from;
    }
    applyArgs(ctx, set, 'shard.backend()', args);
    if (mode === 'LAZY') return this;
    return this.pick(ctx, set);
  }

  debug(_ctx: VmodContext, flags: number): void {
    this.debugFlags = flags;
  }

  healthy(ctx: VmodContext | null): boolean {
    for (const m of this.members) if (m.backend.healthy(ctx)) return true;
    return false;
  }

  get changed(): number {
    let latest = 0;
    for (const m of this.members) latest = Math.max(latest, m.backend.changed ?? 0);
    return latest;
  }

  /** At fetch time: the member for the parameters this task set, or the defaults. */
  resolve(ctx: VmodContext): Director | null {
    const set = onBackendSide(ctx) ? taskSetForRead(ctx, this, this.param) : this.param;
    const be = this.pick(ctx, set);
    return be === null ? null : be.resolve(ctx);
  }

  private pick(ctx: VmodContext, set: ParamSet): Director | null {
    if (this.members.length === 0 || this.ring.length === 0) {
      ctx.log(this.message('no backends'));
      return null;
    }
    const p = resolveParams(set);
    let alt = p.alt;
    if (alt > this.members.length - 1) {
      ctx.log(this.message(`parameter alt=${alt} limited to ${this.members.length - 1}`));
      alt = this.members.length - 1;
    }
    const key = keyFor(ctx, p);
    const cfg = { members: this.members, ring: this.ring, warmup: this.warmup, rampup: this.rampup };
    const be = pickMember(cfg, ctx, { key, alt, warmup: p.warmup, rampup: p.rampup, healthy: p.healthy }, Math.random);
    if (this.debugFlags !== 0) ctx.log(this.message(`lookup key ${key.toString(16)} by=${p.by} alt=${alt} -> ${be?.name ?? 'none'}`));
    return be;
  }

  // -------------------------------------------------------------------------------------------
  // Reconfiguration.

  private queue(ctx: VmodContext, change: Change): void {
    const list = this.pending.get(ctx);
    if (list) {
      list.push(change);
      return;
    }
    this.pending.set(ctx, [change]);
    // Changes nobody applied explicitly take effect once the current VCL code has run.
    queueMicrotask(() => {
      if (this.pending.has(ctx)) this.apply(ctx, DEFAULT_REPLICAS);
    });
  }

  /** Applies this task's changes and rebuilds the ring; nothing to apply leaves it as it is. */
  private apply(ctx: VmodContext, replicas: number): boolean {
    const changes = this.pending.get(ctx);
    if (!changes) return true;
    this.pending.delete(ctx);
    // Only the changes after the last clear() matter, applied to an empty list.
    const lastClear = changes.map((c) => c.op).lastIndexOf('clear');
    const members = lastClear >= 0 ? [] : [...this.members];
    for (const c of changes.slice(lastClear + 1)) {
      if (c.op === 'add') this.addMember(ctx, members, c, replicas);
      else if (c.op === 'remove') this.removeMembers(members, c);
    }
    this.members = members;
    if (members.length === 0) {
      this.ring = [];
      ctx.log(this.message('.reconfigure() no backends'));
      return false;
    }
    this.ring = buildRing(members);
    return true;
  }

  private addMember(ctx: VmodContext, members: ShardMember[], c: Change & { op: 'add' }, replicas: number): void {
    const ident = c.ident ?? c.backend.name;
    const same = members.find((m) => (c.ident === undefined && m.ident === undefined ? m.backend === c.backend : identOf(m) === ident));
    if (same) {
      ctx.log(this.message(`backend ${same.backend.name}${same.ident ? `/${same.ident}` : ''} already exists - skipping`));
      return;
    }
    const points = Math.min(Math.floor(replicas * c.weight), UINT32_MAX);
    members.push({ backend: c.backend, ident: c.ident, rampup: c.rampup, replicas: points });
  }

  private removeMembers(members: ShardMember[], c: Change & { op: 'remove' }): void {
    // Without an ident, every instance of the backend goes; with one, the member of that ident.
    const doomed = (m: ShardMember) => (c.ident === undefined ? m.backend === c.backend : identOf(m) === c.ident);
    for (let i = members.length - 1; i >= 0; i--) if (doomed(members[i])) members.splice(i, 1);
  }
}
