// directors.round_robin(): each resolution takes the next healthy member in turn.

import type { Director, VmodContext } from '../../src/vmod/api.ts';
import { Members, resolveMember } from './members.ts';

export class RoundRobinDirector implements Director {
  readonly name: string;
  readonly type = 'round-robin';
  private readonly members: Members;
  /** Index of the member the next resolution tries first. */
  private next = 0;

  constructor(_ctx: VmodContext, vclName: string) {
    this.name = vclName;
    this.members = new Members(vclName);
  }

  add_backend(ctx: VmodContext, be: Director | null): void {
    this.members.add(ctx, be, 0);
  }

  remove_backend(ctx: VmodContext, be: Director | null): void {
    this.members.remove(ctx, be);
    if (this.next >= this.members.size) this.next = 0;
  }

  /** The director itself: the member is picked when the fetch resolves it. */
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
    for (let tried = 0; tried < list.length; tried++) {
      const be = list[this.next];
      this.next = (this.next + 1) % list.length;
      if (be.healthy(ctx)) return resolveMember(ctx, be);
    }
    return null;
  }
}
