// directors.fallback(sticky): the first healthy member in the order they were added. A sticky
// fallback stays on the member it last used while that one is healthy, and when it is not,
// moves on down the list (wrapping round) rather than back to the top.

import type { Director, VmodContext } from '../../src/vmod/api.ts';
import { MemberDirector, resolveMember } from './members.ts';

export class FallbackDirector extends MemberDirector {
  readonly type = 'fallback';
  private readonly sticky: boolean;
  /** Index of the member in use (where a sticky search starts). */
  private current = 0;

  constructor(_ctx: VmodContext, vclName: string, sticky: boolean) {
    super(vclName);
    this.sticky = sticky;
  }

  add_backend(ctx: VmodContext, be: Director | null): void {
    this.members.add(ctx, be, 0);
  }

  protected override removed(at: number): void {
    // Keep pointing at the same member when an earlier one goes; start over past the end.
    if (at < this.current) this.current--;
    else if (this.current >= this.members.size) this.current = 0;
  }

  /** The director itself: the member is picked when the fetch resolves it. */
  backend(_ctx: VmodContext): Director {
    return this;
  }

  resolve(ctx: VmodContext): Director | null {
    const at = this.members.firstHealthyFrom(ctx, this.sticky ? this.current : 0);
    if (at < 0) return null;
    this.current = at;
    return resolveMember(ctx, this.members.list[at]);
  }
}
