// What a VCL subroutine returns to the state machine that ran it: the action and its arguments.
// Actions without arguments are shared frozen constants, so the hit path allocates nothing for
// them; synth, error, pass(ttl) and vcl(label) are built when returned.

import { checkStatus, statusReason } from './status.ts';

export type PlainActionName = 'abandon' | 'deliver' | 'fetch' | 'hash' | 'lookup' | 'ok' | 'pipe' | 'purge' | 'restart' | 'retry';

export type VclAction =
  | { readonly action: PlainActionName }
  /** `ttl` only with pass(DURATION) in vcl_backend_response: a hit-for-pass object that long. */
  | { readonly action: 'pass'; readonly ttl?: number }
  /**
   * synth(status, reason) on the client side, error(status, reason) on the backend side. The
   * status is the full VCL value (1404 stays 1404; the wire gets status % 1000); the reason is
   * the default one for the status when VCL gave none. error without arguments is 503 with
   * Varnish's "Backend fetch failed".
   */
  | { readonly action: 'synth' | 'error'; readonly status: number; readonly reason: string }
  | { readonly action: 'vcl'; readonly label: string }
  /**
   * The task fails: `return (fail)` (no message), or a runtime error, with its message and the
   * VCL position (`file:line:col`) of the failing expression.
   */
  | { readonly action: 'fail'; readonly message?: string; readonly where?: string };

function plain<A extends PlainActionName>(action: A): { readonly action: A } {
  return Object.freeze({ action });
}

/** The argument-less actions, one shared object each. */
export const ACTION = Object.freeze({
  abandon: plain('abandon'),
  deliver: plain('deliver'),
  fetch: plain('fetch'),
  hash: plain('hash'),
  lookup: plain('lookup'),
  ok: plain('ok'),
  pipe: plain('pipe'),
  purge: plain('purge'),
  restart: plain('restart'),
  retry: plain('retry'),
  pass: Object.freeze({ action: 'pass' }) as VclAction,
  fail: Object.freeze({ action: 'fail' }) as VclAction,
});

/** `return (synth(status, reason))`: checked as Varnish checks it. */
export function synthAction(status: number, reason: string | null | undefined): VclAction {
  checkStatus('return(synth()) status code', status);
  return { action: 'synth', status, reason: reason ?? statusReason(status) };
}

/** `return (error(status, reason))`, status and reason optional. */
export function errorAction(status?: number, reason?: string | null): VclAction {
  if (status === undefined) return { action: 'error', status: 503, reason: reason ?? 'Backend fetch failed' };
  checkStatus('return(error()) status code', status);
  return { action: 'error', status, reason: reason ?? statusReason(status) };
}

export function passAction(ttl: number): VclAction {
  return { action: 'pass', ttl };
}

export function failAction(message: string, where?: string): VclAction {
  return { action: 'fail', message, where };
}
