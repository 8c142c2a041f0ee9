// directors.round_robin(): each resolution takes the next healthy member in turn.

import type { Director, VmodContext } from '../../src/vmod/api.ts';
import { MemberDirector, resolveMember } from './members.ts';

export class RoundRobinDirector extends MemberDirector {
  readonly type = 'round-robin';
  /** Index of the member the next resolution tries first. */
  private next = 0;

  constructor(_ctx: VmodContext, vclName: string) {
    super(vclName);
  }

  add_backend(ctx: VmodContext, be: Director | null): void {
    this.members.add(ctx, be, 0);
  }

  protected override removed(_at: number): void {
    if (this.next >= this.members.size) this.next = 0;
  }

  /** The director itself: the member is picked when the fetch resolves it. */
  backend(_ctx: VmodContext): Director {
    return this;
  }

  resolve(ctx: VmodContext): Director | null {
    const at = this.members.firstHealthyFrom(ctx, this.next);
    if (at < 0) return null;
    this.next = (at + 1) % this.members.size;
    return resolveMember(ctx, this.members.list[at]);
  }
}
