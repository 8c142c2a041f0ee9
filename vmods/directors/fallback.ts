// directors.fallback(sticky): the first healthy member in the order they were added. A sticky
// fallback stays on the member it last used while that one is healthy, and when it is not,
// moves on down the list (wrapping round) rather than back to the top.

import type { Director, VmodContext } from '../../src/vmod/api.ts';
import { Members, resolveMember } from './members.ts';

export class FallbackDirector implements Director {
  readonly name: string;
  readonly type = 'fallback';
  private readonly members: Members;
  private readonly sticky: boolean;
  /** Index of the member in use (where a sticky search starts). */
  private current = 0;

  constructor(_ctx: VmodContext, vclName: string, sticky: boolean) {
    this.name = vclName;
    this.sticky = sticky;
    this.members = new Members(vclName);
  }

  add_backend(ctx: VmodContext, be: Director | null): void {
    this.members.add(ctx, be, 0);
  }

  remove_backend(ctx: VmodContext, be: Director | null): void {
    const at = this.members.remove(ctx, be);
    if (at < 0) return;
    // Keep pointing at the same member when an earlier one goes; start over past the end.
    if (at < this.current) this.current--;
    else if (this.current >= this.members.size) this.current = 0;
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
    const list = this.members.list;
    if (!this.sticky) this.current = 0;
    for (let tried = 0; tried < list.length; tried++) {
      const be = list[this.current];
      if (be.healthy(ctx)) return resolveMember(ctx, be);
      this.current = (this.current + 1) % list.length;
    }
    return null;
  }
}
