// A VMOD outside this repository, as its author meets it: `shellac vmodtool --new NAME --dir DIR`
// writes a package (package.json, tsconfig, a vitest test through shellac/testing, a .vtc);
// with Shellac linked in as its dev dependency (what `npm install` does with its `file:` link),
// it type-checks, its test passes, and `shellac test -M DIR` runs its .vtc against a server.

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MAIN, NODE, ROOT } from '../ops/helpers.ts';

function run(cmd: string, args: readonly string[], cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, out: `${stdout}${stderr}` });
    });
  });
}

describe('an out-of-tree VMOD package', () => {
  it('is scaffolded, type-checks, passes its test and its .vtc', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shellac-package-'));
    const made = await run(NODE, [MAIN, 'vmodtool', '--new', 'greeter', '--dir', dir], ROOT);
    expect(made.code, made.out).toBe(0);
    const pkg = join(dir, 'greeter');
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8'));
    expect(manifest.devDependencies.shellac).toBe(`file:${ROOT}`);
    expect(readFileSync(join(pkg, 'index.ts'), 'utf8')).toContain("from 'shellac/vmod'");
    expect(readFileSync(join(pkg, 'docs', 'greeter.md'), 'utf8')).toContain('# vmod_greeter');
    // What `npm install` makes of the file: link and the dev dependencies, without the network.
    mkdirSync(join(pkg, 'node_modules', '@types'), { recursive: true });
    symlinkSync(ROOT, join(pkg, 'node_modules', 'shellac'));
    for (const dep of ['vitest', 'typescript']) symlinkSync(join(ROOT, 'node_modules', dep), join(pkg, 'node_modules', dep));
    symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(pkg, 'node_modules', '@types', 'node'));

    const tsc = await run(NODE, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '-p', pkg], pkg);
    expect(tsc.code, tsc.out).toBe(0);
    const vitest = await run(NODE, [join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--root', pkg, '--dir', pkg], pkg);
    expect(vitest.code, vitest.out).toBe(0);
    expect(vitest.out).toContain('1 passed');
    const vtc = await run(NODE, [MAIN, 'test', '-M', dir, join(pkg, 'tests', 'greeter.vtc')], pkg);
    expect(vtc.code, vtc.out).toBe(0);
    expect(vtc.out).toContain('1 passed');
  }, 180_000);
});
