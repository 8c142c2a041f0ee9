// `shellac check --js`: the generated code of a real VCL file, commented with its VCL lines.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const FIXTURE_VMODS = fileURLToPath(new URL('../fixtures/vmods/', import.meta.url));

function check(args: string[]): string {
  return execFileSync(process.execPath, [MAIN, 'check', ...args], { encoding: 'utf8' });
}

describe('shellac check --js', () => {
  it('prints one function per sub, each statement under a comment naming its VCL line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shellac-js-'));
    const file = join(dir, 'site.vcl');
    writeFileSync(
      file,
      'vcl 4.1;\nimport tvmod;\nbackend b { .host = "127.0.0.1"; }\nsub vcl_recv {\n  if (tvmod.wait(1ms)) {\n    set req.http.x = "1";\n  }\n}\n',
    );
    const js = check([file, '--js', '-M', FIXTURE_VMODS]);
    expect(js).toContain('async function sub_vcl_recv(t) {');
    expect(js).toContain(`// ${file}:5: if (tvmod.wait(1ms)) {`);
    expect(js).toContain(`// ${file}:6: set req.http.x = "1";`);
    expect(js).toMatch(/await \(t\.at = \d+, tvmod_wait\(t, 0\.001\)\)/);
    expect(js).toContain('// <builtin>:');
    expect(js).toContain('function sub_vcl_hash(t) {');
    // The output is the body of the function the loader compiles.
    expect(() => new Function('k', js)).not.toThrow();
  });
});
