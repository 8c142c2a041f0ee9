// Loading a VCL has two halves. The compiler's (compile-vcl.ts: parse, check, builtin.vcl,
// bind the VMODs, generate the JS of every sub) makes a CompiledVcl, a value; `shellac serve`
// runs it in the manager. The runtime's, here: bind each imported VMOD's implementation, resolve
// the host names of ACLs and IP constants, build the backends, compile the generated code over
// its constants, then run the VMODs' LOAD events and vcl_init, and warm the VCL up. Any failure
// leaves nothing behind and throws a VclLoadError whose message says what went wrong and where.
//
// This module does not import the compiler: `loadVcl`, both halves in one process, imports it
// when called, so the cache process, which only instantiates what its manager compiled, never
// loads Chevrotain.

import { lookup } from 'node:dns/promises';
import type { CompileVclOptions } from './compile-vcl.ts';
import { type CompiledVcl, VclLoadError } from './compiled-vcl.ts';
import { positionText } from '../vcl/diagnostics.ts';
import { isHostName } from '../vcl/ip-literal.ts';
import type { TAcl, TBackend, TProbe } from '../vcl/tir.ts';
import type { PrivHolder } from '../vmod/api.ts';
import { type BoundVmod, bindVmod, VmodBindError } from '../vmod/bind.ts';
import type { VmodManifest } from '../vmod/manifest.ts';
import { VmodPlatform } from '../vmod/platform.ts';
import { DEFAULT_VMOD_PATH, loadManifest } from '../vmod/registry.ts';
import { type AclEntry, type CompiledAcl, compileAcl } from '../common/acl.ts';
import { type BackendFactory, memoryBackends, type VclBackend } from './backends.ts';
import { parseIpLiteral, type VclIp } from '../common/ip.ts';
import { LoadedVcl, type VclLogger, VclStateError } from './loaded-vcl.ts';
import type { StorageInfo, TaskServices } from './task.ts';
import { buildConstants } from './vcl-constants.ts';

export { VclLoadError };

/** What a loaded VCL needs from the process around it; every member has a default. */
export interface VclEnv {
  /** Makes the VCL's backends; in-memory ones (fetching nothing) by default. */
  readonly createBackend?: BackendFactory;
  /** Given to the vcl_init and vcl_fini tasks. */
  readonly services?: TaskServices;
  /** Runtime errors of subs, VMOD event messages. */
  readonly logger?: VclLogger;
  /** Host name → addresses, for ACL entries and IP constants; the system resolver by default. */
  readonly resolveHost?: (host: string) => Promise<readonly string[]>;
  /** Storage names VCL may refer to (`storage.NAME`), and their live figures. */
  readonly storages?: readonly string[];
  readonly storage?: (name: string) => StorageInfo | undefined;
  /** The server's VMOD platform (counters, parameters, commands, events); a private one by default. */
  readonly platform?: VmodPlatform;
}

/** How a compiled VCL is made a loaded one. */
export interface InstantiateOptions {
  /** The VCL's name (vcl.load NAME). */
  readonly name: string;
  /** VMOD directories searched (before the shipped ones) for the VMODs imported ones require. */
  readonly vmodPath?: readonly string[];
  /** Warm the VCL up once loaded (default); false leaves it cold. */
  readonly warm?: boolean;
  readonly env?: VclEnv;
}

export interface LoadVclOptions extends Omit<CompileVclOptions, 'storages'>, InstantiateOptions {}

/** Compiles and loads a VCL in this process (the compiler is imported on the first call). */
export async function loadVcl(opts: LoadVclOptions): Promise<LoadedVcl> {
  const { compileVcl } = await import('./compile-vcl.ts');
  return instantiateVcl(await compileVcl({ ...opts, storages: opts.env?.storages }), opts);
}

