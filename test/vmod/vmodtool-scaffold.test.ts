// `shellac vmodtool --new`: the scaffold must type-check and pass its test as written, and the
// generated interface must turn a missing export or a wrong type into a tsc error. Runs the
// real tools (shellac, tsc, vitest) on a scaffold in the repository's ignored tmp/ folder.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../src/vmod/vmodtool.ts';

mkdirSync(join(REPO_ROOT, 'tmp'), { recursive: true });
const root = mkdtempSync(join(REPO_ROOT, 'tmp', 'scaffold-'));
const vmodDir = join(root, 'vmods', 'greeter');
/** Runs a tool's script with this Node (24), not whatever `node` the PATH has. */
function tool(script: string, args: string[]) {
  return spawnSync(process.execPath, [join(REPO_ROOT, 'node_modules', script), ...args], { encoding: 'utf8', cwd: REPO_ROOT });
}

afterAll(() => rmSync(root, { recursive: true, force: true }));

function shellac(...args: string[]) {
  return spawnSync(process.execPath, [join(REPO_ROOT, 'src/cli/main.ts'), ...args], { encoding: 'utf8' });
}

/** tsc with the repository's settings over the scaffold's folder, or over its index.ts only. */
function typecheck(only?: 'index') {
  const files = only ? { files: [join(vmodDir, 'index.ts')], include: [] } : { include: ['vmods'] };
  writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ extends: join(REPO_ROOT, 'tsconfig.json'), ...files }));
  return tool('typescript/bin/tsc', ['-p', join(root, 'tsconfig.json')]);
}

/**
 * The errors tsc reports in the scaffold's own files. Errors in src/ files it imports belong to
 * whoever is editing them at the moment, not to the scaffold.
 */
function scaffoldErrors(out: string): string[] {
  return out.split('\n').filter((line) => line.includes('vmods/greeter/') && line.includes('error TS'));
}

describe('shellac vmodtool --new', () => {
  it('writes the manifest, implementation, test, interface and manual', () => {
    const r = shellac('vmodtool', '--new', 'greeter', '--dir', join(root, 'vmods'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    for (const f of ['vmod.vcc', 'index.ts', 'greeter.test.ts', 'interface.ts']) expect(r.stdout).toContain(join('greeter', f));
    expect(readFileSync(join(root, 'docs', 'vmods', 'greeter.md'), 'utf8')).toContain('# vmod_greeter:');
    expect(shellac('vmodtool', '--check', join(vmodDir, 'vmod.vcc')).status).toBe(0);
  });

  it('refuses an existing folder and a bad name', () => {
    expect(shellac('vmodtool', '--new', 'greeter', '--dir', join(root, 'vmods')).status).toBe(1);
    const bad = shellac('vmodtool', '--new', 'Bad-Name', '--dir', join(root, 'vmods'));
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("'Bad-Name' is not a VMOD name");
  });

  it('type-checks as written', () => {
    const r = typecheck();
    expect(r.stderr).toBe('');
    expect(scaffoldErrors(r.stdout)).toEqual([]);
  }, 60_000);

  it('passes its own test as written', () => {
    const r = tool('vitest/vitest.mjs', ['run', '--dir', root]);
    expect(r.stdout).toContain('2 passed');
    expect(r.status).toBe(0);
  });

  it('makes a wrong argument type, then a missing export, a tsc error', () => {
    const index = join(vmodDir, 'index.ts');
    const original = readFileSync(index, 'utf8');
    writeFileSync(index, original.replace('name: string | null', 'name: string'));
    let r = typecheck('index');
    expect(scaffoldErrors(r.stdout)).toHaveLength(1);
    expect(r.stdout).toContain("error TS1360: Type 'typeof import(");
    expect(r.stdout).toContain("does not satisfy the expected type 'VmodGreeter'");
    expect(r.stdout).toContain("Types of property 'hello' are incompatible.");
    writeFileSync(index, original.replace('export function hello', 'function hello'));
    r = typecheck('index');
    expect(scaffoldErrors(r.stdout)).toHaveLength(1);
    expect(r.stdout).toContain("Property 'hello' is missing");
    writeFileSync(index, original);
    expect(scaffoldErrors(typecheck('index').stdout)).toEqual([]);
  }, 90_000);
});
