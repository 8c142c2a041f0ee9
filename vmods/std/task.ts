// std's functions that act on the task or the runtime: logging, timestamps, the request body,
// rollback, bans, backend health, ports, the TOS byte and the VCL syntax version. Where a
// function only makes sense in some subs, it checks like Varnish 7.1 does (varnishtest):
// - cache_req_body outside vcl_recv logs "req.body can only be cached in vcl_recv{}" and
//   answers false (on the backend side Varnish crashes; the same answer is kinder);
// - late_100_continue outside vcl_recv logs and does nothing;
// - rollback takes req or bereq only (Varnish crashes on others: here the task fails);
// - a refused ban is logged as "ban(): <reason>", and ban_error() gives that reason until the
//   next std.ban of the same task.

import type { Director, VclHttp, VclIp, VmodContext } from '../../src/vmod/api.ts';

/** std.log: one VCL_Log record. */
export function log(ctx: VmodContext, s: readonly (string | null)[]): void {
  ctx.log(s.join(''));
}

/** std.syslog: Shellac has no syslog of its own, so it goes to the task's log with its priority. */
export function syslog(ctx: VmodContext, priority: number, s: readonly (string | null)[]): void {
  ctx.log(`syslog(${priority}): ${s.join('')}`);
}

/** std.timestamp: a timestamp record with the current (not VCL's fixed) time. */
export function timestamp(ctx: VmodContext, s: string | null): void {
  if (s === null || s === '') return;
  ctx.log(`Timestamp ${s}: ${(Date.now() / 1000).toFixed(6)}`);
}

/**
 * Whether the VCL's syntax version (vcl 4.0 or 4.1) is at least `version`. The context may
 * carry the version of the file being run as `syntax` (40 or 41); without it, 4.1 is assumed.
 */
export function syntax(ctx: VmodContext, version: number): boolean {
  const own = (ctx as { readonly syntax?: unknown }).syntax;
  const current = typeof own === 'number' ? own : 41;
  // 4.1 is not exact in binary: compare in tenths.
  return Math.round(version * 10) <= current;
}

export async function cache_req_body(ctx: VmodContext, size: number): Promise<boolean> {
  if (ctx.method !== 'vcl_recv') {
    ctx.log('req.body can only be cached in vcl_recv{}');
    return false;
  }
  return await ctx.cacheReqBody(Math.max(size, 0));
}

/**
 * std.late_100_continue: Shellac's listener answers `Expect: 100-continue` itself, so there is
 * nothing to change; the function keeps Varnish's check of where it is called.
 */
export function late_100_continue(ctx: VmodContext, _late: boolean): void {
  if (ctx.method !== 'vcl_recv') ctx.log('std.late_100_continue() only valid in vcl_recv{}');
}

export function set_ip_tos(ctx: VmodContext, tos: number): void {
  if (!ctx.setIpTos(tos)) ctx.log(`std.set_ip_tos(${tos}): the TOS byte cannot be set here`);
}

export function rollback(ctx: VmodContext, h: VclHttp): void {
  if (h === ctx.http('req')) ctx.rollback('req');
  else if (h === ctx.http('bereq')) ctx.rollback('bereq');
  else ctx.fail('std.rollback(): only req and bereq can be rolled back');
}

/** The last ban error of each task, keyed by its context (so it ends with the task). */
const banErrors = new WeakMap<VmodContext, string | null>();

export function ban(ctx: VmodContext, expression: string | null): boolean {
  const error = expression === null ? 'Null argument' : ctx.ban(expression);
  if (error !== null) ctx.log(`ban(): ${error}`);
  if (error !== null || banErrors.has(ctx)) banErrors.set(ctx, error);
  return error === null;
}

export function ban_error(ctx: VmodContext): string {
  return banErrors.get(ctx) ?? '';
}

export function healthy(ctx: VmodContext, be: Director | null): boolean {
  return be === null ? false : be.healthy(ctx);
}

export function port(_ctx: VmodContext, ip: VclIp | null): number {
  return ip === null ? 0 : ip.port;
}