/** Makes a compiled VCL a loaded one: its VMODs bound, backends made, vcl_init run. */
export async function instantiateVcl(compiled: CompiledVcl, opts: InstantiateOptions): Promise<LoadedVcl> {
  const env = opts.env ?? {};
  const { sources } = compiled;
  const vmods = await bindVmods(importedManifests(compiled), opts.vmodPath);
  for (const imp of compiled.imports) {
    const now = asyncEntryNames(vmods.get(imp.name) as BoundVmod);
    if (now.join() !== [...imp.asyncEntries].sort().join()) {
      throw new VclLoadError(`VMOD '${imp.name}': its implementation changed since the VCL was compiled (async functions ${now.join(', ') || 'none'}, compiled for ${imp.asyncEntries.join(', ') || 'none'}): load the VCL again`);
    }
  }
  const resolve = env.resolveHost ?? systemResolve;
  const where = (pos: Parameters<typeof positionText>[0]) => positionText(pos, sources);
  const acls = new Map<string, CompiledAcl>();
  for (const acl of compiled.acls) acls.set(acl.name, await compileVclAcl(acl, resolve, where));
  const ips = new Map<string, VclIp>();
  for (const c of compiled.constants) {
    if (c.kind === 'ip' && !ips.has(c.text)) ips.set(c.text, await resolveIpConstant(c.text, resolve, where(c.pos)));
  }

  const createBackend = env.createBackend ?? memoryBackends;
  const backends = makeBackends(compiled, createBackend, opts.name);
  // Once the LoadedVcl exists, it releases the backends itself when it fails.
  let vcl: LoadedVcl | undefined;
  try {
    const privCall: PrivHolder[] = Array.from({ length: compiled.privCallSites }, () => ({ priv: undefined }));
    const privVcl = new Map<string, PrivHolder>();
    const vmodKeys = new Map<string, object>();
    for (const name of vmods.keys()) {
      privVcl.set(name, { priv: undefined });
      vmodKeys.set(name, Object.freeze({ vmod: name }));
    }
    const instances: [string, object][] = [];
    const storages = new Map<string, StorageInfo>();
    const constants = buildConstants(compiled.constants, {
      regexes: compiled.regexes,
      vmods,
      acls,
      backends,
      ips,
      privCall,
      privVcl,
      vmodKeys,
      storage: (name) => {
        let s = storages.get(name);
        if (s === undefined) {
          s = env.storage?.(name) ?? { name, freeSpace: 0, usedSpace: 0, happy: true };
          storages.set(name, s);
        }
        return s;
      },
      created: (name, instance) => {
        instances.push([name, instance]);
      },
    });
    const subs = new Function('k', compiled.source)(constants);
    vcl = new LoadedVcl({
      name: opts.name,
      compiled,
      subs,
      vmods: [...vmods.values()],
      backends,
      createBackend,
      privCall,
      privVcl,
      vmodKeys,
      instances,
      services: env.services ?? {},
      logger: env.logger,
      platform: env.platform ?? new VmodPlatform({ logger: env.logger, values: env.services?.params }),
    });
    await vcl.initialize();
    if (opts.warm !== false) {
      try {
        vcl.warm();
      } catch (e) {
        vcl.discard();
        throw e;
      }
    }
    return vcl;
  } catch (e) {
    if (vcl === undefined) for (const b of backends.values()) b.discard?.();
    if (e instanceof VclStateError) throw new VclLoadError(e.message);
    throw e;
  }
}

/**
 * Binds the implementation of every VMOD a VCL imports, and of the VMODs they `$Requires`
 * (found in `vmodPath`), each required one before those that require it; a mismatch, or a
 * missing or cyclic requirement, is a VclLoadError.
 */
export async function bindVmods(
  imports: readonly { readonly name: string; readonly manifest: VmodManifest }[],
  vmodPath?: readonly string[],
): Promise<Map<string, BoundVmod>> {
  const vmods = new Map<string, BoundVmod>();
  const bind = async (name: string, manifest: VmodManifest, chain: readonly string[]): Promise<void> => {
    if (vmods.has(name)) return;
    for (const req of manifest.requires) {
      const path = [...chain, name, req];
      if (chain.includes(req) || req === name) throw new VclLoadError(`VMOD requirements form a cycle: ${path.join(' requires ')}`);
      const found = loadManifest(req, { vmodPath: vmodPath === undefined ? undefined : [...vmodPath, ...DEFAULT_VMOD_PATH] });
      if ('error' in found) throw new VclLoadError(`VMOD '${name}' requires '${req}' (${path.join(' requires ')}): ${found.error}`);
      await bind(req, found.manifest, [...chain, name]);
    }
    try {
      vmods.set(name, await bindVmod({ name, manifest }));
    } catch (e) {
      if (e instanceof VmodBindError) throw new VclLoadError(e.message);
      throw e;
    }
  };
  for (const imp of imports) await bind(imp.name, imp.manifest, []);
  return vmods;
}

