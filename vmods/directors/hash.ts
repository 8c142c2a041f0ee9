// directors.hash(): the member for a string, found by placing the string's 32-bit hash on the
// healthy members' weights. The same string goes to the same member while the healthy set
// stays the same; when it changes, many strings move (the shard director moves fewer).

import type { Director, VmodContext } from '../../src/vmod/api.ts';
import { hashStrands32 } from './hash32.ts';
import { MemberDirector, resolveMember } from './members.ts';

const TWO_TO_32 = 2 ** 32;

export class HashDirector extends MemberDirector {
  readonly type = 'hash';

  constructor(_ctx: VmodContext, vclName: string) {
    super(vclName);
  }

  add_backend(ctx: VmodContext, be: Director | null, weight: number): void {
    this.members.add(ctx, be, weight);
  }

  /** The member for the strings, picked now (not at fetch time), as Varnish does. */
  backend(ctx: VmodContext, key: readonly (string | null)[]): Director | null {
    return this.members.pickByWeight(ctx, hashStrands32(key) / TWO_TO_32);
  }

  /**
   * VCL never hands the hash director itself to a fetch (only what `.backend(key)` picks), but
   * a TypeScript caller may: it then picks by the request's URL.
   */
  resolve(ctx: VmodContext): Director | null {
    const url = (ctx.http('bereq') ?? ctx.http('req'))?.url ?? null;
    return resolveMember(ctx, this.backend(ctx, [url]));
  }
}
