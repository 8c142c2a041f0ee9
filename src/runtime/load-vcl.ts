// Loading a VCL, in order: compile (parse, check, builtin.vcl), bind each imported VMOD's
// implementation, generate the JS of every sub, resolve the host names of ACLs and IP
// constants, build the backends, compile the generated code over its constants, then run the
// VMODs' LOAD events and vcl_init, and warm the VCL up. Any failure leaves nothing behind and
// throws a VclLoadError whose message says what went wrong and where.

import { lookup } from 'node:dns/promises';
import { type GeneratedVcl, generateVcl } from '../vcl/codegen.ts';
import { checkSource } from '../vcl/compile.ts';
import { formatDiagnostics, positionText, type SourceFile } from '../vcl/diagnostics.ts';
import { isHostName } from '../vcl/ip-literal.ts';
import type { CheckedVcl, TAcl } from '../vcl/tir.ts';
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

export interface LoadVclOptions {
  /** The VCL's name (vcl.load NAME). */
  readonly name: string;
  /** VCL text; or `file`, a path to read. */
  readonly source?: string;
  readonly file?: string;
  /** Include directories. */
  readonly vclPath?: readonly string[];
  /** VMOD directories searched before the shipped ones. */
  readonly vmodPath?: readonly string[];
  /** Unused backends, ACLs, subs... are errors (Varnish's default) or warnings. */
  readonly errUnref?: boolean;
  /** Warm the VCL up once loaded (default); false leaves it cold. */
  readonly warm?: boolean;
  readonly env?: VclEnv;
}

export class VclLoadError extends Error {
  override readonly name = 'VclLoadError';
}

export async function loadVcl(opts: LoadVclOptions): Promise<LoadedVcl> {
  const env = opts.env ?? {};
  const input = opts.file ?? { name: opts.name, text: opts.source ?? '' };
  const result = checkSource(input, {
    vclPath: opts.vclPath,
    vmodPath: opts.vmodPath,
    errUnref: opts.errUnref,
    storages: env.storages,
  });
  if (!result.checked) throw new VclLoadError(formatDiagnostics(result.diagnostics.sorted(), result.sources));
  const { checked, sources } = result;

  const vmods = await bindVmods(checked, opts.vmodPath);
  const generated = generateWithVmods(checked, sources, opts.name, vmods);
  const resolve = env.resolveHost ?? systemResolve;
  const where = (pos: Parameters<typeof positionText>[0]) => positionText(pos, sources);
  const acls = new Map<string, CompiledAcl>();
  for (const acl of checked.acls) acls.set(acl.name, await compileVclAcl(acl, resolve, where));
  const ips = new Map<string, VclIp>();
  for (const c of generated.constants) {
    if (c.kind === 'ip' && !ips.has(c.text)) ips.set(c.text, await resolveIpConstant(c.text, resolve, where(c.pos)));
  }

  const createBackend = env.createBackend ?? memoryBackends;
  const backends = makeBackends(checked, createBackend, opts.name);
  // Once the LoadedVcl exists, it releases the backends itself when it fails.
  let vcl: LoadedVcl | undefined;
  try {
    const privCall: PrivHolder[] = Array.from({ length: checked.privCallSites }, () => ({ priv: undefined }));
    const privVcl = new Map<string, PrivHolder>();
    const vmodKeys = new Map<string, object>();
    for (const name of vmods.keys()) {
      privVcl.set(name, { priv: undefined });
      vmodKeys.set(name, Object.freeze({ vmod: name }));
    }
    const instances: [string, object][] = [];
    const storages = new Map<string, StorageInfo>();
    const constants = buildConstants(generated.constants, {
      checked,
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
    const subs = new Function('k', generated.source)(constants);
    vcl = new LoadedVcl({
      name: opts.name,
      checked,
      sources,
      generated,
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

/** Generates a checked VCL's code knowing which VMOD functions are async. */
export function generateWithVmods(
  checked: CheckedVcl,
  sources: readonly SourceFile[],
  name: string,
  vmods: ReadonlyMap<string, BoundVmod>,
): GeneratedVcl {
  return generateVcl(checked, sources, {
    name,
    isAsyncCall: (call) =>
      call.k === 'vmod_call'
        ? (vmods.get(call.module)?.isAsync(call.fn.name) ?? false)
        : (vmods.get(call.module)?.isAsync(call.fn.name, call.object.name) ?? false),
  });
}

/**
 * Binds the implementation of every VMOD a VCL imports, and of the VMODs they `$Requires`
 * (found in `vmodPath`), each required one before those that require it; a mismatch, or a
 * missing or cyclic requirement, is a VclLoadError.
 */
export async function bindVmods(checked: CheckedVcl, vmodPath?: readonly string[]): Promise<Map<string, BoundVmod>> {
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
  for (const imp of checked.imports) await bind(imp.name, imp.manifest, []);
  return vmods;
}

function makeBackends(checked: CheckedVcl, factory: BackendFactory, vclName: string): Map<string, VclBackend> {
  const probes = new Map(checked.probes.map((p) => [p.name, p]));
  const backends = new Map<string, VclBackend>();
  try {
    for (const b of checked.backends) {
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
