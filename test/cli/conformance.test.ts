// `shellac conformance`: counts per suite over a conformance folder laid out like the shared
// one, waiting cases told apart from failures, other suites slotting in beside the VCL ones,
// and the exit status (0 unless --strict finds a failure).

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { type ConformanceSuite, formatCount, runSuites, vclSuites } from '../../src/cli/conformance.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'shellac-conformance-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const HEAD = 'vcl 4.1;\nbackend default { .host = "nginx"; }\n';

function addCase(kind: 'accept' | 'reject', name: string, vcl: string, files: Record<string, string> = {}, vclPath: string[] = []): void {
  const dir = join(root, 'vcl', kind, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.vcl'), vcl);
  writeFileSync(join(dir, 'case.json'), JSON.stringify({ expect: kind, vcl_path: vclPath }));
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
}

addCase('accept', 'a-clean', `${HEAD}sub vcl_recv { return (pass); }\n`);
addCase('accept', 'b-include-path', `${HEAD}include "common.vcl";\n`, { 'inc/common.vcl': 'sub vcl_recv { return (pipe); }\n' }, ['inc']);
addCase('accept', 'c-broken', `${HEAD}sub vcl_recv { set req.ttl = "x"; }\n`);
addCase('accept', 'd-needs-vmod', `${HEAD}import notyet;\nsub vcl_recv { notyet.go(); }\n`);
addCase('reject', 'a-refused', `${HEAD}acl ban { "127.0.0.1"; }\nsub vcl_recv { if (client.ip ~ ban) {} }\n`);
addCase('reject', 'b-wrongly-accepted', `${HEAD}sub vcl_recv { return (pass); }\n`);

describe('the VCL suites', () => {
  it('count passes, and tell failures from cases waiting on a VMOD', async () => {
    const counts = await runSuites(vclSuites(root));
    expect(counts.map((c) => [c.name, c.pass, c.total])).toEqual([
      ['vcl/accept', 2, 4],
      ['vcl/reject', 1, 2],
    ]);
    expect(counts[0]!.outcomes.map((o) => [o.name, o.status])).toEqual([
      ['a-clean', 'pass'],
      ['b-include-path', 'pass'],
      ['c-broken', 'fail'],
      ['d-needs-vmod', 'waiting'],
    ]);
    expect(formatCount(counts[0]!, false)).toBe('vcl/accept: 2/4 pass (1 waiting on a VMOD)\n  FAIL c-broken\n  WAIT d-needs-vmod');
    expect(formatCount(counts[1]!, false)).toBe('vcl/reject: 1/2 pass\n  FAIL b-wrongly-accepted');
  });

  it('show why under -v', async () => {
    const [accept] = await runSuites(vclSuites(root), ['vcl/accept']);
    const text = formatCount(accept!, true);
    expect(text).toContain('    ');
    expect(text).toContain('error: Expression has type STRING, expected DURATION');
    expect(text).toContain('waiting on VMOD notyet');
  });

  it('let other suites slot in beside them, and pick suites by name or prefix', async () => {
    const vtc: ConformanceSuite = { name: 'vtc/core', cases: () => ['a00000.vtc'], run: async () => [{ name: 'a00000.vtc', status: 'pass' }] };
    const counts = await runSuites([...vclSuites(root), vtc], ['vtc']);
    expect(counts.map((c) => formatCount(c, false))).toEqual(['vtc/core: 1/1 pass']);
    const vcl = await runSuites([...vclSuites(root), vtc], ['vcl']);
    expect(vcl.map((c) => c.name)).toEqual(['vcl/accept', 'vcl/reject']);
  });
});

describe('shellac conformance', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, [MAIN, 'conformance', '--root', root, ...args], { encoding: 'utf8', timeout: 15_000 });

  it('prints the counts and exits 0 despite failures', () => {
    const r = run();
    expect(r.status).toBe(0);
    expect(r.stdout.split('\n').filter((l) => !l.startsWith(' '))).toEqual(['vcl/accept: 2/4 pass (1 waiting on a VMOD)', 'vcl/reject: 1/2 pass', '']);
  });

  it('exits 1 under --strict when a case fails', () => {
    expect(run('--strict').status).toBe(1);
  });

  it('exits 2 on an unknown suite', () => {
    const r = run('nosuch');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown suite nosuch; known: vcl/accept, vcl/reject');
  });
});
