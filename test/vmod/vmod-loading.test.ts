// Loading VMOD code: a rebuilt VMOD loads fresh on the next vcl.load while the old VCL keeps its
// code (under traffic, with no failed request), an implementation that does not load is
// reported as such, $ABI versions are checked, $Requires chains that are missing or cyclic are
// refused naming the chain, and `shellac check` runs the binder (with "did you mean").

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Params } from '../../src/common/params.ts';
import { Shellac } from '../../src/proxy/server.ts';
import { loadVcl } from '../../src/runtime/load-vcl.ts';
import { VMOD_API_VERSION } from '../../src/vmod/api.ts';
import { get } from '../helpers/proxy.ts';
import { adm, FIXTURE_VMODS, MAIN, NODE, ROOT, serve } from '../ops/helpers.ts';

const API = join(ROOT, 'src/vmod/api.ts');
const dirs: string[] = [];
afterAll(() => {
  dirs.length = 0;
});

/** A folder of VMODs in a temporary directory: name → { vcc, index, other files }. */
function vmodDir(vmods: Record<string, Record<string, string>>): string {
  const root = mkdtempSync(join(tmpdir(), 'shellac-vmods-'));
  dirs.push(root);
  for (const [name, files] of Object.entries(vmods)) {
    mkdirSync(join(root, name), { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(join(root, name, file), text);
  }
  return root;
}

const HOT_VCC = '$Module thot 3 "hot reload"\n$ABI 2.0\n$Function STRING version()\n';
const hotIndex = (v: string) =>
  `import type { VmodContext } from '${API}';\nimport { suffix } from './helper.ts';\nexport function version(_ctx: VmodContext): string { return '${v}' + suffix; }\n`;
const HOT_VCL = 'vcl 4.1;\nimport thot;\nbackend x none;\nsub vcl_recv { return (synth(200, thot.version())); }\n';

describe('hot reload of VMOD code', () => {
  it('runs the new code in a new VCL and the old code in the old one, with no failed request', async () => {
    const root = vmodDir({ thot: { 'vmod.vcc': HOT_VCC, 'index.ts': hotIndex('v1'), 'helper.ts': "export const suffix = '-a';\n" } });
    const srv = new Shellac({ params: new Params(), storageBytes: 1 << 20, vmodPath: [root] });
    try {
      await srv.vcls.load('one', { source: HOT_VCL });
      const [a] = await srv.listen([{ name: 'a0', host: '127.0.0.1', port: 0 }]);
      expect((await get(a.port, '/')).reason).toBe('v1-a');
      // Traffic runs while the code changes and the new VCL comes in.
      const seen: string[] = [];
      let stop = false;
      const traffic = (async () => {
        for (let i = 0; i < 2000 && !stop; i++) {
          const r = await get(a.port, '/');
          seen.push(`${r.status} ${r.reason}`);
        }
      })();
      // index.ts only: under vitest, modules run in vite's runner, which keys index.ts by its
      // query but shares helper files; the helper's freshness is tested in a real server below.
      writeFileSync(join(root, 'thot', 'index.ts'), hotIndex('v2').replace("'v2' + suffix", "'v2-b'"));
      await srv.vcls.load('two', { source: HOT_VCL });
      srv.vcls.use('two');
      const switched = Date.now();
      while (!seen.includes('200 v2-b') && Date.now() - switched < 5000) await new Promise((r) => setTimeout(r, 20));
      stop = true;
      await traffic;
      expect(seen.every((s) => s === '200 v1-a' || s === '200 v2-b')).toBe(true);
      expect(seen).toContain('200 v2-b');
      // The old VCL still runs the code it was loaded with.
      srv.vcls.use('one');
      expect((await get(a.port, '/')).reason).toBe('v1-a');
      srv.vcls.use('two');
      expect((await get(a.port, '/')).reason).toBe('v2-b');
    } finally {
      await srv.close(200);
    }
  });

  it('loads changed helper files too, in a real shellac serve through vcl.load', async () => {
    const root = vmodDir({ thot: { 'vmod.vcc': HOT_VCC, 'index.ts': hotIndex('v1'), 'helper.ts': "export const suffix = '-a';\n" } });
    const vclFile = join(root, 'hot.vcl');
    writeFileSync(vclFile, HOT_VCL);
    const s = await serve(['-f', vclFile, '-M', root]);
    try {
      expect((await get(s.port, '/')).reason).toBe('v1-a');
      writeFileSync(join(root, 'thot', 'helper.ts'), "export const suffix = '-b';\n");
      expect((await adm(s, 'vcl.load', 'two', vclFile)).code).toBe(0);
      expect((await adm(s, 'vcl.use', 'two')).code).toBe(0);
      expect((await get(s.port, '/')).reason).toBe('v1-b');
      expect((await adm(s, 'vcl.use', 'boot')).code).toBe(0);
      expect((await get(s.port, '/')).reason).toBe('v1-a');
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });

  it('says that an implementation failed to load, not that it mismatches its manifest', async () => {
    const root = vmodDir({ thot: { 'vmod.vcc': HOT_VCC, 'index.ts': 'export function version( {\n', 'helper.ts': '' } });
    await expect(loadVcl({ name: 'x', source: HOT_VCL, vmodPath: [root] })).rejects.toThrow(/VMOD 'thot': its implementation .*index\.ts failed to load/);
  });
});

describe('$ABI and $Requires at load', () => {
  it('refuses a VMOD written for another API version, naming both', async () => {
    const root = vmodDir({ told: { 'vmod.vcc': '$Module told 3 "old"\n$ABI 9.1\n$Function VOID f()\n', 'index.ts': 'export function f() {}\n' } });
    const vcl = 'vcl 4.1;\nimport told;\nbackend x none;\nsub vcl_recv { told.f(); }\n';
    await expect(loadVcl({ name: 'x', source: vcl, vmodPath: [root] })).rejects.toThrow(
      `VMOD 'told' was written for the Shellac VMOD API 9.1; this Shellac provides ${VMOD_API_VERSION}`,
    );
  });

  it('refuses a missing or cyclic requirement, naming the chain', async () => {
    const vcc = (name: string, req: string) => `$Module ${name} 3 "r"\n$ABI 2.0\n$Requires ${req}\n$Function VOID f()\n`;
    const index = 'export function f() {}\n';
    const root = vmodDir({
      ra: { 'vmod.vcc': vcc('ra', 'rb'), 'index.ts': index },
      rb: { 'vmod.vcc': vcc('rb', 'ra'), 'index.ts': index },
      rc: { 'vmod.vcc': vcc('rc', 'nowhere'), 'index.ts': index },
    });
    const vcl = (m: string) => `vcl 4.1;\nimport ${m};\nbackend x none;\nsub vcl_recv { ${m}.f(); }\n`;
    await expect(loadVcl({ name: 'x', source: vcl('ra'), vmodPath: [root] })).rejects.toThrow('VMOD requirements form a cycle: ra requires rb requires ra');
    await expect(loadVcl({ name: 'x', source: vcl('rc'), vmodPath: [root] })).rejects.toThrow(/VMOD 'rc' requires 'nowhere' \(rc requires nowhere\): Could not find VMOD 'nowhere'/);
  });
});

function check(args: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile(NODE, [MAIN, 'check', ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

describe('shellac check and VMOD implementations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shellac-check-'));
  const vcl = join(dir, 'bad.vcl');
  writeFileSync(vcl, 'vcl 4.1;\nimport tbad;\nbackend x none;\nsub vcl_recv { set req.http.x = tbad.two("a"); }\n');

  it('loads each implementation and reports what does not match, with did-you-mean', async () => {
    const root = vmodDir({
      ttypo: { 'vmod.vcc': '$Module ttypo 3 "t"\n$Function VOID greet()\n', 'index.ts': 'export function gret() {}\n' },
    });
    const typo = join(dir, 'typo.vcl');
    writeFileSync(typo, 'vcl 4.1;\nimport ttypo;\nbackend x none;\nsub vcl_recv { ttypo.greet(); }\n');
    const r = await check([typo, '-M', root]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("exports no function 'greet' (did you mean 'gret'?)");
    const bad = await check([vcl, '-M', FIXTURE_VMODS]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('does not match its manifest');
  });

  it('skips the implementations with --no-impl', async () => {
    const r = await check([vcl, '-M', FIXTURE_VMODS, '--no-impl']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('OK');
  });
});
