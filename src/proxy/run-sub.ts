// Calling a VCL sub from either side of the proxy: the client's steps and the backend fetch's
// steps both come through here, so a transaction record notes every call and its action the
// same way.

import type { TxLog } from '../common/log.ts';
import type { VclAction } from '../runtime/actions.ts';
import type { LoadedVcl } from '../runtime/loaded-vcl.ts';
import type { VclTask } from '../runtime/task.ts';
import type { SubName } from '../vcl/spec.ts';

/**
 * The next step from a sub's action, for the client's steps and the fetch's alike: at once when
 * the sub was synchronous (no promise turn), else once it settles. `next` is a plain function
 * of the request or fetch, so no closure is made when the sub is synchronous.
 */
export function afterSub<C, S>(c: C, r: VclAction | Promise<VclAction>, next: (c: C, a: VclAction) => S | Promise<S>): S | Promise<S> {
  if (r instanceof Promise) return r.then((a) => next(c, a));
  return next(c, r);
}

/** Runs a sub of a VCL on a task; with a record, notes the call and the action it returned. */
export function runSub(vcl: LoadedVcl, sub: SubName, task: VclTask, tx: TxLog | null): VclAction | Promise<VclAction> {
  if (tx === null) return vcl.run(sub, task);
  tx.call(sub.slice(4));
  const r = vcl.run(sub, task);
  if (r instanceof Promise) {
    return r.then((a) => {
      tx.ret(a.action);
      return a;
    });
  }
  tx.ret(r.action);
  return r;
}
