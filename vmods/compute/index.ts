// The compute VMOD (see vmod.vcc and docs/compute.md): TinyKVM's VCL functions over programs
// that run in worker-thread sandboxes. PRIV_VCL holds each VCL's programs; the chain of one
// backend fetch lives in the task's PRIV_TASK holder of this VMOD. Nothing here runs program
// code: program.ts hands requests to the workers (worker.ts).

import { readFile } from 'node:fs/promises';
import type { Director, PrivHolder, VclEvent, VmodContext, VmodEventContext } from '../../src/vmod/api.ts';
import { type ChainLink, flatHeaders, LiveUpdateBackend, ProgramBackend, runChain } from './backend.ts';
import { checkKeys, DefinitionError, type Definition, readLibrary, resolveDefinition } from './definitions.ts';
import * as self from './index.ts';
import type { VmodCompute, VmodComputeCounters, VmodComputeHandle, VmodComputeParams } from './interface.ts';
import { Program } from './program.ts';
import { dropSelfRequestTarget, setSelfRequestTarget } from './self-requests.ts';

/** One VCL's programs. */
class ComputeVcl {
  readonly programs = new Map<string, Program>();
  readonly handle: VmodComputeHandle;

  constructor(handle: VmodComputeHandle) {
    this.handle = handle;
  }

  define(name: string, def: Definition): void {
    const have = this.programs.get(name);
    if (have !== undefined && !have.started) have.def = def;
    else if (have === undefined) this.programs.set(name, new Program(name, def, this.handle));
  }

  matching(pattern: string | null): Program[] {
    const re = patternOf(pattern);
    return [...this.programs.values()].filter((p) => re.test(p.name));
  }

  statsJson(pattern: string | null, indentation: number): string {
    const out: Record<string, unknown> = {};
    for (const p of this.matching(pattern)) if (p.loaded) out[p.name] = p.stats.toJSON({ ...p.describe(), threads: p.threads });
    return JSON.stringify(out, null, indentation < 0 ? undefined : Math.min(indentation, 10));
  }

  async invalidate(pattern: string | null): Promise<number> {
    let n = 0;
    for (const p of this.matching(pattern)) {
      if (!p.loaded) continue;
      await p.invalidate();
      n++;
    }
    return n;
  }
}

/** Every loaded VCL's programs, by VCL name: what the admin commands look through. */
const vcls = new Map<string, ComputeVcl>();

function patternOf(pattern: string | null): RegExp {
  try {
    return new RegExp(pattern ?? '');
  } catch {
    throw new DefinitionError(`bad regular expression '${pattern}'`);
  }
}

function computeOf(ctx: VmodContext, vcl: PrivHolder<ComputeVcl>): ComputeVcl {
  if (vcl.priv === undefined) {
    const handle = ctx.vmod<VmodComputeHandle>('compute');
    if (handle === null) ctx.fail('compute: no platform handle');
    vcl.priv = new ComputeVcl(handle);
    vcls.set(handle.vclName, vcl.priv);
  }
  return vcl.priv;
}

/** The program of that name, or null after a log line naming the caller. */
function find(ctx: VmodContext, vcl: PrivHolder<ComputeVcl>, name: string | null, caller: string): Program | null {
  const p = computeOf(ctx, vcl).programs.get(name ?? '') ?? null;
  if (p === null) ctx.log(`compute.${caller}(): no program '${name ?? ''}'`);
  return p;
}

/** Runs a function of vcl_init, turning a definition error into a failed vcl_init. */
async function orFail<T>(ctx: VmodContext, what: string, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    ctx.fail(`compute.${what}(): ${(e as Error).message}`);
  }
}

export async function library(ctx: VmodContext, vcl: PrivHolder<ComputeVcl>, uri: string | null): Promise<boolean> {
  return await orFail(ctx, 'library', async () => {
    const c = computeOf(ctx, vcl);
    for (const [name, def] of await readLibrary(uri ?? '')) c.define(name, def);
    return true;
  });
}

export function init_self_requests(ctx: VmodContext, vcl: PrivHolder<ComputeVcl>, unix_socket: string | null, http_prefix: string | null, max_concurrent_requests: number): boolean {
  const c = computeOf(ctx, vcl);
  setSelfRequestTarget(ctx.vclName, unix_socket ?? '', http_prefix ?? '', Math.max(1, max_concurrent_requests), c.handle.counters);
  return true;
}

