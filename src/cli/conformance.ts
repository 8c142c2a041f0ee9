// `shellac conformance [--strict] [-v] [--root DIR] [SUITE...]`: runs the conformance suites
// (real VCL from public projects now; Varnish's own test cases once the VTC runner exists) and
// prints one `suite: N/M pass` line each. Failures are listed by name (with their errors under
// -v); the exit status stays 0 unless --strict, so CI can print the counts without failing.
//
// A suite is anything with a name and a `run` that judges its cases: another part adds its
// suites to SUITE_SOURCES below and they get a line of their own.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSource } from '../vcl/compile.ts';
import { formatDiagnostics } from '../vcl/diagnostics.ts';
import { parseArgs, UsageError } from './args.ts';

/** How one case came out. `waiting` is a case that needs something Shellac does not have yet. */
export interface CaseOutcome {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'waiting';
  /** Why it failed or waits: shown under -v. */
  readonly detail?: string;
}

export interface ConformanceSuite {
  /** `vcl/accept`, `vtc/core`: the name the count line starts with. */
  readonly name: string;
  run(): Promise<readonly CaseOutcome[]> | readonly CaseOutcome[];
}

/** Where the suites' material lives: the shared conformance folder beside the repository. */
export const DEFAULT_CONFORMANCE_ROOT = fileURLToPath(new URL('../../../shared/conformance/', import.meta.url));

/** Makes the suites found under a conformance root; each part that has suites adds its maker. */
export type SuiteSource = (root: string) => ConformanceSuite[];

export const SUITE_SOURCES: SuiteSource[] = [vclSuites, vtcSuites];

// ---------------------------------------------------------------------------------------------
// VTC: Varnish's own test cases, each run by `shellac test` against a fresh Shellac.

/** Files run at once: these machines have 2 cores, and each file starts its own server. */
const VTC_JOBS = 3;

export function vtcSuites(root: string): ConformanceSuite[] {
  const base = join(root, 'vtc');
  if (!existsSync(base)) return [];
  return readdirSync(base, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => ({
      name: `vtc/${d.name}`,
      run: async () => {
        const { runVtcFiles } = await import('../vtc/runner.ts');
        const dir = join(base, d.name);
        const files = readdirSync(dir)
          .filter((f) => f.endsWith('.vtc'))
          .sort()
          .map((f) => join(dir, f));
        const summary = await runVtcFiles(files, { jobs: VTC_JOBS, keepGoing: true, timeout: 60 });
        return summary.results.map((r) => ({
          name: r.file.slice(r.file.lastIndexOf('/') + 1),
          status: r.status === 'passed' ? ('pass' as const) : r.status === 'skipped' ? ('waiting' as const) : ('fail' as const),
          detail: r.reason,
        }));
      },
    }));
}

// ---------------------------------------------------------------------------------------------
// VCL: accept/ must check clean, reject/ must be refused.

interface VclCase {
  readonly expect: 'accept' | 'reject';
  readonly vcl_path?: readonly string[];
}

/** `vcl/accept` and `vcl/reject`, from `<root>/vcl/{accept,reject}/<case>/{main.vcl,case.json}`. */
export function vclSuites(root: string): ConformanceSuite[] {
  return (['accept', 'reject'] as const).map((kind) => ({
    name: `vcl/${kind}`,
    run: () => caseDirs(join(root, 'vcl', kind)).map((dir) => runVclCase(dir, kind)),
  }));
}

function caseDirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => join(dir, e.name))
    .sort();
}

const MISSING_VMOD = /^Could not find VMOD '([^']+)'/;

function runVclCase(dir: string, kind: 'accept' | 'reject'): CaseOutcome {
  const name = dir.slice(dir.lastIndexOf('/') + 1);
  let meta: VclCase;
  try {
    meta = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as VclCase;
  } catch (err) {
    return { name, status: 'fail', detail: `cannot read case.json: ${(err as Error).message}` };
  }
  const r = checkSource(join(dir, 'main.vcl'), { vclPath: (meta.vcl_path ?? []).map((p) => join(dir, p)) });
  const errors = r.diagnostics.sorted().filter((d) => d.severity === 'error');
  const shown = formatDiagnostics(errors, r.sources);
  if (kind === 'reject') {
    return r.checked ? { name, status: 'fail', detail: 'accepted, but Varnish refuses it' } : { name, status: 'pass', detail: shown };
  }
  if (r.checked) return { name, status: 'pass' };
  // An accepted case that only lacks a VMOD Shellac does not ship yet waits for it.
  const missing = errors.map((d) => MISSING_VMOD.exec(d.message)?.[1]);
  if (missing.length > 0 && missing.every((m) => m !== undefined)) {
    return { name, status: 'waiting', detail: `waiting on VMOD ${[...new Set(missing)].join(', ')}` };
  }
  return { name, status: 'fail', detail: shown };
}

// ---------------------------------------------------------------------------------------------
// The command

const FLAGS = {
  '--strict': { value: false },
  '-v': { value: false },
  '--root': { value: true },
} as const;

export const CONFORMANCE_USAGE = 'usage: shellac conformance [--strict] [-v] [--root DIR] [SUITE...]';

export interface SuiteCount {
  readonly name: string;
  readonly pass: number;
  readonly total: number;
  readonly outcomes: readonly CaseOutcome[];
}

/** Runs suites one after the other; `only` picks suites by name or name prefix (`vcl`). */
export async function runSuites(suites: readonly ConformanceSuite[], only: readonly string[] = []): Promise<SuiteCount[]> {
  const picked = only.length === 0 ? suites : suites.filter((s) => only.some((o) => s.name === o || s.name.startsWith(`${o}/`)));
  const counts: SuiteCount[] = [];
  for (const suite of picked) {
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

/** Exit status: 0, or 1 under --strict when a case failed (waiting cases do not fail). */
export async function runConformance(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, FLAGS);
  const root = args.flags.get('--root')?.[0] ?? DEFAULT_CONFORMANCE_ROOT;
  if (!existsSync(root)) throw new UsageError(`no conformance material at ${root}`);
  const suites = SUITE_SOURCES.flatMap((make) => make(root));
  const unknown = args.positional.filter((p) => !suites.some((s) => s.name === p || s.name.startsWith(`${p}/`)));
  if (unknown.length > 0) throw new UsageError(`unknown suite ${unknown.join(', ')}; known: ${suites.map((s) => s.name).join(', ')}`);
  const counts = await runSuites(suites, args.positional);
  const verbose = args.flags.has('-v');
  for (const c of counts) process.stdout.write(`${formatCount(c, verbose)}\n`);
  const failed = counts.some((c) => c.outcomes.some((o) => o.status === 'fail'));
  return failed && args.flags.has('--strict') ? 1 : 0;
}
