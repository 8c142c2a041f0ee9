// The error compiled VCL raises when a task must fail: Varnish logs it as VCL_Error and fails the
// task (a 503 on the client side, vcl_backend_error on the backend side). The runtime primitives
// throw it; the state machines catch it, so one bad request never harms another.

import type { Pos } from '../vcl/ast.ts';

export class VclRuntimeError extends Error {
  /** Where in the VCL source the failing expression is, when the caller knows it. */
  readonly pos: Pos | undefined;

  constructor(message: string, pos?: Pos) {
    super(message);
    this.name = 'VclRuntimeError';
    this.pos = pos;
  }
}