export async function configure(ctx: VmodContext, vcl: PrivHolder<ComputeVcl>, program: string | null, json: string | null): Promise<boolean> {
  return await orFail(ctx, 'configure', () => {
    const name = program ?? '';
    let parsed: unknown;
    try {
      parsed = JSON.parse(json ?? '');
    } catch (e) {
      throw new DefinitionError(`program '${name}': not JSON (${(e as Error).message})`);
    }
    const own = checkKeys(name, parsed);
    const c = computeOf(ctx, vcl);
    const have = c.programs.get(name);
    if (have?.started) return false;
    c.define(name, have !== undefined ? { ...have.def, ...own } : resolveDefinition(name, own, new Map(), ''));
    return true;
  });
}

export function main_arguments(ctx: VmodContext, vcl: PrivHolder<ComputeVcl>, program: string | null, args: readonly (string | null)[]): boolean {
  const p = find(ctx, vcl, program, 'main_arguments');
  if (p === null) return false;
  p.def = { ...p.def, arguments: args.map((a) => a ?? '') };
  return true;
}

export async function invalidate_programs(ctx: VmodContext, vcl: PrivHolder<ComputeVcl>, regex: string | null): Promise<number> {
  try {
    return await computeOf(ctx, vcl).invalidate(regex);
  } catch (e) {
    ctx.log(`compute.invalidate_programs(): ${(e as Error).message}`);
    return 0;
  }
}

export async function start(ctx: VmodContext, vcl: PrivHolder<ComputeVcl>, program: string | null, async: boolean, debug: boolean): Promise<boolean> {
  const p = find(ctx, vcl, program, 'start');
  if (p === null) ctx.fail(`compute.start(): no program '${program ?? ''}'`);
  if (debug) ctx.log(`compute.start(): debug is not available: a program's worker thread cannot take the Node inspector on its own`);
  const loading = p.ready();
  if (async) {
    loading.catch((e: Error) => computeOf(ctx, vcl).handle.log(`compute: ${p.name} did not start: ${e.message}`));
    return true;
  }
  return orFail(ctx, 'start', async () => {
    await loading;
    return true;
  });
}

export function stats(ctx: VmodContext, vcl: PrivHolder<ComputeVcl>, pattern: string | null, indentation: number): string {
  try {
    return computeOf(ctx, vcl).statsJson(pattern, indentation);
  } catch (e) {
    ctx.log(`compute.stats(): ${(e as Error).message}`);
    return '{}';
  }
}

/** The chain queued by this task so far (taken, so it runs once). */
function takeChain(ctx: VmodContext, vcl: PrivHolder<ComputeVcl>): ChainLink[] {
  const holder = ctx.privTask(computeOf(ctx, vcl).handle.privKey) as PrivHolder<ChainLink[]>;
  const links = holder.priv ?? [];
  holder.priv = undefined;
  return links;
}

export function chain(ctx: VmodContext, vcl: PrivHolder<ComputeVcl>, program: string | null, arg: string | null, config: string | null, error_treshold: number): boolean {
  const p = find(ctx, vcl, program, 'chain');
  if (p === null) return false;
  const holder = ctx.privTask(computeOf(ctx, vcl).handle.privKey) as PrivHolder<ChainLink[]>;
  holder.priv ??= [];
  holder.priv.push({ program: p, arg: arg ?? '', config: config ?? '', errorThreshold: error_treshold });
  return true;
}

export function program(ctx: VmodContext, vcl: PrivHolder<ComputeVcl>, program: string | null, arg: string | null, config: string | null): Director | null {
  const p = find(ctx, vcl, program, 'program');
  if (p === null) return null;
  const links = takeChain(ctx, vcl);
  links.push({ program: p, arg: arg ?? '', config: config ?? '', errorThreshold: 1000 });
  return new ProgramBackend(ctx, links);
}

/** The request a program called from VCL (not as a backend) gets: the task's request, as GET. */
function vclRequest(ctx: VmodContext, url: string | null) {
  const http = ctx.http('bereq') ?? ctx.http('req');
  return { method: 'GET', url: url || http?.url || '/', headers: http ? flatHeaders(http) : [], body: new Uint8Array(0), stream: 0 };
}

