// directors.random(): a healthy member drawn at random, each with a chance in proportion to
// its weight among the healthy members.

import type { Director, VmodContext } from '../../src/vmod/api.ts';
import { Members, resolveMember } from './members.ts';

export class RandomDirector implements Director {
  readonly name: string;
  readonly type = 'random';
  private readonly members: Members;

  constructor(_ctx: VmodContext, vclName: string) {
    this.name = vclName;
    this.members = new Members(vclName);
  }

  add_backend(ctx: VmodContext, be: Director | null, weight: number): void {
    this.members.add(ctx, be, weight);
  }

  remove_backend(ctx: VmodContext, be: Director | null): void {
    this.members.remove(ctx, be);
  }

  backend(_ctx: VmodContext): Director {
    return this;
  }

  healthy(ctx: VmodContext | null): boolean {
    return this.members.anyHealthy(ctx);
  }

  get changed(): number {
    return this.members.changed();
  }

  resolve(ctx: VmodContext): Director | null {
    return resolveMember(ctx, this.members.pickByWeight(ctx, Math.random()));
  }
}
