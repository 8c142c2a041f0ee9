// The ratchet: a conformance case that passes must keep passing. `--check` runs the suites and
// fails when a case of the passing list fails (after one more run on its own: timing cases on a
// loaded machine), names what now passes unlisted, and checks the page against the list.
// `--update` runs them and writes the list, the causes table and the page from that one run;
// it is the only way a case leaves the list, and it prints each one it removes.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../common/args.ts';
import { type Cause, oneLine, type PassingList, readCauses, readPassingList, writeCauses, writePassingList } from './conformance-ledger.ts';
import { renderConformancePage, type SuiteCases } from './conformance-page.ts';
import type { CaseOutcome, ConformanceSuite } from './conformance-suites.ts';

export interface LedgerFiles {
  readonly root: string;
  readonly list: string;
  readonly causes: string;
  readonly page: string;
}

export interface RatchetRun {
  /** Every suite under the root: the page and the list cover them all. */
  readonly all: readonly ConformanceSuite[];
  /** The suites this run runs. */
  readonly picked: readonly ConformanceSuite[];
  /** Whether the suites were named on the command line (else every one runs). */
  readonly named: boolean;
  readonly jobs: number;
  readonly out: (line: string) => void;
}

/** path → outcome, the listed failures already run once more on their own. */
type Outcomes = Map<string, CaseOutcome>;

/** Slow cases named after a run. */
const SLOWEST_SHOWN = 5;

const casePath = (suite: ConformanceSuite, name: string) => `${suite.name}/${name}`;

/** Runs the picked suites, one count line each, then each failed case `again` picks, alone. */
async function runPicked(run: RatchetRun, again: (path: string) => boolean): Promise<Outcomes> {
  const started = performance.now();
  const outcomes: Outcomes = new Map();
  for (const s of run.picked) {
    const got = await s.run();
    for (const o of got) outcomes.set(casePath(s, o.name), o);
    const pass = got.filter((o) => o.status === 'pass').length;
    run.out(`${s.name}: ${pass}/${got.length} pass`);
  }
  // Where the time went: a CI run that grows slow says which cases to look at.
  const slowest = [...outcomes].filter(([, o]) => o.seconds !== undefined).sort(([, a], [, b]) => b.seconds! - a.seconds!);
  const shown = slowest.slice(0, SLOWEST_SHOWN).map(([p, o]) => `${p} ${o.seconds!.toFixed(1)} s`);
  run.out(`${outcomes.size} cases in ${Math.round((performance.now() - started) / 1000)} s at -j ${run.jobs}; slowest: ${shown.join(', ') || 'none'}`);
  for (const s of run.picked) {
    for (const name of s.cases()) {
      const path = casePath(s, name);
      if (outcomes.get(path)?.status !== 'fail' || !again(path)) continue;
      run.out(`${path}: failed (${firstLine(outcomes.get(path)!)}); running it again on its own`);
      const [alone] = await s.run([name]);
      if (alone) outcomes.set(path, alone);
      if (alone?.status === 'pass') run.out(`${path}: passed on its own`);
    }
  }
  return outcomes;
}

function firstLine(o: CaseOutcome): string {
  return (o.firstFailure ?? o.detail ?? o.status).split('\n')[0];
}

/** Whether a listed path belongs to this run: its suite ran, or it names no suite and all ran. */
function inScope(run: RatchetRun, path: string): boolean {
  if (run.picked.some((s) => path.startsWith(`${s.name}/`))) return true;
  return !run.named && !run.all.some((s) => path.startsWith(`${s.name}/`));
}

function suiteCases(all: readonly ConformanceSuite[]): SuiteCases[] {
  return all.map((s) => ({ name: s.name, cases: s.cases() }));
}

