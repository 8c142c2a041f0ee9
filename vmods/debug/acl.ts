// The debug VMOD's ACL functions: an ACL going into and out of a VMOD, an unset one, and a match
// that fails the task on an unset ACL with the message Varnish gives.

import type { AclRef, VclIp, VmodContext } from '../../src/vmod/api.ts';

export function null_acl(_ctx: VmodContext): AclRef | null {
  return null;
}

export function acl(_ctx: VmodContext, a: AclRef | null): AclRef | null {
  return a;
}

export function match_acl(ctx: VmodContext, a: AclRef | null, ip: VclIp | null): boolean {
  if (a === null) ctx.fail('Cannot match a null ACL');
  if (ip === null) ctx.fail('Cannot match a null IP address');
  return a.match(ip);
}
