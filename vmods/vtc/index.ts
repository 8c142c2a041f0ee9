// The vtc VMOD: helpers for test cases. Varnish's versions act on its C internals; each one
// here does the closest thing Shellac can, as the manifest (vmod.vcc) says. interface.ts,
// generated from the manifest, is the contract.

import { createConnection } from 'node:net';
import { setTimeout as wait } from 'node:timers/promises';
import { proxyPreamble } from '../../src/proxy/backend/proxy-header.ts';
import type { Director, VclIp, VmodContext } from '../../src/vmod/api.ts';
import * as self from './index.ts';
import type { VmodVtc } from './interface.ts';
import { type WorkspaceName, wanted, workspaceOf } from './workspace.ts';

/** `host:port`, `[v6]:port` or `host port`, as the barrier macros give it. */
function barrierAddress(addr: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\s\]]+?)\]?(?::|\s+)(\d+)$/.exec(addr.trim());
  return m ? { host: m[1], port: Number(m[2]) } : undefined;
}

/** Connects to a test's socket barrier and waits for the byte it sends once all parties are in. */
export async function barrier_sync(ctx: VmodContext, addr: string | null, timeout: number): Promise<void> {
  const where = barrierAddress(addr ?? '');
  if (!where) ctx.fail(`vtc.barrier_sync: bad address '${addr ?? ''}'`);
  const outcome = await new Promise<string | null>((resolve) => {
    const sock = createConnection(where);
    const done = (why: string | null) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(why);
    };
    const timer = timeout > 0 ? setTimeout(() => done(`timed out after ${timeout} s`), timeout * 1000) : undefined;
    sock.once('data', () => done(null));
    sock.once('end', () => done('the barrier closed without releasing'));
    sock.once('error', (e) => done(e.message));
  });
  if (outcome !== null) ctx.fail(`vtc.barrier_sync(${addr}): ${outcome}`);
}

export function no_backend(_ctx: VmodContext): Director | null {
  return null;
}

export function no_stevedore(_ctx: VmodContext): null {
  return null;
}

export function no_ip(_ctx: VmodContext): VclIp | null {
  return null;
}

export function panic(ctx: VmodContext, message: readonly (string | null)[]): void {
  const text = message.map((s) => s ?? '').join('');
  ctx.log(`PANIC: ${text}`);
  ctx.fail(`vtc.panic: ${text}`);
}

export async function sleep(_ctx: VmodContext, seconds: number): Promise<void> {
  if (seconds > 0) await wait(seconds * 1000);
}

/** Marking a client or backend workspace overflowed fails the task, as in Varnish. */
function overflow(ctx: VmodContext, name: WorkspaceName, why: string): void {
  workspaceOf(ctx, name).overflowed = true;
  if (name === 'client' || name === 'backend') ctx.fail(`workspace_${name} overflow: ${why}`);
}

export function workspace_alloc(ctx: VmodContext, name: WorkspaceName, size: number): void {
  const ws = workspaceOf(ctx, name);
  const n = wanted(ws, size);
  if (n < 0 || n > ws.size - ws.used) {
    overflow(ctx, name, `vtc.workspace_alloc(${size}): ${ws.size - ws.used} bytes free`);
    return;
  }
  ws.used += n;
}

export function workspace_reserve(ctx: VmodContext, name: WorkspaceName, size: number): number {
  const ws = workspaceOf(ctx, name);
  return Math.max(0, Math.min(wanted(ws, size), ws.size - ws.used));
}

export function workspace_free(ctx: VmodContext, name: WorkspaceName): number {
  const ws = workspaceOf(ctx, name);
  return ws.size - ws.used;
}

export function workspace_snapshot(ctx: VmodContext, name: WorkspaceName): void {
  const ws = workspaceOf(ctx, name);
  ws.snapshot = ws.used;
}

export function workspace_reset(ctx: VmodContext, name: WorkspaceName): void {
  const ws = workspaceOf(ctx, name);
  if (ws.snapshot === undefined) ctx.fail(`vtc.workspace_reset(${name}): no snapshot of this workspace`);
  ws.used = ws.snapshot;
}

export function workspace_overflowed(ctx: VmodContext, name: WorkspaceName): boolean {
  return workspaceOf(ctx, name).overflowed;
}

export function workspace_overflow(ctx: VmodContext, name: WorkspaceName): void {
  overflow(ctx, name, 'vtc.workspace_overflow()');
}

const MAX_DUMP = 1024;

export function workspace_dump(ctx: VmodContext, name: WorkspaceName, pointer: 's' | 'f' | 'r', off: number, len: number): Uint8Array {
  const ws = workspaceOf(ctx, name);
  if (len > MAX_DUMP) ctx.fail(`vtc.workspace_dump: len ${len} is more than ${MAX_DUMP}`);
  // Nothing stays reserved here: r is where f is.
  const start = (pointer === 's' ? 0 : ws.used) + off;
  if (start < 0 || start + len > ws.size) ctx.fail(`vtc.workspace_dump: ${len} bytes at ${start} are outside the ${ws.size} bytes of workspace_${name}`);
  return new Uint8Array(len);
}

/** Sizes of C types on 64-bit Linux (LP64), by the letters Varnish uses. */
const C_SIZES: Readonly<Record<string, number>> = { p: 8, i: 4, d: 8, f: 4, l: 8, s: 2, z: 8, o: 8, j: 8 };

/** The size of a C struct with members of these types in this order: each aligned to its size, the whole to the largest. */
export function typesize(ctx: VmodContext, types: string | null): number {
  if (!types) ctx.fail('vtc.typesize: no types');
  let n = 0;
  let largest = 0;
  for (const c of types) {
    const size = C_SIZES[c];
    if (size === undefined) return -1;
    largest = Math.max(largest, size);
    n = Math.ceil(n / size) * size + size;
  }
  return Math.ceil(n / largest) * largest;
}

export function proxy_header(ctx: VmodContext, version: 'v1' | 'v2', client: VclIp | null, server: VclIp | null, authority: string | null): Uint8Array {
  if (client === null || server === null) ctx.fail('vtc.proxy_header: no client or server address');
  if (client.family !== server.family) ctx.fail('vtc.proxy_header: the client and server addresses are of different families');
  return proxyPreamble(version === 'v1' ? 1 : 2, { client, server }, version === 'v2' ? (authority ?? undefined) : undefined);
}

/** Varnish's vxids are 30 bits. */
const MAX_VXID = 2 ** 30 - 1;

export function vsl(ctx: VmodContext, vxid: number, tag: string | null, side: 'c' | 'b', s: readonly (string | null)[]): void {
  if (tag === null || !/^\w+$/.test(tag)) ctx.fail(`vtc.vsl: bad tag '${tag ?? ''}'`);
  if (!Number.isInteger(vxid) || vxid < 0 || vxid > MAX_VXID) ctx.fail(`vtc.vsl: vxid ${vxid} out of bounds`);
  ctx.log(`vsl: ${vxid} ${tag} ${side} ${s.map((x) => x ?? '').join('')}`);
}

export function vsl_replay(ctx: VmodContext, s: readonly (string | null)[]): void {
  for (const line of s.map((x) => x ?? '').join('').split('\n')) {
    // `varnishlog -g raw`: VXID TAG SIDE TEXT; varnishtest's `**** v1 vsl| VXID TAG SIDE TEXT`.
    const m = /^(?:.*\bvsl\|)?\s*(\d+)\s+(\w+)\s+([cb-])\s?(.*)$/.exec(line);
    if (m) ctx.log(`vsl: ${m[1]} ${m[2]} ${m[3]} ${m[4]}`);
  }
}

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies VmodVtc;