/** Exit status 1 when a listed case failed (twice) or the page disagrees with the list. */
export async function checkRatchet(run: RatchetRun, files: LedgerFiles): Promise<number> {
  if (!existsSync(files.list)) throw new UsageError(`no passing list at ${files.list}: write it with --update`);
  const list = readPassingList(files.list);
  const outcomes = await runPicked(run, (p) => list.paths.has(p));
  let passed = 0;
  let failed = 0;
  for (const path of [...list.paths].sort()) {
    if (!inScope(run, path)) continue;
    const o = outcomes.get(path);
    if (o?.status === 'pass') {
      passed++;
      continue;
    }
    failed++;
    run.out(`FAIL ${path}: ${o === undefined ? 'listed, but there is no such case' : firstLine(o)}`);
    if (path.endsWith('.vtc') && o !== undefined) run.out(`  its log: shellac test -v ${join(files.root, path)}`);
  }
  const fresh = [...outcomes].filter(([p, o]) => o.status === 'pass' && !list.paths.has(p)).map(([p]) => p);
  if (fresh.length > 0) run.out(`newly passing: add them with --update\n${fresh.map((p) => `  ${p}`).join('\n')}`);
  const page = renderConformancePage(suiteCases(run.all), list, readCauses(files.causes));
  if (!existsSync(files.page) || readFileSync(files.page, 'utf8') !== page) {
    failed++;
    run.out(`FAIL ${files.page}: differs from what the list and the causes make; write it with --page-only`);
  }
  run.out(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

/** Writes the list, the causes and the page from one run; prints what entered and left the list. */
export async function updateRatchet(run: RatchetRun, files: LedgerFiles): Promise<number> {
  const started = performance.now();
  const old = readPassingList(files.list);
  const oldCauses = readCauses(files.causes);
  // A case fails for good only alone, unless the table already says why it fails.
  const outcomes = await runPicked(run, (p) => old.paths.has(p) || !oldCauses.has(p));
  const seconds = Math.round((performance.now() - started) / 1000);
  const paths = new Set([...old.paths].filter((p) => !inScope(run, p)));
  for (const [p, o] of outcomes) if (o.status === 'pass') paths.add(p);
  for (const p of [...old.paths].sort()) {
    if (paths.has(p)) continue;
    const o = outcomes.get(p);
    run.out(`removed: ${p} (${o === undefined ? 'no such case' : firstLine(o)})`);
  }
  for (const p of [...paths].sort()) if (!old.paths.has(p)) run.out(`added: ${p}`);

  const causes = updateCauses(run, oldCauses, outcomes);
  const suites = run.named ? run.picked.map((s) => s.name).join(' ') : 'every suite';
  const list: PassingList = { lastUpdate: `${runStamp()}, ${suites}, ${seconds} s at -j ${run.jobs} (load average ${loadavg()[0].toFixed(2)})`, paths };
  writePassingList(files.list, list);
  writeCauses(files.causes, causes);
  writePage(run, files);
  run.out(`${files.list}: ${paths.size} cases pass; ${causes.size} do not (${files.causes})`);
  return 0;
}

/** Keeps the causes people wrote; records a new failure as unsorted; drops what passes or is gone. */
function updateCauses(run: RatchetRun, old: ReadonlyMap<string, Cause>, outcomes: Outcomes): Map<string, Cause> {
  const causes = new Map([...old].filter(([p]) => !inScope(run, p) || (outcomes.has(p) && outcomes.get(p)!.status !== 'pass')));
  for (const [p, o] of outcomes) {
    if (o.status === 'pass') continue;
    const kept = causes.get(p);
    const found: Cause = { category: o.status === 'waiting' ? 'waiting' : 'unsorted', text: oneLine(firstLine(o), 200) };
    // What a person wrote stays; what a run wrote is replaced by this run's words.
    if (kept === undefined || kept.category === 'unsorted' || kept.category === 'waiting') causes.set(p, found);
  }
  return causes;
}

/** `--page-only`: the page again from the list and the causes, nothing run. */
export function writePage(run: Pick<RatchetRun, 'all'>, files: LedgerFiles): void {
  writeFileSync(files.page, renderConformancePage(suiteCases(run.all), readPassingList(files.list), readCauses(files.causes)));
}

/** `2026-12-07, commit 06db843`: when, and on what, the list was written. */
function runStamp(): string {
  const date = new Date().toISOString().slice(0, 10);
  const git = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' });
  return git.status === 0 ? `${date}, commit ${git.stdout.trim()}` : date;
}
