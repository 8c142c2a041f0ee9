// The conformance suites: Varnish's own test cases (`vtc/<folder>`, each file run by the VTC
// runner against a fresh Shellac, as `shellac test` runs it) and real VCL from public projects
// (`vcl/accept`, `vcl/reject`). A suite names its cases without running them (the page and
// the list of passing cases need the names) and runs all of them or the named few (a failing
// case is run once more on its own).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkSource } from '../vcl/compile.ts';
import { formatDiagnostics } from '../vcl/diagnostics.ts';

/** How one case came out. `waiting` is a case that needs something Shellac does not have yet. */
export interface CaseOutcome {
  readonly name: string;
  readonly status: 'pass' | 'fail' | 'waiting';
  /** Why it failed or waits: shown under -v. */
  readonly detail?: string;
  /** The first line that says what went wrong: the first failure line of a VTC log. */
  readonly firstFailure?: string;
  /** How long it ran, when that is worth telling (a VTC file). */
  readonly seconds?: number;
}

export interface ConformanceSuite {
  /** `vcl/accept`, `vtc/core`: the name the count line starts with, and the folder under the root. */
  readonly name: string;
  /** The cases' names, sorted, without running them. */
  cases(): readonly string[];
  /** Runs the named cases (every case when `only` is absent), in the order of `cases()`. */
  run(only?: readonly string[]): Promise<readonly CaseOutcome[]> | readonly CaseOutcome[];
}

export interface SuiteOptions {
  /** VTC files run at once. */
  readonly jobs: number;
  /** Seconds one VTC file may take; the runner's default (varnishtest's 60) when absent. */
  readonly timeout?: number;
}

/** Makes the suites found under a conformance root; each part that has suites adds its maker. */
export type SuiteSource = (root: string, opts: SuiteOptions) => ConformanceSuite[];

export const SUITE_SOURCES: SuiteSource[] = [vclSuites, vtcSuites];

function pick(all: readonly string[], only: readonly string[] | undefined): readonly string[] {
  return only === undefined ? all : all.filter((n) => only.includes(n));
}

// ---------------------------------------------------------------------------------------------
// VTC: Varnish's own test cases, each run by the VTC runner against a fresh Shellac.

export function vtcSuites(root: string, opts: SuiteOptions): ConformanceSuite[] {
  const base = join(root, 'vtc');
  if (!existsSync(base)) return [];
  return readdirSync(base, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((folder) => {
      const dir = join(base, folder);
      const cases = () =>
        readdirSync(dir)
          .filter((f) => f.endsWith('.vtc'))
          .sort();
      return {
        name: `vtc/${folder}`,
        cases,
        run: async (only?: readonly string[]) => {
          const { runVtcFiles } = await import('../vtc/runner.ts');
          const files = pick(cases(), only).map((f) => join(dir, f));
          const summary = await runVtcFiles(files, { jobs: opts.jobs, keepGoing: true, timeout: opts.timeout });
          return summary.results.map((r) => ({
            name: r.file.slice(r.file.lastIndexOf('/') + 1),
            status: r.status === 'passed' ? ('pass' as const) : r.status === 'skipped' ? ('waiting' as const) : ('fail' as const),
            detail: r.reason,
            // varnishtest marks the line that failed a test with `----` (level 0).
            firstFailure: r.status === 'failed' ? (r.log.find((l) => l.startsWith('---- ')) ?? r.reason) : undefined,
            seconds: r.duration,
          }));
        },
      };
    });
}

// ---------------------------------------------------------------------------------------------
// VCL: accept/ must check clean, reject/ must be refused.

interface VclCase {
  readonly expect: 'accept' | 'reject';
  readonly vcl_path?: readonly string[];
}

/** `vcl/accept` and `vcl/reject`, from `<root>/vcl/{accept,reject}/<case>/{main.vcl,case.json}`. */
export function vclSuites(root: string): ConformanceSuite[] {
  return (['accept', 'reject'] as const).map((kind) => {
    const dir = join(root, 'vcl', kind);
    const cases = () => caseDirs(dir);
    return { name: `vcl/${kind}`, cases, run: (only?: readonly string[]) => pick(cases(), only).map((c) => runVclCase(join(dir, c), kind)) };
  });
}

function caseDirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

const MISSING_VMOD = /^Could not find VMOD '([^']+)'/;

function runVclCase(dir: string, kind: 'accept' | 'reject'): CaseOutcome {
  const name = dir.slice(dir.lastIndexOf('/') + 1);
  const fail = (detail: string): CaseOutcome => ({ name, status: 'fail', detail, firstFailure: detail.split('\n')[0] });
  let meta: VclCase;
  try {
    meta = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as VclCase;
  } catch (err) {
    return fail(`cannot read case.json: ${(err as Error).message}`);
  }
  const r = checkSource(join(dir, 'main.vcl'), { vclPath: (meta.vcl_path ?? []).map((p) => join(dir, p)) });
  const errors = r.diagnostics.sorted().filter((d) => d.severity === 'error');
  const shown = formatDiagnostics(errors, r.sources);
  if (kind === 'reject') {
    return r.checked ? fail('accepted, but Varnish refuses it') : { name, status: 'pass', detail: shown };
  }
  if (r.checked) return { name, status: 'pass' };
  // An accepted case that only lacks a VMOD Shellac does not ship yet waits for it.
  const missing = errors.map((d) => MISSING_VMOD.exec(d.message)?.[1]);
  if (missing.length > 0 && missing.every((m) => m !== undefined)) {
    return { name, status: 'waiting', detail: `waiting on VMOD ${[...new Set(missing)].join(', ')}` };
  }
  return fail(shown);
}