/** A compiled VCL's imports with their manifests, read again from the files the compiler read. */
function importedManifests(compiled: CompiledVcl): { name: string; manifest: VmodManifest }[] {
  return compiled.imports.map((imp) => {
    const found = loadManifest(imp.module, { from: imp.manifestFile });
    if ('error' in found) throw new VclLoadError(`VMOD '${imp.name}': ${found.error}`);
    return { name: imp.name, manifest: found.manifest };
  });
}

/** The functions and methods (`object.method`) of a bound VMOD whose implementation is async, sorted. */
export function asyncEntryNames(vmod: BoundVmod): string[] {
  const out: string[] = [];
  for (const fn of vmod.manifest.functions.values()) if (vmod.isAsync(fn.name)) out.push(fn.name);
  for (const obj of vmod.manifest.objects.values()) {
    for (const m of obj.methods.values()) if (vmod.isAsync(m.name, obj.name)) out.push(`${obj.name}.${m.name}`);
  }
  return out.sort();
}

function makeBackends(
  compiled: { readonly backends: readonly TBackend[]; readonly probes: readonly TProbe[] },
  factory: BackendFactory,
  vclName: string,
): Map<string, VclBackend> {
  const probes = new Map(compiled.probes.map((p) => [p.name, p]));
  const backends = new Map<string, VclBackend>();
  try {
    for (const b of compiled.backends) {
      backends.set(b.name, factory(b, b.probe === undefined ? undefined : probes.get(b.probe), vclName));
    }
  } catch (e) {
    for (const b of backends.values()) b.discard?.();
    throw new VclLoadError(`Cannot create the backends of VCL '${vclName}': ${(e as Error).message}`);
  }
  return backends;
}

async function systemResolve(host: string): Promise<readonly string[]> {
  const found = await lookup(host, { all: true });
  return found.map((a) => a.address);
}

/** An ACL with its host names resolved (every address they resolve to, each with the mask). */
async function compileVclAcl(
  acl: TAcl,
  resolve: (host: string) => Promise<readonly string[]>,
  where: (pos: TAcl['pos']) => string,
): Promise<CompiledAcl> {
  const entries: AclEntry[] = [];
  for (const e of acl.entries) {
    const text = e.address.value;
    const mask = e.mask?.value;
    if (!isHostName(text)) {
      entries.push({ negated: e.negated, address: text, mask });
      continue;
    }
    let addresses: readonly string[];
    try {
      addresses = await resolve(text);
    } catch (err) {
      // A parenthesized entry is dropped when its name does not resolve.
      if (e.optional) continue;
      throw new VclLoadError(`${where(e.address.pos)}: ACL ${acl.name}: cannot resolve '${text}': ${(err as Error).message}`);
    }
    for (const address of addresses) {
      const width = address.includes(':') ? 128 : 32;
      entries.push({ negated: e.negated, address, mask: mask !== undefined && mask <= width ? mask : undefined });
    }
  }
  try {
    return compileAcl(entries);
  } catch (err) {
    throw new VclLoadError(`${where(acl.pos)}: ACL ${acl.name}: ${(err as Error).message}`);
  }
}

async function resolveIpConstant(text: string, resolve: (host: string) => Promise<readonly string[]>, where: string): Promise<VclIp> {
  const literal = parseIpLiteral(text);
  if (literal !== null) return literal;
  let addresses: readonly string[] = [];
  try {
    addresses = await resolve(text);
  } catch (err) {
    throw new VclLoadError(`${where}: cannot resolve '${text}': ${(err as Error).message}`);
  }
  const ip = addresses.length > 0 ? parseIpLiteral(addresses[0]) : null;
  if (ip === null) throw new VclLoadError(`${where}: '${text}' resolves to no IP address`);
  return ip;
}
