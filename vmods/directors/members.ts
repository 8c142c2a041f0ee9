// The member list shared by the round_robin, fallback, random and hash directors: the
// backends (or directors) added, their weights, and the health questions every director
// asks of them. Kept in the order they were added, which fallback relies on. MemberDirector
// is the part of those four directors that is the same in each: only how a member is picked
// (and what a removal does to a director's position in the list) differs.

import type { Director, VmodContext } from '../../src/vmod/api.ts';

export class Members {
  readonly list: Director[] = [];
  readonly weights: number[] = [];
  /** The VCL name of the director that owns the list, for error messages. */
  private readonly owner: string;

  constructor(owner: string) {
    this.owner = owner;
  }

  get size(): number {
    return this.list.length;
  }

  add(ctx: VmodContext, be: Director | null, weight: number): void {
    if (be === null) ctx.fail(`${this.owner}: None backend cannot be added`);
    this.list.push(be);
    this.weights.push(weight);
  }

  /** Removes the first occurrence of `be`; returns its former index, or -1 when absent. */
  remove(ctx: VmodContext, be: Director | null): number {
    if (be === null) ctx.fail(`${this.owner}: None backend cannot be removed`);
    const at = this.list.indexOf(be);
    if (at >= 0) {
      this.list.splice(at, 1);
      this.weights.splice(at, 1);
    }
    return at;
  }

  anyHealthy(ctx: VmodContext | null): boolean {
    for (const be of this.list) if (be.healthy(ctx)) return true;
    return false;
  }

  /** The latest health change of any member (seconds since the epoch), 0 when none is known. */
  changed(): number {
    let latest = 0;
    for (const be of this.list) if ((be.changed ?? 0) > latest) latest = be.changed ?? 0;
    return latest;
  }

  /**
   * The index of the first healthy member at or after `start`, going round the list once;
   * -1 when none is healthy. Members are asked in that order, each at most once.
   */
  firstHealthyFrom(ctx: VmodContext, start: number): number {
    const n = this.list.length;
    for (let tried = 0, at = start; tried < n; tried++, at = (at + 1) % n) {
      if (this.list[at].healthy(ctx)) return at;
    }
    return -1;
  }

  /**
   * The healthy member at fraction `w` (0 ≤ w < 1) of the healthy members' total weight, each
   * member owning a stretch as long as its weight; null when no healthy member has weight.
   */
  pickByWeight(ctx: VmodContext, w: number): Director | null {
    const healthy = this.list.map((be) => be.healthy(ctx));
    let total = 0;
    for (let i = 0; i < healthy.length; i++) if (healthy[i]) total += this.weights[i];
    if (!(total > 0)) return null;
    const target = w * total;
    let reached = 0;
    let last: Director | null = null;
    for (let i = 0; i < this.list.length; i++) {
      if (!healthy[i]) continue;
      reached += this.weights[i];
      last = this.list[i];
      if (target < reached) return last;
    }
    // Rounding can leave w * total a hair past the sum: the last healthy member owns the end.
    return last;
  }
}

/** Follows a chosen member down to the backend a fetch goes to. */
export function resolveMember(ctx: VmodContext, be: Director | null): Director | null {
  return be === null ? null : be.resolve(ctx);
}

/**
 * A director over a Members list: removing members, and its health (healthy while any member
 * is, changed when a member last changed). A subclass says how it picks, and declares its own
 * add_backend: with a weight (random, hash) or without (round_robin, fallback), as its manifest.
 */
export abstract class MemberDirector implements Director {
  readonly name: string;
  abstract readonly type: string;
  protected readonly members: Members;

  constructor(vclName: string) {
    this.name = vclName;
    this.members = new Members(vclName);
  }

  remove_backend(ctx: VmodContext, be: Director | null): void {
    const at = this.members.remove(ctx, be);
    if (at >= 0) this.removed(at);
  }

  /** Told the former index of a member just removed, for a director that keeps a position. */
  protected removed(_at: number): void {}

  healthy(ctx: VmodContext | null): boolean {
    return this.members.anyHealthy(ctx);
  }

  get changed(): number {
    return this.members.changed();
  }

  abstract resolve(ctx: VmodContext): Director | null;
}
