// The cache process's code, stripped of types by the manager (src/mgmt/child-code.ts) and loaded
// by the child's hook (src/mgmt/child-hooks.mjs): every source gets its stripped copy once, the
// copies of sources that are gone go, and a process with the hook runs the copy of a source as
// it is now, never a stale one (a changed source has no copy and is stripped by Node). The copies
// are shared by every work dir of a user, in a directory only that user can write.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { childCodeDir, prepareChildCode } from '../../src/mgmt/child-code.ts';
import { NODE, ROOT } from './helpers.ts';

const HOOKS = join(ROOT, 'src/mgmt/child-hooks.mjs');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'child-code-'));
  dirs.push(d);
  return d;
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

describe("the child's code", () => {
  it('is stripped once per source content, and copies no source wanted for a week are dropped', () => {
    const dir = tempDir();
    const gone = join(dir, `${sha('gone')}.js`);
    const lately = join(dir, `${sha('another checkout')}.js`);
    writeFileSync(gone, 'export {};');
    writeFileSync(lately, 'export {};');
    const weekAgo = new Date(Date.now() - 8 * 86_400_000);
    utimesSync(gone, weekAgo, weekAgo);
    const first = prepareChildCode(dir);
    expect(first?.stripped).toBeGreaterThan(200);
    expect(first?.env.SHELLAC_CHILD_CODE).toBe(dir);
    expect(first?.execArgv).toEqual(['--import', `file://${HOOKS}`]);
    expect(readdirSync(dir)).not.toContain(`${sha('gone')}.js`);
    expect(readdirSync(dir)).toContain(`${sha('another checkout')}.js`);
    expect(readdirSync(dir)).toHaveLength(first!.stripped + 1);
    expect(prepareChildCode(dir)?.stripped).toBe(0);
  });

  it("lives in the user's own shared directory, or the work dir's when that one is not safe", () => {
    const work = tempDir();
    const shared = childCodeDir(work);
    expect(shared).toBe(join(tmpdir(), `shellac-code-${process.getuid!()}`));
    expect(statSync(shared).mode & 0o077).toBe(0);
    // A link where the shared directory would be is not followed.
    const tmp = tempDir();
    symlinkSync(work, join(tmp, `shellac-code-${process.getuid!()}`));
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      expect(childCodeDir(work)).toBe(join(work, '_.code'));
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  });

  it('runs the stripped copy of a source as it is now, and Node strips a changed one', () => {
    const code = tempDir();
    const src = tempDir();
    const mod = join(src, 'm.ts');
    const main = join(src, 'main.mjs');
    writeFileSync(main, `import { x } from ${JSON.stringify(mod)}; console.log(x);`);
    const run = (): string =>
      execFileSync(NODE, ['--import', HOOKS, main], { env: { ...process.env, SHELLAC_CHILD_CODE: code }, encoding: 'utf8' }).trim();
    const v1 = 'export const x: number = 1;\n';
    writeFileSync(mod, v1);
    // A copy that says something else shows which one ran.
    writeFileSync(join(code, `${sha(v1)}.js`), 'export const x = "from the copy";\n');
    expect(run()).toBe('from the copy');
    writeFileSync(mod, 'export const x: number = 2;\n');
    expect(run()).toBe('2');
  });
});
