// The compile pipeline, in order: sources and includes → tokens → CST → AST (parse.ts), then
// builtin.vcl appended, then symbols and checks → typed IR (check.ts). Code generation takes
// the typed IR from here.

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Program } from './ast.ts';
import { checkVcl } from './check.ts';
import { Diagnostics, type SourceFile } from './diagnostics.ts';
import { type ParseOptions, parseVcl, type VclInput } from './parse.ts';
import type { CheckedVcl } from './tir.ts';
import { compileVclRegex } from '../common/regex.ts';
import { DEFAULT_VMOD_PATH, loadManifest } from '../vmod/registry.ts';

export interface CompileOptions extends ParseOptions {
  /** Directories searched for `import NAME;` before the VMODs Shellac ships. */
  readonly vmodPath?: readonly string[];
  /** Storage names VCL may refer to as `storage.NAME`. */
  readonly storages?: readonly string[];
  /** Report unused backends, probes, ACLs and subs as errors (Varnish's default) or warnings. */
  readonly errUnref?: boolean;
  /** Leave builtin.vcl out (for looking at the user's VCL alone). */
  readonly noBuiltin?: boolean;
}

export interface CheckResult {
  readonly checked?: CheckedVcl;
  readonly program?: Program;
  readonly sources: SourceFile[];
  readonly diagnostics: Diagnostics;
}

const BUILTIN_NAME = '<builtin>';
let builtinText: string | undefined;

/** Shellac's builtin.vcl, as shipped beside this file. */
export function builtinVcl(): string {
  builtinText ??= readFileSync(fileURLToPath(new URL('./builtin.vcl', import.meta.url)), 'utf8');
  return builtinText;
}

/** Parses and checks a VCL: the front half of the compiler. */
export function checkSource(input: VclInput, opts: CompileOptions = {}): CheckResult {
  const parsed = parseVcl(input, opts);
  const { sources, diagnostics } = parsed;
  if (!parsed.program) return { sources, diagnostics };
  const program = parsed.program;
  let decls = program.decls;
  let builtinFile: number | undefined;
  if (!opts.noBuiltin) {
    builtinFile = sources.length;
    const builtin = parseVcl({ name: BUILTIN_NAME, text: builtinVcl() }, { sources });
    if (!builtin.program) {
      for (const d of builtin.diagnostics.list) diagnostics.list.push(d);
      return { program, sources, diagnostics };
    }
    decls = [...decls, ...builtin.program.decls];
  }
  const checked = checkVcl(
    {
      version: program.version,
      decls,
      sources,
      builtinFile,
      errUnref: opts.errUnref,
      storages: opts.storages,
      resolveVmod: (name, from) => loadManifest(name, { from, vmodPath: [...(opts.vmodPath ?? []), ...DEFAULT_VMOD_PATH] }),
      checkRegex: (source) => {
        const r = compileVclRegex(source);
        return 'error' in r ? r.error : undefined;
      },
    },
    diagnostics,
  );
  if (diagnostics.hasErrors) return { program, sources, diagnostics };
  return { checked, program, sources, diagnostics };
}

export { Diagnostics };
