// The member list shared by the round_robin, fallback, random and hash directors: the
// backends (or directors) added, their weights, and the health questions every director
// asks of them. Kept in the order they were added, which fallback relies on.

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
