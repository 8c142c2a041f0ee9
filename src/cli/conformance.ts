// `shellac conformance [--check | --update | --page-only] [-j N] [-t S] [--strict] [-v]
// [--root DIR] [--list FILE] [--causes FILE] [--page FILE] [SUITE...]`: runs the conformance
// suites (real VCL from public projects, Varnish's own test cases; see conformance-suites.ts).
//
// Without a mode it prints one `suite: N/M pass` line each, then the cases that did not pass
// (with their errors under -v); the exit status stays 0 unless --strict. The modes are the
// ratchet (conformance-ratchet.ts): --check is what CI runs, --update writes the passing list,
// the causes table and docs/conformance.md from one run, --page-only writes the page alone.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, positiveNumber, UsageError } from '../common/args.ts';
import { checkRatchet, type LedgerFiles, updateRatchet, writePage } from './conformance-ratchet.ts';
import { type CaseOutcome, type ConformanceSuite, SUITE_SOURCES } from './conformance-suites.ts';

export type { CaseOutcome, ConformanceSuite } from './conformance-suites.ts';
export { vclSuites, vtcSuites } from './conformance-suites.ts';

const repoFile = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/** Where the suites' material lives: the shared conformance folder beside the repository. */
export const DEFAULT_CONFORMANCE_ROOT = repoFile('../shared/conformance/');

/** The ratchet's files in the repository; the flags point elsewhere (the tests' temp folders). */
const DEFAULT_FILES = { list: 'test/vtc/passing.txt', causes: 'test/vtc/causes.tsv', page: 'docs/conformance.md' } as const;

/** VTC files run at once: these machines have 2 cores, and each file starts its own Shellac. */
const VTC_JOBS = 2;

const FLAGS = {
  '--check': { value: false },
  '--update': { value: false },
  '--page-only': { value: false },
  '--strict': { value: false },
  '-v': { value: false },
  '-j': { value: true },
  '-t': { value: true },
  '--root': { value: true },
  '--list': { value: true },
  '--causes': { value: true },
  '--page': { value: true },
} as const;

export const CONFORMANCE_USAGE =
  'usage: shellac conformance [--check | --update | --page-only] [-j N] [-t SECONDS] [--strict] [-v] [--root DIR] [--list FILE] [--causes FILE] [--page FILE] [SUITE...]';

export interface SuiteCount {
  readonly name: string;
  readonly pass: number;
  readonly total: number;
  readonly outcomes: readonly CaseOutcome[];
}

/** The suites named by name or name prefix (`vcl`), or all of them. */
export function pickSuites(suites: readonly ConformanceSuite[], only: readonly string[]): readonly ConformanceSuite[] {
  return only.length === 0 ? suites : suites.filter((s) => only.some((o) => s.name === o || s.name.startsWith(`${o}/`)));
}

/** Runs suites one after the other; `only` picks suites by name or name prefix (`vcl`). */
export async function runSuites(suites: readonly ConformanceSuite[], only: readonly string[] = []): Promise<SuiteCount[]> {
  const counts: SuiteCount[] = [];
  for (const suite of pickSuites(suites, only)) {
    const outcomes = await suite.run();
    counts.push({ name: suite.name, pass: outcomes.filter((o) => o.status === 'pass').length, total: outcomes.length, outcomes });
  }
  return counts;
}

/** `vcl/accept: 21/22 pass (1 waiting on a VMOD)`, then the cases that did not pass. */
export function formatCount(c: SuiteCount, verbose: boolean): string {
  const waiting = c.outcomes.filter((o) => o.status === 'waiting').length;
  const lines = [`${c.name}: ${c.pass}/${c.total} pass${waiting ? ` (${waiting} waiting on a VMOD)` : ''}`];
  for (const o of c.outcomes) {
    if (o.status === 'pass') continue;
    lines.push(`  ${o.status === 'fail' ? 'FAIL' : 'WAIT'} ${o.name}`);
    if (verbose && o.detail) lines.push(...o.detail.split('\n').map((l) => `    ${l}`));
  }
  return lines.join('\n');
}

/** Exit status: 0; 1 when --check finds a listed case failing, or --strict any failure. */
export async function runConformance(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, FLAGS);
  const modes = (['--check', '--update', '--page-only'] as const).filter((m) => args.flags.has(m));
  if (modes.length > 1) throw new UsageError(`${modes.join(' and ')} do not go together`);
  const flag = (name: keyof typeof FLAGS) => args.flags.get(name)?.[0];
  const root = flag('--root') ?? DEFAULT_CONFORMANCE_ROOT;
  if (!existsSync(root)) throw new UsageError(`no conformance material at ${root}`);
  const jobs = Math.floor(positiveNumber('-j', flag('-j'), VTC_JOBS));
  const timeout = flag('-t') === undefined ? undefined : positiveNumber('-t', flag('-t'), 0);
  const suites = SUITE_SOURCES.flatMap((make) => make(root, { jobs, timeout }));
  const unknown = args.positional.filter((p) => pickSuites(suites, [p]).length === 0);
  if (unknown.length > 0) throw new UsageError(`unknown suite ${unknown.join(', ')}; known: ${suites.map((s) => s.name).join(', ')}`);

  const out = (line: string) => process.stdout.write(`${line}\n`);
  const files: LedgerFiles = {
    root,
    list: flag('--list') ?? repoFile(DEFAULT_FILES.list),
    causes: flag('--causes') ?? repoFile(DEFAULT_FILES.causes),
    page: flag('--page') ?? repoFile(DEFAULT_FILES.page),
  };
  const run = { all: suites, picked: pickSuites(suites, args.positional), named: args.positional.length > 0, jobs, out };
  if (modes[0] === '--check') return checkRatchet(run, files);
  if (modes[0] === '--update') return updateRatchet(run, files);
  if (modes[0] === '--page-only') {
    writePage(run, files);
    out(`${files.page}: written from ${files.list} and ${files.causes}`);
    return 0;
  }

  const counts = await runSuites(suites, args.positional);
  const verbose = args.flags.has('-v');
  for (const c of counts) out(formatCount(c, verbose));
  const failed = counts.some((c) => c.outcomes.some((o) => o.status === 'fail'));
  return failed && args.flags.has('--strict') ? 1 : 0;
}
