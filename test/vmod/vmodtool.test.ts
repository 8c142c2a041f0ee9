import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { VmodManifest } from '../../src/vmod/manifest.ts';
import { parseVcc } from '../../src/vmod/vcc.ts';
import { generateInterface } from '../../src/vmod/vmod-interface.ts';
import { generateManual, splitHeadings } from '../../src/vmod/vmod-manual.ts';
import { generateFor, manifestsIn, REPO_ROOT, staleFiles } from '../../src/vmod/vmodtool.ts';

const VMODS = join(REPO_ROOT, 'vmods');

function manifest(text: string): VmodManifest {
  const { manifest, errors } = parseVcc(text, 'm.vcc');
  expect(errors).toEqual([]);
  return manifest!;
}

describe('the checked-in generated files', () => {
  const files = manifestsIn(VMODS);

  it('cover every VMOD in vmods/', () => {
    expect(files.map((f) => f.split('/').at(-2))).toEqual(
      expect.arrayContaining(['blob', 'cookie', 'directors', 'example', 'purge', 'std']),
    );
  });

  it.each(files.map((f) => [f.split('/').at(-2)!, f]))('of %s match what vmodtool writes now', (_name, file) => {
    const generated = generateFor(file);
    if ('error' in generated) throw new Error(generated.error);
    const stale = staleFiles(generated.files).map((f) => f.path.slice(REPO_ROOT.length));
    // When this fails: run `shellac vmodtool vmods/*/vmod.vcc` and commit the result.
    expect(stale).toEqual([]);
  });
});

describe('the generated interface', () => {
  const m = manifest(`$Module demo 3 "A demo"
$Event on_event
$Function STRING f(PRIV_TASK, STRING, [INT n], BOOL b=1, ENUM {A, B} e=A, [ENUM {X, Y} o], STRANDS s)
$Function VOID g(HEADER h, BLOB case, IP ip, BACKEND be, TIME t, REGEX re, HTTP http)
$Object counter(INT start=0)
$Method INT .next(PRIV_VCL)
$Method VOID .reset()
`);
  const text = generateInterface(m, { apiImport: '../../src/vmod/api.ts', source: 'vmods/demo/vmod.vcc' });

  it('imports only the api.ts types it uses', () => {
    expect(text).toContain(
      "import type { Director, HeaderRef, PrivHolder, VclEvent, VclHttp, VclIp, VclRegex, VmodContext, VmodEventContext } from '../../src/vmod/api.ts';",
    );
  });

  it('maps each VCL type, marks optional arguments and names unnamed ones', () => {
    expect(text).toContain('    priv_task: PrivHolder<P[\'task\']>,\n    arg2: string | null,\n    n: number | undefined,\n    b: boolean,\n');
    expect(text).toContain("    e: 'A' | 'B',\n    o: 'X' | 'Y' | undefined,\n    s: readonly (string | null)[],\n  ) => Awaitable<string | null>;");
    expect(text).toContain('h: HeaderRef');
    expect(text).toContain('case_: Uint8Array | null');
    expect(text).toContain('ip: VclIp | null');
    expect(text).toContain('be: Director | null');
    expect(text).toContain('t: number');
    expect(text).toContain('re: VclRegex');
    expect(text).toContain('http: VclHttp');
  });

  it('gives PRIV_* state types as one type parameter, passed on to objects that use them', () => {
    expect(text).toContain('export interface VmodDemoPrivs {\n  task?: unknown;\n  vcl?: unknown;\n}');
    expect(text).toContain('export interface VmodDemo<P extends VmodDemoPrivs = VmodDemoPrivs> {');
    expect(text).toContain('export interface VmodDemoCounter<P extends VmodDemoPrivs = VmodDemoPrivs> {');
    expect(text).toContain("  next: (ctx: VmodContext, priv_vcl: PrivHolder<P['vcl']>) => Awaitable<number>;");
    expect(text).toContain('  counter: new (ctx: VmodContext, vclName: string, start: number) => VmodDemoCounter<P>;');
  });

  it('declares the event function', () => {
    expect(text).toContain("  on_event: (ctx: VmodEventContext, vcl: PrivHolder<P['vcl']>, event: VclEvent) => number;");
  });

  it('shows each VCL signature in a doc comment', () => {
    expect(text).toContain('  /** INT xcounter.next() */');
    expect(text).toContain('  /** new xcounter = demo.counter(INT start=0) */');
  });
});

