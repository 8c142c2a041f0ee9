// Binding a VMOD's implementation at VCL load: import `index.ts` beside its manifest, and check
// that it provides what the manifest declares (functions, object classes and their methods,
// the event function) with no more parameters than the binder passes. A mismatch fails the
// load with a message naming the VMOD, the entry and its manifest line, instead of surfacing
// as a strange error on some request later.
//
// The binder passes exactly: the context, then one value per manifest argument (PRIV_* and
// absent optional ones included). An implementation may declare fewer trailing parameters
// (ones it ignores, or with JS defaults) but never more.

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { TImport } from '../vcl/tir.ts';
import { VMOD_API_VERSION } from './api-platform.ts';
import { freshUrl } from './fresh-import.ts';
import { didYouMean } from './suggest.ts';
import type { VmodFunction, VmodManifest, VmodObject } from './manifest.ts';

/** The implementation file inside a VMOD's folder. */
export const IMPLEMENTATION_FILE = 'index.ts';

type AnyFunction = (...args: never[]) => unknown;
type AnyClass = new (...args: never[]) => object;

/** A VMOD implementation checked against its manifest. */
export interface BoundVmod {
  /** The name VCL imports it as. */
  readonly name: string;
  readonly manifest: VmodManifest;
  readonly file: string;
  readonly functions: ReadonlyMap<string, AnyFunction>;
  readonly classes: ReadonlyMap<string, AnyClass>;
  readonly event: AnyFunction | undefined;
  /** `$Command` handlers, by the command's short name (from the `commands` export). */
  readonly commands: ReadonlyMap<string, AnyFunction>;
  /** Whether a function (`fn`) or a method (`object.method`) is an async function. */
  isAsync(fn: string, object?: string): boolean;
}

export class VmodBindError extends Error {
  override readonly name = 'VmodBindError';
}

export function implementationFile(manifest: VmodManifest): string {
  return join(dirname(manifest.file), IMPLEMENTATION_FILE);
}

/**
 * Whether a VMOD written for API `wanted` runs on this Shellac: the same major version, and a
 * minor no newer than ours. The message names both versions when it does not.
 */
export function apiVersionProblem(name: string, wanted: string | undefined): string | undefined {
  if (wanted === undefined) return undefined;
  const [wMajor, wMinor] = wanted.split('.').map(Number);
  const [major, minor] = VMOD_API_VERSION.split('.').map(Number);
  if (wMajor === major && wMinor <= minor) return undefined;
  return `VMOD '${name}' was written for the Shellac VMOD API ${wanted}; this Shellac provides ${VMOD_API_VERSION}`;
}

