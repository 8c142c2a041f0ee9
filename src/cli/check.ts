// `shellac check FILE [-I DIR]... [--ast] [--js]`: compile a VCL without running it. Prints the
// errors (file:line:col, the source line, a caret) or one line saying it is fine; `--js` prints
// the generated JavaScript instead, commented with the VCL line each part comes from.

import { generateWithVmods } from '../runtime/compile-vcl.ts';
import { bindVmods } from '../runtime/load-vcl.ts';
import { formatDiagnostics, type SourceFile } from '../vcl/diagnostics.ts';
import type { CheckedVcl } from '../vcl/tir.ts';
import type { BoundVmod } from '../vmod/bind.ts';
import { checkSource } from '../vcl/compile.ts';
import { parseArgs, UsageError } from '../common/args.ts';

const FLAGS = {
  '-I': { value: true, repeat: true },
  '-M': { value: true, repeat: true },
  '--ast': { value: false },
  '--js': { value: false },
  '--no-builtin': { value: false },
  '--warn-unused': { value: false },
  '--no-impl': { value: false },
} as const;

export const CHECK_USAGE = 'usage: shellac check FILE [-I DIR]... [-M VMOD_DIR]... [--ast] [--js] [--no-builtin] [--warn-unused] [--no-impl]';

/** Returns the exit status: 0 clean, 1 VCL errors, 2 usage. */
export function runCheck(argv: readonly string[]): number | Promise<number> {
  const args = parseArgs(argv, FLAGS);
  if (args.positional.length !== 1) throw new UsageError('check takes one VCL file');
  const file = args.positional[0];
  const result = checkSource(file, {
    vclPath: args.flags.get('-I'),
    vmodPath: args.flags.get('-M'),
    noBuiltin: args.flags.has('--no-builtin'),
    errUnref: !args.flags.has('--warn-unused'),
  });
  const list = result.diagnostics.sorted();
  if (list.length > 0) process.stderr.write(`${formatDiagnostics(list, result.sources)}\n`);
  if (!result.checked) {
    const n = result.diagnostics.errorCount;
    process.stderr.write(`${file}: ${n} error${n === 1 ? '' : 's'}\n`);
    return 1;
  }
  if (args.flags.has('--ast')) {
    process.stdout.write(`${JSON.stringify(result.program, null, 2)}\n`);
    return 0;
  }
  if (args.flags.has('--js')) return printJs(result.checked, result.sources, file, args.flags.get('-M'));
  if (!args.flags.has('--no-impl')) return checkImplementations(result.checked, file, args.flags.get('-M'));
  return summary(result.checked, file);
}

/**
 * Loads each imported VMOD's implementation (and those they require) and runs the binder's
 * checks, as vcl.load would: a missing export, a wrong arity, an implementation that does not
 * load. `--no-impl` skips this.
 */
async function checkImplementations(checked: CheckedVcl, file: string, vmodPath: readonly string[] | undefined): Promise<number> {
  try {
    await bindVmods(checked.imports, vmodPath);
  } catch (e) {
    process.stderr.write(`${file}: ${(e as Error).message}\n`);
    return 1;
  }
  return summary(checked, file);
}

function summary(c: CheckedVcl, file: string): number {
  const subs = [...c.subs.values()].filter((s) => s.pos.file === 0).length;
  process.stdout.write(
    `${file}: OK (VCL ${(c.version / 10).toFixed(1)}, ${plural(c.backends.length, 'backend')}, ${plural(subs, 'sub')}, ${plural(c.imports.length, 'import')})\n`,
  );
  return 0;
}

/** The generated code; VMOD implementations are loaded to know which calls are awaited. */
async function printJs(checked: CheckedVcl, sources: readonly SourceFile[], file: string, vmodPath?: readonly string[]): Promise<number> {
  let vmods: Map<string, BoundVmod>;
  try {
    vmods = await bindVmods(checked.imports, vmodPath);
  } catch (e) {
    process.stderr.write(`${file}: ${(e as Error).message}\n(calls into it are shown as synchronous)\n`);
    vmods = new Map();
  }
  process.stdout.write(generateWithVmods(checked, sources, file, vmods).source);
  return 0;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
