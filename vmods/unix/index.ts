// The unix VMOD: the user and group of a client connected over a Unix domain socket. The
// runtime finds the ids (ctx.peerCredentials, see src/proxy/peer-credentials.ts); names come
// from /etc/passwd and /etc/group. The manifest is vmod.vcc; interface.ts is the contract.

import { readFile } from 'node:fs/promises';
import type { VmodContext } from '../../src/vmod/api.ts';
import * as self from './index.ts';
import type { VmodUnix } from './interface.ts';

/** The peer's ids, or undefined after logging why not; fails where Varnish fails. */
async function credentials(ctx: VmodContext): Promise<{ uid: number; gid: number } | undefined> {
  if (ctx.method === 'vcl_init' || ctx.method === 'vcl_fini') ctx.fail('vmod unix failure: may not be called in vcl_init or vcl_fini');
  const c = await ctx.peerCredentials();
  if ('uid' in c) return c;
  if (c.unsupported) ctx.fail(`vmod unix failure: ${c.error}`);
  ctx.log(`vmod unix error: ${c.error}`);
  return undefined;
}

/** The name of `id` in a colon-separated database (/etc/passwd, /etc/group): field 0 where field 2 is the id. */
async function nameOf(ctx: VmodContext, file: string, id: number): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(file, 'latin1');
  } catch (e) {
    ctx.log(`vmod unix error: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    return null;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length > 2 && f[2] === String(id)) return f[0];
  }
  ctx.log(`vmod unix error: no name for id ${id} in ${file}`);
  return null;
}

export async function user(ctx: VmodContext): Promise<string | null> {
  const c = await credentials(ctx);
  return c ? nameOf(ctx, '/etc/passwd', c.uid) : null;
}

export async function group(ctx: VmodContext): Promise<string | null> {
  const c = await credentials(ctx);
  return c ? nameOf(ctx, '/etc/group', c.gid) : null;
}

export async function uid(ctx: VmodContext): Promise<number> {
  return (await credentials(ctx))?.uid ?? -1;
}

export async function gid(ctx: VmodContext): Promise<number> {
  return (await credentials(ctx))?.gid ?? -1;
}

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies VmodUnix;
