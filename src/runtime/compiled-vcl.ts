// A compiled VCL as a value: what the compiler's half of a load (src/runtime/compile-vcl.ts:
// parse, check, bind the VMODs' manifests, generate code) hands the runtime's half
// (load-vcl.ts: backends, ACLs, VMOD instances, the subs). Plain data that goes through JSON,
// because `shellac serve` compiles in the manager and loads in the cache process, as varnishd's
// manager compiles a VCL to a shared object its child loads: the cache process never loads the
// compiler (Chevrotain and the checker, about 13 MB of its memory: docs/storage.md).
//
// The shape is checked when one arrives (parseCompiledVcl): a malformed one is a VclLoadError,
// never a crash. What it holds is code the process will run (the generated JS), so only the
// manager, over the child's own authenticated CLI, may hand one over.

import type { Pos } from '../vcl/ast.ts';
import type { ConstSpec } from '../vcl/codegen-context.ts';
import type { SourceFile } from '../vcl/diagnostics.ts';
import type { TAcl, TBackend, TProbe } from '../vcl/tir.ts';

/** A VCL that cannot be loaded: the compiler's report (file:line:col, caret) or the loader's. */
export class VclLoadError extends Error {
  override readonly name = 'VclLoadError';
}

/** Bumped when the shape changes: a manager and a child of different code refuse each other's. */
export const COMPILED_VCL_FORMAT = 1;

/** An `import` of the VCL, as the runtime binds it. */
export interface CompiledImport {
  /** The name VCL uses: the alias, or the module name. */
  readonly name: string;
  /** The VMOD's own name (its manifest's), and the manifest file the compiler read. */
  readonly module: string;
  readonly manifestFile: string;
  /**
   * The functions and methods (`object.method`) whose implementation was async when the code
   * was generated: the generated subs await exactly these, so a VMOD whose code changed since
   * is refused rather than run with the wrong calls.
   */
  readonly asyncEntries: readonly string[];
}

export interface CompiledVcl {
  readonly format: typeof COMPILED_VCL_FORMAT;
  /** The files read, the top one first (vcl.show, and where runtime errors are reported). */
  readonly sources: readonly SourceFile[];
  /** The body of `new Function('k', source)`; it returns `{ [subName]: function }`. */
  readonly source: string;
  /** What each element of `k` must be, in order. */
  readonly constants: readonly ConstSpec[];
  /** VCL positions by index: `t.at` holds one of these while code runs. */
  readonly positions: readonly Pos[];
  /** The subs generated as async functions. */
  readonly asyncSubs: readonly string[];
  /** Object instances `new` makes in vcl_init, in order, and those it may leave unmade ($Object NULL_OK). */
  readonly instances: readonly string[];
  readonly nullOkInstances: readonly string[];
  readonly imports: readonly CompiledImport[];
  readonly backends: readonly TBackend[];
  readonly probes: readonly TProbe[];
  /** The backend used when the VCL names none. */
  readonly defaultBackend?: string;
  readonly acls: readonly TAcl[];
  /** The sources of the regex literals, by the index ConstSpec `regex` holds. */
  readonly regexes: readonly string[];
  /** The number of PRIV_CALL call sites. */
  readonly privCallSites: number;
  /** VCL labels named by `return (vcl(label))`. */
  readonly labels: readonly string[];
}

/** Each field and what it must be; any other shape is refused before anything runs. */
const FIELDS: Readonly<Record<Exclude<keyof CompiledVcl, 'format' | 'defaultBackend'>, 'string' | 'number' | 'array'>> = {
  sources: 'array',
  source: 'string',
  constants: 'array',
  positions: 'array',
  asyncSubs: 'array',
  instances: 'array',
  nullOkInstances: 'array',
  imports: 'array',
  backends: 'array',
  probes: 'array',
  acls: 'array',
  regexes: 'array',
  privCallSites: 'number',
  labels: 'array',
};

/** A compiled VCL from its JSON text; throws VclLoadError when it is not one this code can load. */
export function parseCompiledVcl(text: string): CompiledVcl {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new VclLoadError(`Compiled VCL is not JSON: ${(e as Error).message}`);
  }
  if (typeof value !== 'object' || value === null) throw new VclLoadError('Compiled VCL is not an object');
  const v = value as Record<string, unknown>;
  if (v.format !== COMPILED_VCL_FORMAT) throw new VclLoadError(`Compiled VCL has format ${String(v.format)}, this Shellac loads ${COMPILED_VCL_FORMAT}`);
  for (const [field, kind] of Object.entries(FIELDS)) {
    const ok = kind === 'array' ? Array.isArray(v[field]) : typeof v[field] === kind;
    if (!ok) throw new VclLoadError(`Compiled VCL: '${field}' is not a${kind === 'array' ? 'n' : ''} ${kind}`);
  }
  if (v.defaultBackend !== undefined && typeof v.defaultBackend !== 'string') throw new VclLoadError(`Compiled VCL: 'defaultBackend' is not a string`);
  return value as CompiledVcl;
}