export async function to_string(
  ctx: VmodContext,
  vcl: PrivHolder<ComputeVcl>,
  program: string | null,
  url: string | null,
  arg: string | null,
  on_error: string | null,
  error_treshold: number,
): Promise<string | null> {
  const p = find(ctx, vcl, program, 'to_string');
  if (p === null) return on_error;
  const links = ctx.http('bereq') !== null ? takeChain(ctx, vcl) : [];
  links.push({ program: p, arg: arg ?? '', config: '', errorThreshold: error_treshold });
  const r = await runChain(ctx, links, vclRequest(ctx, url));
  if (!r.ok || r.status >= error_treshold) return on_error;
  return new TextDecoder().decode(r.body);
}

export async function synth(ctx: VmodContext, vcl: PrivHolder<ComputeVcl>, status: number, program: string | null, url: string | null, arg: string | null): Promise<number> {
  const p = find(ctx, vcl, program, 'synth');
  if (p === null) return 0;
  const r = await runChain(ctx, [{ program: p, arg: arg ?? '', config: '', errorThreshold: 1000 }], vclRequest(ctx, url));
  const resp = ctx.http('resp') ?? ctx.http('beresp');
  if (!r.ok || resp === null || ctx.synthetic === undefined) return 0;
  resp.status = status > 0 ? status : r.status;
  resp.set('Content-Type', r.contentType);
  for (let i = 0; i + 1 < r.headers.length; i += 2) resp.append(r.headers[i], r.headers[i + 1]);
  ctx.synthetic(r.body);
  return resp.status;
}

export function live_update(ctx: VmodContext, vcl: PrivHolder<ComputeVcl>, program: string | null, key: string | null, max_size: number): Director | null {
  const p = find(ctx, vcl, program, 'live_update');
  if (p === null) return null;
  const c = computeOf(ctx, vcl);
  return new LiveUpdateBackend(p, key ?? '', max_size, () => c.handle.counters.live_update_refused++);
}

export async function live_update_file(ctx: VmodContext, vcl: PrivHolder<ComputeVcl>, program: string | null, filename: string | null): Promise<boolean> {
  const p = find(ctx, vcl, program, 'live_update_file');
  if (p === null) return false;
  const counters = computeOf(ctx, vcl).handle.counters;
  try {
    await p.replace(new Uint8Array(await readFile(filename ?? '')));
    return true;
  } catch (e) {
    counters.live_update_refused++;
    ctx.log(`compute.live_update_file(): ${p.name} keeps its old version: ${(e as Error).message}`);
    return false;
  }
}

export function on_event(ctx: VmodEventContext<VmodComputeCounters, VmodComputeParams>, vcl: PrivHolder<ComputeVcl>, event: VclEvent): number {
  if (event === 'load') {
    vcl.priv = new ComputeVcl(ctx);
    vcls.set(ctx.vclName, vcl.priv);
  } else if (event === 'discard') {
    for (const p of vcl.priv?.programs.values() ?? []) p.discard();
    vcls.delete(ctx.vclName);
    dropSelfRequestTarget(ctx.vclName);
  }
  return 0;
}

/** The programs of the VCL the command's handle belongs to. */
function commandVcl(handle: VmodComputeHandle): ComputeVcl {
  const c = vcls.get(handle.vclName);
  if (c === undefined) throw new Error(`compute: VCL ${handle.vclName} has no programs`);
  return c;
}

export const commands: VmodCompute['commands'] = {
  list(ctx) {
    const rows = [...commandVcl(ctx).programs.values()].map((p) => ({ ...p.describe(), requests: p.stats.requests }));
    if (ctx.json) return rows;
    return rows.map((r) => `${r.name} ${r.type} ${r.loaded ? 'loaded' : 'unloaded'} concurrency=${r.concurrency} requests=${r.requests}`).join('\n');
  },
  stats(ctx, args) {
    const text = commandVcl(ctx).statsJson(args[0] ?? '', 2);
    // With -j, the value goes inside the command's JSON envelope.
    return ctx.json ? JSON.parse(text) : text;
  },
  async invalidate(ctx, args) {
    const n = await commandVcl(ctx).invalidate(args[0] ?? '');
    return ctx.json ? { invalidated: n } : `${n} programs invalidated`;
  },
};

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies VmodCompute<{ vcl: ComputeVcl }>;
