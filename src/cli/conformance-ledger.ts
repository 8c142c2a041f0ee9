// The two checked-in files the ratchet keeps: the list of conformance cases that pass
// (test/vtc/passing.txt) and the table of why the others do not (test/vtc/causes.tsv). A case
// is named by its path under the conformance root: `vtc/core/b00001.vtc`, `vcl/accept/foo`.
// Both are written by `shellac conformance --update` only; the causes are the one part people
// edit, to say in words what the last update could only quote from a log.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { UsageError } from '../common/args.ts';

/** The passing list: its comment lines (what wrote it and when), then the paths. */
export interface PassingList {
  /** The line that says which run wrote it (`Last update: ...`), shown on the page. */
  readonly lastUpdate: string;
  readonly paths: ReadonlySet<string>;
}

/** Why a case does not pass: which kind of reason, and the reason in words. */
export interface Cause {
  readonly category: CategoryKey;
  readonly text: string;
}

/**
 * The kinds of reason, in the order the page shows them. `unsorted` is a failure the update
 * found with no cause written yet (its text is the first failing line); `waiting` is a case the
 * suite itself set aside (a VMOD Shellac lacks, a runner feature not built).
 */
export const CATEGORIES = {
  missing: { heading: 'Missing feature', about: 'Shellac lacks it yet' },
  difference: { heading: 'Behaviour difference', about: 'Shellac does it otherwise; to fix in Shellac, or a limit we live with' },
  internals: { heading: 'Varnish internals', about: 'the case checks something with no meaning in Shellac: threads, memory pools, waiters' },
  runner: { heading: 'Runner limitation', about: 'the runner, not Shellac' },
  timing: { heading: 'Timing', about: 'fails under load, passes alone' },
  waiting: { heading: 'Waiting', about: 'set aside by the suite: it needs a VMOD or a runner feature Shellac lacks' },
  unsorted: { heading: 'Not yet sorted', about: 'failing since the last update, no cause written yet: the text is its first failing line' },
} as const satisfies Record<string, { heading: string; about: string }>;

export type CategoryKey = keyof typeof CATEGORIES;

const LIST_HEAD = [
  '# Conformance cases that pass: one path under ../shared/conformance/ per line.',
  '# Written by `npm run conformance -- --update`, never by hand; .ci/run fails when one of them fails.',
];

const CAUSES_HEAD = [
  '# Why each conformance case not in passing.txt does not pass: path, category, cause (tab-separated).',
  `# Categories: ${Object.keys(CATEGORIES).join(', ')}. Edit the causes; \`npm run conformance -- --update\``,
  '# adds new failures as unsorted and drops cases that pass. Then `npm run conformance -- --page-only`.',
];

const UPDATE_PREFIX = '# Last update: ';

export function readPassingList(file: string): PassingList {
  if (!existsSync(file)) return { lastUpdate: 'never', paths: new Set() };
  let lastUpdate = 'unknown';
  const paths = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith(UPDATE_PREFIX)) lastUpdate = line.slice(UPDATE_PREFIX.length);
    else if (line.trim() !== '' && !line.startsWith('#')) paths.add(line.trim());
  }
  return { lastUpdate, paths };
}

export function writePassingList(file: string, list: PassingList): void {
  const lines = [...LIST_HEAD, `${UPDATE_PREFIX}${list.lastUpdate}`, ...[...list.paths].sort()];
  writeFileSync(file, `${lines.join('\n')}\n`);
}

/** Reads the causes table; a line that does not parse is an error naming it, not a silent skip. */
export function readCauses(file: string): Map<string, Cause> {
  const causes = new Map<string, Cause>();
  if (!existsSync(file)) return causes;
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const [path, category, ...rest] = line.split('\t');
    if (path === undefined || category === undefined || rest.length === 0 || !(category in CATEGORIES)) {
      throw new UsageError(`${file}:${i + 1}: expected PATH<tab>CATEGORY<tab>CAUSE with a category of ${Object.keys(CATEGORIES).join(', ')}`);
    }
    causes.set(path, { category: category as CategoryKey, text: rest.join(' ') });
  });
  return causes;
}

export function writeCauses(file: string, causes: ReadonlyMap<string, Cause>): void {
  const rows = [...causes.keys()].sort().map((p) => {
    const c = causes.get(p)!;
    return `${p}\t${c.category}\t${oneLine(c.text)}`;
  });
  writeFileSync(file, `${[...CAUSES_HEAD, ...rows].join('\n')}\n`);
}

/** A cause is one table cell: no tabs, no line breaks, and (for what a run wrote) not endless. */
export function oneLine(text: string, max = Number.POSITIVE_INFINITY): string {
  const flat = text.replace(/[\t\r\n]+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 3)}...` : flat;
}
