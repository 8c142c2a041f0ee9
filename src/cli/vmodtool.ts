// `shellac vmodtool`: regenerate a VMOD's interface.ts and manual page from its manifest, check
// that they are current, or scaffold a new VMOD.

import { relative } from 'node:path';
import {
  type GeneratedFile,
  generateFor,
  REPO_ROOT,
  scaffold,
  staleFiles,
  writeFiles,
} from '../vmod/vmodtool.ts';
import { parseArgs, UsageError } from '../common/args.ts';

const FLAGS = {
  '--new': { value: true },
  '--dir': { value: true },
  '--docs': { value: true },
  '--check': { value: false },
} as const;

export const VMODTOOL_USAGE =
  'usage: shellac vmodtool [--check] [--docs DIR] vmods/NAME/vmod.vcc... | --new NAME [--dir VMODS_DIR] [--docs DIR]';

function show(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}

/** Returns the exit status: 0 done (or current), 1 a manifest was refused or files are stale, 2 usage. */
export function runVmodtool(argv: readonly string[]): number {
  const args = parseArgs(argv, FLAGS);
  const docs = args.flags.get('--docs')?.[0];
  const name = args.flags.get('--new')?.[0];
  if (name !== undefined) {
    if (args.positional.length > 0 || args.flags.has('--check')) throw new UsageError('--new takes no manifest and no --check');
    const vmodsDir = args.flags.get('--dir')?.[0] ?? `${REPO_ROOT}vmods`;
    const files = scaffold(name, vmodsDir, docs);
    if ('error' in files) {
      process.stderr.write(`shellac vmodtool: ${files.error}\n`);
      return 1;
    }
    for (const path of writeFiles(files)) process.stdout.write(`wrote ${show(path)}\n`);
    return 0;
  }
  if (args.flags.has('--dir')) throw new UsageError('--dir goes with --new');
  if (args.positional.length === 0) throw new UsageError('vmodtool needs a manifest (vmods/NAME/vmod.vcc) or --new NAME');
  const all: GeneratedFile[] = [];
  for (const vcc of args.positional) {
    const generated = generateFor(vcc, docs);
    if ('error' in generated) {
      process.stderr.write(`${generated.error}\n`);
      return 1;
    }
    all.push(...generated.files);
  }
  if (args.flags.has('--check')) {
    const stale = staleFiles(all);
    for (const f of stale) process.stderr.write(`${show(f.path)} is out of date: run shellac vmodtool\n`);
    return stale.length > 0 ? 1 : 0;
  }
  const written = writeFiles(all);
  for (const path of written) process.stdout.write(`wrote ${show(path)}\n`);
  if (written.length === 0) process.stdout.write('all files are up to date\n');
  return 0;
}