export async function bindVmod(imp: Pick<TImport, 'name' | 'manifest'>): Promise<BoundVmod> {
  const { manifest, name } = imp;
  const file = implementationFile(manifest);
  const abi = apiVersionProblem(name, manifest.apiVersion);
  if (abi !== undefined) throw new VmodBindError(abi);
  if (!existsSync(file)) {
    throw new VmodBindError(`VMOD '${name}': no implementation: ${file} does not exist (manifest ${manifest.file})`);
  }
  let exports: Record<string, unknown>;
  try {
    // Keyed by the folder's content: changed code is a fresh module, unchanged code is shared.
    exports = (await import(freshUrl(file, dirname(file)))) as Record<string, unknown>;
  } catch (e) {
    throw new VmodBindError(`VMOD '${name}': its implementation ${file} failed to load: ${(e as Error).message}`);
  }
  const where = (line: number) => `${manifest.file}:${line}`;
  const problems: string[] = [];
  const functions = new Map<string, AnyFunction>();
  const classes = new Map<string, AnyClass>();
  const asyncNames = new Set<string>();

  for (const fn of manifest.functions.values()) {
    const impl = exports[fn.name];
    if (typeof impl !== 'function') {
      problems.push(`$Function ${fn.name} (${where(fn.line)}): ${file} exports no function '${fn.name}'${didYouMean(fn.name, Object.keys(exports))}`);
      continue;
    }
    const arity = checkArity(fn, impl.length, 1);
    if (arity) problems.push(`$Function ${fn.name} (${where(fn.line)}): ${arity}`);
    functions.set(fn.name, impl as AnyFunction);
    if (isAsyncFunction(impl)) asyncNames.add(fn.name);
  }
  for (const obj of manifest.objects.values()) {
    const cls = exports[obj.name];
    if (typeof cls !== 'function' || cls.prototype === undefined) {
      problems.push(`$Object ${obj.name} (${where(obj.line)}): ${file} exports no class '${obj.name}'${didYouMean(obj.name, Object.keys(exports))}`);
      continue;
    }
    const arity = checkArity({ args: obj.args }, cls.length, 2, 'the context, the instance name');
    if (arity) problems.push(`$Object ${obj.name} (${where(obj.line)}): its constructor ${arity}`);
    classes.set(obj.name, cls as AnyClass);
    checkMethods(obj, cls.prototype as Record<string, unknown>, where, problems, asyncNames);
  }
  let event: AnyFunction | undefined;
  if (manifest.event !== undefined) {
    const impl = exports[manifest.event];
    if (typeof impl !== 'function') problems.push(`$Event ${manifest.event}: ${file} exports no function '${manifest.event}'${didYouMean(manifest.event, Object.keys(exports))}`);
    else if (impl.length > 3) problems.push(`$Event ${manifest.event}: it declares ${impl.length} parameters; events pass 3 (context, PRIV_VCL, event)`);
    else event = impl as AnyFunction;
  }
  const commands = new Map<string, AnyFunction>();
  const table = exports.commands as Record<string, unknown> | undefined;
  for (const c of manifest.commands) {
    const impl = table?.[c.name];
    if (typeof impl !== 'function') {
      problems.push(`$Command ${c.name} (${where(c.line)}): ${file} exports no 'commands.${c.name}' function${didYouMean(c.name, Object.keys(table ?? {}))}`);
    }
    else commands.set(c.name, impl as AnyFunction);
  }
  if (problems.length > 0) {
    throw new VmodBindError(`VMOD '${name}': ${file} does not match its manifest:\n  ${problems.join('\n  ')}`);
  }
  return {
    name,
    manifest,
    file,
    functions,
    classes,
    event,
    commands,
    isAsync: (fn, object) => asyncNames.has(object === undefined ? fn : `${object}.${fn}`),
  };
}

function checkMethods(
  obj: VmodObject,
  proto: Record<string, unknown>,
  where: (line: number) => string,
  problems: string[],
  asyncNames: Set<string>,
): void {
  for (const m of obj.methods.values()) {
    const impl = proto[m.name];
    if (typeof impl !== 'function') {
      problems.push(`$Method ${obj.name}.${m.name} (${where(m.line)}): class '${obj.name}' has no method '${m.name}'${didYouMean(m.name, Object.getOwnPropertyNames(proto))}`);
      continue;
    }
    const arity = checkArity(m, impl.length, 1);
    if (arity) problems.push(`$Method ${obj.name}.${m.name} (${where(m.line)}): ${arity}`);
    if (isAsyncFunction(impl)) asyncNames.add(`${obj.name}.${m.name}`);
  }
}

/** A message when an implementation declares more parameters than the binder passes. */
function checkArity(fn: Pick<VmodFunction, 'args'>, declared: number, leading: number, leadingText = 'the context'): string | undefined {
  const passed = leading + fn.args.length;
  if (declared <= passed) return undefined;
  const n = fn.args.length;
  return `declares ${declared} parameters, but is passed ${passed} (${leadingText} and ${n} argument${n === 1 ? '' : 's'})`;
}

function isAsyncFunction(f: unknown): boolean {
  return typeof f === 'function' && f.constructor?.name === 'AsyncFunction';
}
