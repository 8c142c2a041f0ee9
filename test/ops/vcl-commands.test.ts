// The VCL commands of the admin CLI against a running `shellac serve`, with real traffic
// telling which VCL answered: vcl.load (good, bad, missing file), vcl.inline (quoted and as a
// here document), vcl.use, vcl.list (text and -j), vcl.show, vcl.state, vcl.discard and
// vcl.label with `return (vcl(label))` routing requests.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminClient, vclInlineCommand } from '../../src/mgmt/admin-client.ts';
import { get, type Origin, startOrigin } from '../helpers/proxy.ts';
import { adm, okBody, type Served, serve, tempDir, writeIn } from './helpers.ts';

/** A VCL that names itself in resp.http.x-vcl; `extra` goes into vcl_recv. */
function vclText(port: number, name: string, extra = ''): string {
  return `vcl 4.1;
backend default { .host = "127.0.0.1"; .port = "${port}"; }
sub vcl_recv { ${extra} return (pass); }
sub vcl_deliver { set resp.http.x-vcl = "${name}"; }
`;
}

let origin: Origin;
let s: Served;
let c: AdminClient;
let dir: string;
const whoAnswers = async (path = '/'): Promise<string> => String((await get(s.port, path)).headers['x-vcl']);

beforeAll(async () => {
  origin = await startOrigin((_req, res) => res.end('ok'));
  dir = tempDir();
  const boot = writeIn(dir, 'boot.vcl', vclText(origin.port, 'boot'));
  s = await serve(['-f', boot]);
  c = await s.admin();
});
afterAll(async () => {
  c.close();
  expect(await s.stop()).toBe(0);
  await origin.close();
});

describe('vcl.load, vcl.use, vcl.list, vcl.show', () => {
  it('loads a good VCL beside the active one and switches to it with vcl.use', async () => {
    expect(await whoAnswers()).toBe('boot');
    const file = writeIn(dir, 'one.vcl', vclText(origin.port, 'one'));
    expect(await okBody(c, ['vcl.load', 'one', file])).toBe('VCL compiled.\n');
    expect(await whoAnswers()).toBe('boot');
    expect(await okBody(c, ['vcl.use', 'one'])).toContain("VCL 'one' now active");
    expect(await whoAnswers()).toBe('one');
    const list = await okBody(c, ['vcl.list']);
    expect(list).toMatch(/^available\s+auto\s+warm\s+0\s+boot$/m);
    expect(list).toMatch(/^active\s+auto\s+warm\s+0\s+one$/m);
    expect(await okBody(c, ['vcl.show', 'one'])).toBe(vclText(origin.port, 'one'));
  });

  it('refuses a VCL that does not compile with 106 and the compiler message; the running VCL keeps serving', async () => {
    const file = writeIn(dir, 'bad.vcl', 'vcl 4.1;\nbackend b none;\nsub vcl_recv { set req.nosuch = "x"; }\n');
    const r = await c.command(['vcl.load', 'bad', file]);
    expect(r.status).toBe(106);
    expect(r.body).toContain('Message from VCC-compiler:');
    expect(r.body).toContain("Symbol not found: 'req.nosuch'");
    expect(r.body).toContain('bad.vcl:3:');
    expect(r.body).toContain('VCL compilation failed');
    expect(await okBody(c, ['vcl.list'])).not.toMatch(/\bbad\b/);
    expect(await whoAnswers()).toBe('one');
    // The name stays free: a fixed file loads under it.
    writeIn(dir, 'bad.vcl', vclText(origin.port, 'bad'));
    expect((await c.command(['vcl.load', 'bad', file])).status).toBe(200);
  });

  it('refuses a missing file and a name in use with 106', async () => {
    const missing = await c.command(['vcl.load', 'gone', `${dir}/no-such.vcl`]);
    expect(missing.status).toBe(106);
    expect(missing.body).toContain('no-such.vcl');
    const again = await c.command(['vcl.load', 'one', `${dir}/one.vcl`]);
    expect(again.status).toBe(106);
    expect(again.body).toContain('Already a VCL named one');
    expect((await c.command(['vcl.load', 'x', `${dir}/one.vcl`, 'tepid'])).status).toBe(106);
  });

  it('vcl.inline takes the source quoted or as a here document, with a state', async () => {
    expect((await c.send(vclInlineCommand('quoted', vclText(origin.port, 'quoted')))).status).toBe(200);
    expect((await c.command(['vcl.inline', 'heredoc', vclText(origin.port, 'heredoc'), 'cold'])).status).toBe(200);
    const rows = JSON.parse(await okBody(c, ['vcl.list', '-j'])) as unknown[];
    const byName = new Map((rows.slice(3) as { name: string }[]).map((r) => [r.name, r]));
    expect(byName.get('quoted')).toEqual({ status: 'available', state: 'auto', temperature: 'warm', busy: 0, name: 'quoted' });
    expect(byName.get('heredoc')).toEqual({ status: 'available', state: 'cold', temperature: 'cold', busy: 0, name: 'heredoc' });
    expect(byName.get('one')).toMatchObject({ status: 'active', temperature: 'warm' });
    const bad = await c.command(['vcl.inline', 'broken', 'vcl 4.1; sub vcl_recv { return (nonsense); }']);
    expect(bad.status).toBe(106);
    expect(bad.body).toContain('VCL compilation failed');
    // A cold VCL warms when it is used.
    await okBody(c, ['vcl.use', 'heredoc']);
    expect(await whoAnswers()).toBe('heredoc');
    expect(JSON.parse(await okBody(c, ['vcl.list', '-j'])).find((r: { name?: string }) => r.name === 'heredoc')).toMatchObject({ status: 'active', temperature: 'warm' });
    await okBody(c, ['vcl.use', 'one']);
  });

  it('vcl.show of an unknown name is 106', async () => {
    expect((await c.command(['vcl.show', 'nope'])).status).toBe(106);
  });
});

