// The debug VMOD's PRIV_* functions and its event function: what each scope keeps and how long,
// as Varnish's test cases probe them (PRIV_TASK appends per task, PRIV_TOP keeps the first value
// of the top request, PRIV_CALL and PRIV_VCL hold what was put there), and the event function
// that fills PRIV_VCL, adds the body filters (filters.ts), logs temperature changes and fails on
// cue.

import type { PrivHolder, VclEvent, VmodContext, VmodEventContext } from '../../src/vmod/api.ts';
import { addFilters } from './filters.ts';

/** What the event function keeps in PRIV_VCL. */
export interface VclState {
  /** Set at load; test_priv_vcl checks it is there. */
  readonly marker: 'FOO';
  /** The event context's hold(), kept so functions can take a reference on the VCL later. */
  readonly hold: (holder: string) => () => void;
  /** The release of the reference vcl_prevent_cold took, while it is held. */
  release?: () => void;
}

/** What test_priv_call puts in a call site's PRIV_CALL. */
const CALL_MARK = 'BAR';

export function test_priv_call(ctx: VmodContext, call: PrivHolder<string>): void {
  if (call.priv === undefined) call.priv = CALL_MARK;
  else if (call.priv !== CALL_MARK) ctx.fail(`debug.test_priv_call(): PRIV_CALL holds '${call.priv}', not '${CALL_MARK}'`);
}

export function test_priv_vcl(ctx: VmodContext, vcl: PrivHolder<VclState>): void {
  if (vcl.priv?.marker !== 'FOO') ctx.fail('debug.test_priv_vcl(): PRIV_VCL was not set up by the event function');
}

export function test_priv_task(ctx: VmodContext, task: PrivHolder<string>, s: string | null): string | null {
  let how: 'exists' | 'new' | 'update';
  if (s === null || s === '') how = 'exists';
  else if (task.priv === undefined) {
    task.priv = s;
    how = 'new';
  } else {
    task.priv = `${task.priv} ${s}`;
    how = 'update';
  }
  ctx.log(`test_priv_task() = ${task.priv ?? 'NULL'} (${how})`);
  return task.priv ?? null;
}

/** PRIV_TOP is null on the backend side; the compiler keeps a PRIV_TOP function off it. */
export function test_priv_top(ctx: VmodContext, top: PrivHolder<string> | null, s: string | null): string | null {
  if (top === null) ctx.fail('debug.test_priv_top(): no PRIV_TOP outside a client request');
  top.priv ??= s ?? '';
  return top.priv;
}

export function priv_task_with_option(_ctx: VmodContext, task: PrivHolder<string>, opt: string | null | undefined): string | null {
  if (task.priv === undefined && opt !== undefined && opt !== null) task.priv = opt;
  return task.priv ?? null;
}

export function vcl_prevent_cold(ctx: VmodContext, vcl: PrivHolder<VclState>): void {
  const state = vcl.priv;
  if (state === undefined) ctx.fail('debug.vcl_prevent_cold(): PRIV_VCL was not set up by the event function');
  state.release ??= state.hold(`vmod-debug ref on ${ctx.vclName}`);
}

export function vcl_allow_cold(_ctx: VmodContext, vcl: PrivHolder<VclState>): void {
  const state = vcl.priv;
  state?.release?.();
  if (state) state.release = undefined;
}

/**
 * LOAD sets PRIV_VCL up, and is refused while `nuke_limit` is 42; WARM is refused while
 * `max_esi_depth` is 42. Both messages and the log lines are Varnish's debug module's, so tests
 * written against it see the same.
 */
export function event_function(ctx: VmodEventContext, vcl: PrivHolder<VclState>, event: VclEvent): number {
  switch (event) {
    case 'load':
      if (ctx.param('nuke_limit') === 42) {
        ctx.fail('nuke_limit is not the answer.');
        return -1;
      }
      vcl.priv = { marker: 'FOO', hold: (holder) => ctx.hold(holder) };
      {
        const refused = addFilters(ctx);
        if (refused !== null) {
          ctx.fail(refused);
          return -1;
        }
      }
      return 0;
    case 'warm':
      ctx.log(`${ctx.vclName}: VCL_EVENT_WARM`);
      if (ctx.param('max_esi_depth') === 42) {
        ctx.fail('max_esi_depth is not the answer.');
        return -1;
      }
      return 0;
    case 'cold':
      ctx.log(`${ctx.vclName}: VCL_EVENT_COLD`);
      return 0;
    case 'discard':
      vcl.priv?.release?.();
      return 0;
  }
}
