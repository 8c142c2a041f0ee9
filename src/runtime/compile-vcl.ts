// The compiler's half of loading a VCL: parse and check it (builtin.vcl appended), bind each
// imported VMOD's implementation to learn which calls are async and to refuse one that does not
// match its manifest, generate the JS of every sub, and gather what the runtime needs into a
// CompiledVcl (compiled-vcl.ts), a value that goes through JSON. `shellac serve` runs this in
// the manager, so a VCL that does not compile never reaches the cache process, which loads
// neither Chevrotain nor the checker; load-vcl.ts's `loadVcl` runs both halves in one process.

import { type GeneratedVcl, generateVcl, walkStatements } from '../vcl/codegen.ts';
import { checkSource } from '../vcl/compile.ts';
import { formatDiagnostics, type SourceFile } from '../vcl/diagnostics.ts';
import type { CheckedVcl } from '../vcl/tir.ts';
import type { BoundVmod } from '../vmod/bind.ts';
import { COMPILED_VCL_FORMAT, type CompiledVcl, VclLoadError } from './compiled-vcl.ts';
import { asyncEntryNames, bindVmods } from './load-vcl.ts';

export interface CompileVclOptions {
  /** The VCL's name (vcl.load NAME), for the generated code's header. */
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
  /** Storage names VCL may refer to (`storage.NAME`). */
  readonly storages?: readonly string[];
}

/** Compiles a VCL; throws VclLoadError with the compiler's report when it does not compile. */
export async function compileVcl(opts: CompileVclOptions): Promise<CompiledVcl> {
  const input = opts.file ?? { name: opts.name, text: opts.source ?? '' };
  const result = checkSource(input, { vclPath: opts.vclPath, vmodPath: opts.vmodPath, errUnref: opts.errUnref, storages: opts.storages });
  if (!result.checked) throw new VclLoadError(formatDiagnostics(result.diagnostics.sorted(), result.sources));
  const { checked, sources } = result;
  const vmods = await bindVmods(checked.imports, opts.vmodPath);
  const generated = generateWithVmods(checked, sources, opts.name, vmods);
  return {
    format: COMPILED_VCL_FORMAT,
    sources,
    source: generated.source,
    constants: generated.constants,
    positions: generated.positions,
    asyncSubs: [...generated.asyncSubs],
    instances: generated.instances,
    nullOkInstances: nullOkInstances(checked),
    imports: checked.imports.map((imp) => ({
      name: imp.name,
      module: imp.manifest.name,
      manifestFile: imp.manifest.file,
      asyncEntries: asyncEntryNames(vmods.get(imp.name) as BoundVmod),
    })),
    backends: checked.backends,
    probes: checked.probes,
    defaultBackend: checked.defaultBackend,
    acls: checked.acls,
    regexes: checked.regexes.map((r) => r.source),
    privCallSites: checked.privCallSites,
    labels: checked.labels,
  };
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

/** Instances vcl_init may leave unmade: those of `$Object NULL_OK` classes. */
function nullOkInstances(checked: CheckedVcl): string[] {
  const names: string[] = [];
  walkStatements(checked.subs.get('vcl_init')?.body ?? [], (s) => {
    if (s.k === 'new' && s.object.nullOk) names.push(s.name);
  });
  return names;
}
