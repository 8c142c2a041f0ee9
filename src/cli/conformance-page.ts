// docs/conformance.md, made from the passing list and the causes table alone, so the page can
// never say something the list does not: the counts are the list's, the failing cases are the
// table's. The update writes it after each run; `--check` renders it again and fails when the
// checked-in page differs.

import { CATEGORIES, type CategoryKey, type Cause, type PassingList } from './conformance-ledger.ts';

/** What the page needs of a suite: its name and its cases' names. */
export interface SuiteCases {
  readonly name: string;
  readonly cases: readonly string[];
}

const INTRO = `# Conformance: Varnish's own test cases and real VCL

Generated from one run by \`npm run conformance -- --update\`; do not edit by hand. The cases
come from \`../shared/conformance/\`: Varnish 7.1's test cases in \`vtc/\` (each passes on
varnishd 7.1.1 there), each run by the \`shellac test\` runner against a fresh Shellac, and real
VCL from public projects in \`vcl/\` (\`accept/\` must check clean, \`reject/\` must be refused).

## The ratchet

- [test/vtc/passing.txt](../test/vtc/passing.txt) lists the cases that pass. \`.ci/run\` runs
  \`npm run conformance -- --check -j 4\`: every case, four at a time, each bounded by
  varnishtest's 60 s. A listed case that fails is run once more on its own (timing under load) and fails the
  run if it fails again, named with the first failing line of its log; cases that pass
  unlisted are named as newly passing.
- \`npm run conformance -- --update [SUITE...]\` writes the list, the causes table and this page
  from one run, printing each case it adds and each it removes: it is the only way a case
  leaves the list.
- [test/vtc/causes.tsv](../test/vtc/causes.tsv) says why each other case does not pass. An update
  keeps the causes people wrote, records a new failure as not yet sorted with its first failing
  line, and drops the cases that pass. Edit the causes there, then
  \`npm run conformance -- --page-only\` writes this page again.`;

export function renderConformancePage(suites: readonly SuiteCases[], list: PassingList, causes: ReadonlyMap<string, Cause>): string {
  const out = [INTRO, '', `Last update: ${list.lastUpdate}.`, '', '## Counts', ''];
  out.push('| suite | passed | failed | waiting | total | pass rate |', '| --- | --- | --- | --- | --- | --- |');
  for (const s of suites) {
    const paths = s.cases.map((c) => `${s.name}/${c}`);
    const passed = paths.filter((p) => list.paths.has(p)).length;
    const waiting = paths.filter((p) => !list.paths.has(p) && causes.get(p)?.category === 'waiting').length;
    const total = paths.length;
    const rate = total === 0 ? '-' : `${((100 * passed) / total).toFixed(1)}%`;
    out.push(`| ${s.name} | ${passed} | ${total - passed - waiting} | ${waiting} | ${total} | ${rate} |`);
  }
  out.push('', '## Cases that do not pass, by cause', '');
  out.push(...Object.values(CATEGORIES).map((c) => `- **${c.heading}**: ${c.about}.`));
  for (const s of suites) out.push(...suiteSection(s, list, causes));
  return `${out.join('\n')}\n`;
}

function suiteSection(s: SuiteCases, list: PassingList, causes: ReadonlyMap<string, Cause>): string[] {
  const byCategory = new Map<CategoryKey | 'none', string[]>();
  for (const c of s.cases) {
    const path = `${s.name}/${c}`;
    if (list.paths.has(path)) continue;
    const cause = causes.get(path);
    const key = cause?.category ?? 'none';
    const lines = byCategory.get(key) ?? [];
    lines.push(`- \`${c}\`: ${cause?.text ?? 'not run by the last update'}`);
    byCategory.set(key, lines);
  }
  if (byCategory.size === 0) return [];
  const out: string[] = ['', `## ${s.name}`];
  for (const key of [...(Object.keys(CATEGORIES) as CategoryKey[]), 'none' as const]) {
    const lines = byCategory.get(key);
    if (!lines) continue;
    const heading = key === 'none' ? 'No cause recorded' : CATEGORIES[key].heading;
    out.push('', `### ${heading} (${lines.length})`, '', ...lines);
  }
  return out;
}
