// VCL is compiled by the manager of `shellac serve`, as varnishd's manager runs VCC and hands
// its child a shared object (src/mgmt/vcl-compile-commands.ts): the cache process loads neither
// Chevrotain nor the checker nor code generation, whatever it is asked (a boot VCL, vcl.inline,
// vcl.load, labels and `return (vcl(label))`, a restart), a VCL that does not compile is refused
// with the compiler's report (file, line, column, caret) and changes nothing in the child, and
// the command that hands a compiled VCL over is not an operator's.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminClient } from '../../src/mgmt/admin-client.ts';
import { get, type Origin, startOrigin } from '../helpers/proxy.ts';
import { okBody, ROOT, type Served, serve, tempDir, until, writeIn } from './helpers.ts';

const RECORDER = join(ROOT, 'test/fixtures/record-modules.mjs');

function vclText(port: number, name: string, recv = 'return (pass);'): string {
  return `vcl 4.1;
backend default { .host = "127.0.0.1"; .port = "${port}"; }
sub vcl_recv { ${recv} }
sub vcl_deliver { set resp.http.x-vcl = "${name}"; }
`;
}

let origin: Origin;
let s: Served;
let c: AdminClient;
let modules: string;
const whoAnswers = async (path = '/'): Promise<string> => String((await get(s.port, path)).headers['x-vcl']);

beforeAll(async () => {
  origin = await startOrigin((_req, res) => res.end('ok'));
  const dir = tempDir();
  modules = join(dir, 'modules');
  s = await serve(['-f', writeIn(dir, 'boot.vcl', vclText(origin.port, 'boot'))], {
    env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${RECORDER}`, SHELLAC_RECORD_MODULES: modules },
  });
  c = await s.admin();
});
afterAll(async () => {
  c.close();
  expect(await s.stop()).toBe(0);
  await origin.close();
});

/** What the cache processes of this test have loaded so far. */
const loaded = (): string[] => readFileSync(modules, 'utf8').split('\n');

describe('VCL compiled in the manager', () => {
  it('refuses a VCL that does not compile with file, line, column and caret; the child keeps what it had', async () => {
    const bad = await c.command(['vcl.inline', 'bad', 'vcl 4.1;\nbackend b none;\nsub vcl_recv {\n  set req.nosuch = "x";\n}\n']);
    expect(bad.status).toBe(106);
    expect(bad.body).toContain('Message from VCC-compiler:');
    expect(bad.body).toMatch(/bad:4:7/);
    expect(bad.body).toMatch(/ {2}set req\.nosuch = "x";\n\s*\| {7}\^~+\n/);
    expect(bad.body).toContain('VCL compilation failed');
    expect(await okBody(c, ['vcl.list'])).not.toMatch(/\bbad\b/);
    expect(await whoAnswers()).toBe('boot');
  });

  it('loads, labels and switches with return (vcl(label)), refusing a label that does not exist', async () => {
    const unknown = await c.command(['vcl.inline', 'router', vclText(origin.port, 'router', 'return (vcl(nolabel));')]);
    expect(unknown.status).toBe(106);
    expect(unknown.body).toContain("Symbol not found: 'nolabel'");
    expect(await okBody(c, ['vcl.inline', 'target', vclText(origin.port, 'target')])).toBe('VCL compiled.\n');
    await okBody(c, ['vcl.label', 'lbl', 'target']);
    await okBody(c, ['vcl.inline', 'router', vclText(origin.port, 'router', 'return (vcl(lbl));')]);
    await okBody(c, ['vcl.use', 'router']);
    expect(await whoAnswers()).toBe('target');
    expect(await okBody(c, ['vcl.show', 'router'])).toBe(vclText(origin.port, 'router', 'return (vcl(lbl));'));
  });

  it('does not take a compiled VCL from an operator', async () => {
    const r = await c.command(['vcl.load_compiled', 'evil', 'auto', '{"format":1}']);
    expect(r.status).toBe(101);
    expect(await okBody(c, ['vcl.list'])).not.toMatch(/\bevil\b/);
  });

  it('gives a restarted child the compiled VCLs, and no cache process loads the compiler', async () => {
    const pid = Number(/Worker: (\d+)/.exec(await okBody(c, ['pid']))?.[1]);
    process.kill(pid, 'SIGKILL');
    expect(
      await until(async () => {
        try {
          return (await whoAnswers('/again')) === 'target';
        } catch {
          return false;
        }
      }, 20_000),
    ).toBe(true);
    const urls = loaded();
    // Two children recorded their modules: the runtime of VCL, never its compiler.
    expect(urls.filter((u) => u.endsWith('/src/runtime/load-vcl.ts')).length).toBe(2);
    expect(urls.filter((u) => u.includes('/node_modules/chevrotain/'))).toEqual([]);
    expect(urls.filter((u) => /\/src\/vcl\/(parse|parser|lexer|check|codegen|compile)\.ts$/.test(u))).toEqual([]);
    expect(urls.filter((u) => u.endsWith('/src/runtime/compile-vcl.ts'))).toEqual([]);
    // Nor the HTTP server (metrics_listen is not set).
    expect(urls).not.toContain('node:http');
  }, 60_000);
});