describe('vcl.state and vcl.discard', () => {
  it('forces a VCL cold and warm, and refuses a bad state or the active VCL', async () => {
    await okBody(c, ['vcl.state', 'quoted', 'cold']);
    expect(await okBody(c, ['vcl.list'])).toMatch(/^available\s+cold\s+cold\s+0\s+quoted$/m);
    await okBody(c, ['vcl.state', 'quoted', 'warm']);
    expect(await okBody(c, ['vcl.list'])).toMatch(/^available\s+warm\s+warm\s+0\s+quoted$/m);
    const badState = await c.command(['vcl.state', 'quoted', 'tepid']);
    expect(badState.status).toBe(106);
    expect(badState.body).toContain('State must be one of auto, cold or warm.');
    expect((await c.command(['vcl.state', 'one', 'cold'])).status).not.toBe(200);
    expect(await whoAnswers()).toBe('one');
  });

  it('discards an unused VCL and refuses the active one', async () => {
    const active = await c.command(['vcl.discard', 'one']);
    expect(active.status).toBe(300);
    expect(active.body).toContain('Cannot discard active VCL');
    expect((await c.command(['vcl.discard', 'nope'])).status).toBe(106);
    await okBody(c, ['vcl.discard', 'quoted']);
    expect(await okBody(c, ['vcl.list'])).not.toMatch(/\bquoted\b/);
    expect(await whoAnswers()).toBe('one');
  });

  it('works through shellac adm too, with its exit codes', async () => {
    const list = await adm(s, 'vcl.list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^active\s+auto\s+warm\s+0\s+one$/m);
    const bad = await adm(s, 'vcl.inline', 'nope', 'vcl 4.1; sub vcl_recv { set req.nosuch = 1; }');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain("Symbol not found: 'req.nosuch'");
    expect(bad.stderr).toContain('Command failed with error code 106');
  });
});

describe('vcl.label and return (vcl(label))', () => {
  it('routes requests to the labelled VCL, and follows the label when it moves', async () => {
    writeIn(dir, 'router.vcl', vclText(origin.port, 'router', 'if (req.url ~ "^/l") { return (vcl(lab)); }'));
    // A VCL that names a label not defined yet does not load.
    const early = await c.command(['vcl.load', 'router', `${dir}/router.vcl`]);
    expect(early.status).toBe(106);
    expect(early.body).toContain("Symbol not found: 'lab'");
    await okBody(c, ['vcl.load', 'target1', writeIn(dir, 't1.vcl', vclText(origin.port, 'target1'))]);
    await okBody(c, ['vcl.load', 'target2', writeIn(dir, 't2.vcl', vclText(origin.port, 'target2'))]);
    await okBody(c, ['vcl.label', 'lab', 'target1']);
    await okBody(c, ['vcl.load', 'router', `${dir}/router.vcl`]);
    await okBody(c, ['vcl.use', 'router']);
    expect(await whoAnswers('/plain')).toBe('router');
    expect(await whoAnswers('/l/x')).toBe('target1');
    const list = await okBody(c, ['vcl.list']);
    expect(list).toMatch(/^available\s+label\s+warm\s+0\s+lab\s+->\s+target1 \(1 return\(vcl\)\)$/m);
    expect(list).toMatch(/^available\s+auto\s+warm\s+0\s+target1\s+<-\s+\(1 label\)$/m);
    await okBody(c, ['vcl.label', 'lab', 'target2']);
    expect(await whoAnswers('/l/y')).toBe('target2');
    // A labelled VCL cannot be discarded; a label can.
    const labelled = await c.command(['vcl.discard', 'target2']);
    expect(labelled.status).toBe(300);
    expect(labelled.body).toContain('lab');
    // A label cannot point at a label, nor be discarded while a VCL returns to it.
    expect((await c.command(['vcl.label', 'lab2', 'lab'])).status).toBe(106);
    const needed = await c.command(['vcl.discard', 'lab']);
    expect(needed.status).toBe(300);
    expect(needed.body).toContain('other VCLs depend on it: router');
    // Once nothing returns to it, the label goes, and then its target may go.
    await okBody(c, ['vcl.use', 'one']);
    await okBody(c, ['vcl.discard', 'router']);
    await okBody(c, ['vcl.discard', 'lab']);
    await okBody(c, ['vcl.discard', 'target2']);
    expect(await okBody(c, ['vcl.list'])).not.toMatch(/\b(lab|router|target2)\b/);
  });
});

describe('a VCL whose vcl_init fails', () => {
  it('is refused with 106 and the reason, and the running VCL keeps serving', async () => {
    const before = await okBody(c, ['vcl.list']);
    const r = await c.command(['vcl.inline', 'initfail', 'vcl 4.1;\nbackend b none;\nsub vcl_init { return (fail("no config today")); }\n']);
    expect(r.status).toBe(106);
    expect(r.body).toContain("VCL 'initfail' failed initialization");
    expect(r.body).toContain('no config today');
    expect(await okBody(c, ['vcl.list'])).toBe(before);
    expect((await get(s.port, '/')).status).toBe(200);
  });
});
