// The bodyaccess VMOD (see vmod.vcc): the body std.cache_req_body kept, as ctx.reqBody. Misuse
// is logged and answered with -1, as upstream answers it, never with a failed request.

import type { VclRegex, VmodContext } from '../../src/vmod/api.ts';
import * as self from './index.ts';
import type { VmodBodyaccess } from './interface.ts';

const decoder = new TextDecoder();

/** The kept body, or null after logging why there is none or why not here. */
function keptBody(ctx: VmodContext, fn: string, sub: 'vcl_recv' | 'vcl_hash' | null): Uint8Array | null {
  const body = ctx.reqBody;
  if (body === null) {
    ctx.log('Unbuffered req.body');
    return null;
  }
  if (sub !== null && ctx.method !== sub) {
    ctx.log(`${fn} can only be used in ${sub}{}`);
    return null;
  }
  return body;
}

export function rematch_req_body(ctx: VmodContext, re: VclRegex): number {
  const body = keptBody(ctx, 'rematch_req_body', 'vcl_recv');
  if (body === null) return -1;
  return re.test(decoder.decode(body)) ? 1 : 0;
}

export function hash_req_body(ctx: VmodContext): void {
  const body = keptBody(ctx, 'hash_req_body', 'vcl_hash');
  if (body !== null) ctx.hashPart?.(decoder.decode(body));
}

export function len_req_body(ctx: VmodContext): number {
  return keptBody(ctx, 'len_req_body', 'vcl_recv')?.byteLength ?? -1;
}

export function log_req_body(ctx: VmodContext, prefix: string | null, length: number): void {
  const body = keptBody(ctx, 'log_req_body', null);
  if (body === null) return;
  const step = length > 0 ? length : body.byteLength;
  for (let i = 0; i < body.byteLength; i += step) {
    ctx.log(`${prefix ?? ''}${Buffer.from(body.buffer, body.byteOffset + i, Math.min(step, body.byteLength - i)).toString('latin1')}`);
  }
}

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies VmodBodyaccess;
