// The cache process's code, stripped of types by the manager (src/mgmt/child-code.ts) and loaded
// by the child's hook (src/mgmt/child-hooks.mjs): every source gets its stripped copy once, the
// copies of sources that are gone go, and a process with the hook runs the copy of a source as
// it is now, never a stale one (a changed source has no copy and is stripped by Node).

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareChildCode } from '../../src/mgmt/child-code.ts';
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
  it('is stripped once per source content, and copies of no source are dropped', () => {
    const dir = tempDir();
    writeFileSync(join(dir, `${sha('gone')}.js`), 'export {};');
    const first = prepareChildCode(dir);
    expect(first?.stripped).toBeGreaterThan(200);
    expect(first?.env.SHELLAC_CHILD_CODE).toBe(dir);
    expect(first?.execArgv).toEqual(['--import', `file://${HOOKS}`]);
    expect(readdirSync(dir)).not.toContain(`${sha('gone')}.js`);
    expect(readdirSync(dir)).toHaveLength(first!.stripped);
    expect(prepareChildCode(dir)?.stripped).toBe(0);
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