describe('the generated manual', () => {
  it('splits prose on RST headings', () => {
    expect(splitHeadings('lead\n\nTitle\n=====\n\nbody\nOther\n---\n')).toEqual({
      lead: 'lead',
      sections: [
        { title: 'Title', text: 'body' },
        { title: 'Other', text: '' },
      ],
    });
  });

  it('has the synopsis, the prose, restrictions, aliases and sections in manifest order', () => {
    const m = manifest(`$Module demo 3 "A demo"

What demo is.

First
=====

$Function INT a(STRING s, [INT n])

About a.

Second
======

Introducing b.

$Function VOID b()
$Restrict vcl_hit vcl_miss

About b.

$Alias c a
`);
    const md = generateManual(m, { source: 'vmods/demo/vmod.vcc' });
    expect(md).toContain('# vmod_demo: A demo');
    expect(md).toContain('```vcl\nimport demo [as name] [from "path"];\n\nINT demo.a(STRING s, [INT n])\nVOID demo.b()\n```');
    const order = ['## Description', 'What demo is.', '## First', '### demo.a()', 'About a.', '## Second', 'Introducing b.', '### demo.b()'];
    const at = order.map((s) => md.indexOf(s));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((x, y) => x - y)).toEqual(at);
    expect(md).toContain('May only be called in: vcl_miss, vcl_hit.');
    expect(md).toContain('Also callable as `demo.c()`.');
  });
});

describe('shellac vmodtool', () => {
  // Inside the repository (its tmp/ is ignored by git) so that generated imports resolve.
  mkdirSync(join(REPO_ROOT, 'tmp'), { recursive: true });
  const tmp = mkdtempSync(join(REPO_ROOT, 'tmp', 'vmodtool-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  function run(...args: string[]) {
    return spawnSync(process.execPath, [join(REPO_ROOT, 'src/cli/main.ts'), 'vmodtool', ...args], { encoding: 'utf8' });
  }

  it('--check passes on the shipped VMODs', () => {
    const r = run('--check', ...manifestsIn(VMODS));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('writes the interface and manual, then finds them current, then stale after an edit', () => {
    const dir = join(tmp, 'vmods', 'demo');
    rmSync(dir, { recursive: true, force: true });
    const vcc = join(dir, 'vmod.vcc');
    mkdirSync(dir, { recursive: true });
    writeFileSync(vcc, '$Module demo 3 "A demo"\n$Function INT one()\n');
    let r = run(vcc);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('interface.ts');
    expect(r.stdout).toContain(join('docs', 'vmods', 'demo.md'));
    expect(run('--check', vcc).status).toBe(0);
    writeFileSync(vcc, '$Module demo 3 "A demo"\n$Function INT two()\n');
    r = run('--check', vcc);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('interface.ts is out of date');
  });

  it('refuses a manifest with errors, naming the line', () => {
    const vcc = join(tmp, 'bad.vcc');
    writeFileSync(vcc, '$Module bad 3 "x"\n$Function FOO f()\n');
    const r = run(vcc);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("bad.vcc:2: f(): unknown return type 'FOO'");
  });

  it('answers a usage error with status 2', () => {
    expect(run().status).toBe(2);
    expect(run('--dir', 'x', 'a.vcc').status).toBe(2);
  });
});

describe('PRIV holders and platform parts in the generated interface', () => {
  const m = manifest(
    '$Module pm 3 "p"\n$Counter hits counter\n$Param mode enum{a,b} a\n$Command reset "<key>"\n' +
      '$Function VOID f(PRIV_TASK)\n$Object o()\n$Method VOID .m(PRIV_TASK, PRIV_TOP)\n',
  );
  const text = generateInterface(m, { apiImport: '../../src/vmod/api.ts', source: 'vmods/pm/vmod.vcc' });

  it("keeps a method's PRIV_TASK and PRIV_TOP apart from the functions' holders", () => {
    expect(text).toContain("f: (ctx: VmodContext, priv_task: PrivHolder<P['task']>) => Awaitable<void>;");
    expect(text).toContain("    priv_task: PrivHolder<P['objectTask']>,\n    priv_top: PrivHolder<P['objectTop']>,\n  ) => Awaitable<void>;");
    expect(text).toContain('  task?: unknown;\n  objectTask?: unknown;\n  objectTop?: unknown;\n');
  });

  it('types the counters, parameters, handle and command handlers', () => {
    expect(text).toContain('export interface VmodPmCounters {\n  /** counter: hits */\n  hits: number;\n}');
    expect(text).toContain("  mode: 'a' | 'b';");
    expect(text).toContain('export type VmodPmHandle = VmodHousekeeping<VmodPmCounters, VmodPmParams>;');
    expect(text).toContain('    reset: VmodCommandHandler<VmodPmCounters, VmodPmParams>;');
  });
});
