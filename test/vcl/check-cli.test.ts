// `shellac check` as a user runs it: a child process, its output and its exit status (0 clean,
// 1 the VCL is refused, 2 a usage error), and never a stack trace.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { HEAD } from './check-util.ts';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'shellac-check-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function shellac(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', timeout: 15_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('shellac check', () => {
  it('exits 0 with one line of OK for a clean VCL', () => {
    const path = file('ok.vcl', `${HEAD}import std;\nsub vcl_recv { std.log("hi"); }\n`);
    const r = shellac('check', path);
    expect(r).toEqual({ status: 0, stdout: `${path}: OK (VCL 4.1, 1 backend, 1 sub, 1 import)\n`, stderr: '' });
  });

  it('exits 1 and prints every error with its place, line and caret', () => {
    const path = file('bad.vcl', `${HEAD}sub vcl_recv {\n  set req.http.x = beresp.ttl;\n  set req.ttl = "a";\n}\n`);
    const r = shellac('check', path);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      [
        `${path}:4:20: error: Variable 'beresp.ttl' is not available in vcl_recv; it is readable in vcl_backend_response, vcl_backend_error`,
        ' 4 |   set req.http.x = beresp.ttl;',
        '   |                    ^~~~~~~~~~',
        `${path}:5:17: error: Expression has type STRING, expected DURATION`,
        ' 5 |   set req.ttl = "a";',
        '   |                 ^~~',
        `${path}: 2 errors`,
        '',
      ].join('\n'),
    );
  });

  it('exits 1 on a syntax error, in Varnish’s words and without a stack trace', () => {
    const path = file('syntax.vcl', `${HEAD}sub vcl_recv {\n  set req.url = ;\n}\n`);
    const r = shellac('check', path);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${path}:4:17: error: Expected an expression got ';'`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('refuses inline C, saying that Shellac does not run C', () => {
    const path = file('c.vcl', `${HEAD}C{ int x; }C\n`);
    const r = shellac('check', path);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${path}:3:1: error: Inline C is not supported: Shellac does not run C code`);
  });

  it('exits 1 when the file does not exist', () => {
    const r = shellac('check', join(dir, 'nosuch.vcl'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`error: Cannot read VCL file '${join(dir, 'nosuch.vcl')}'`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 without a file', () => {
    const r = shellac('check');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('usage: shellac check FILE');
  });

  it('exits 2 on an unknown option', () => {
    const r = shellac('check', '--nosuch', 'x.vcl');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown option --nosuch');
  });

  it('exits 2 on an option without its value', () => {
    const r = shellac('check', 'x.vcl', '-I');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('option -I needs a value');
  });

  it('makes unused declarations warnings with --warn-unused', () => {
    const path = file('unused.vcl', `${HEAD}sub f { }\nacl a { "1.2.3.4"; }\n`);
    const strict = shellac('check', path);
    expect(strict.status).toBe(1);
    expect(strict.stderr).toContain(`${path}:3:5: error: Unused sub f, defined here but never called`);
    expect(strict.stderr).toContain(`${path}:4:5: error: Unused acl a, defined here but never used`);
    const lax = shellac('check', path, '--warn-unused');
    expect(lax.status).toBe(0);
    expect(lax.stderr).toContain(`${path}:3:5: warning: Unused sub f, defined here but never called`);
    expect(lax.stdout).toBe(`${path}: OK (VCL 4.1, 1 backend, 1 sub, 0 imports)\n`);
  });

  it('searches -I directories for includes', () => {
    const lib = mkdtempSync(join(dir, 'lib-'));
    writeFileSync(join(lib, 'recv.vcl'), 'sub vcl_recv { return (pass); }\n');
    const path = file('inc.vcl', `${HEAD}include "recv.vcl";\n`);
    expect(shellac('check', path).status).toBe(1);
    expect(shellac('check', path, '-I', lib).status).toBe(0);
  });

  it('prints the AST as JSON with --ast', () => {
    const path = file('ast.vcl', `${HEAD}sub vcl_recv { return (pass); }\n`);
    const r = shellac('check', path, '--ast');
    expect(r.status).toBe(0);
    const ast = JSON.parse(r.stdout) as { version: number; decls: { kind: string }[] };
    expect(ast.version).toBe(41);
    expect(ast.decls.map((d) => d.kind)).toEqual(['backend', 'sub']);
  });
});
