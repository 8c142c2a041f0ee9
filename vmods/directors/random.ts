// directors.random(): a healthy member drawn at random, each with a chance in proportion to
// its weight among the healthy members.

import type { Director, VmodContext } from '../../src/vmod/api.ts';
import { MemberDirector, resolveMember } from './members.ts';

export class RandomDirector extends MemberDirector {
  readonly type = 'random';

  constructor(_ctx: VmodContext, vclName: string) {
    super(vclName);
  }

  add_backend(ctx: VmodContext, be: Director | null, weight: number): void {
    this.members.add(ctx, be, weight);
  }

  /** The director itself: the member is drawn when the fetch resolves it. */
  backend(_ctx: VmodContext): Director {
    return this;
  }

  resolve(ctx: VmodContext): Director | null {
    return resolveMember(ctx, this.members.pickByWeight(ctx, Math.random()));
  }
}
