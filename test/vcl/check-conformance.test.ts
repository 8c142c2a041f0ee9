// Real VCL through the whole checker: our example files, the conformance set of public VCL
// (../shared/conformance/vcl: accept/ must check clean, reject/ must be refused at the construct
// Varnish refuses), and the VCL of Varnish's own test cases (../shared/conformance/vtc), which
// Varnish 7.1 compiles unless the test expects an error. Files are read where they are.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkSource } from '../../src/vcl/compile.ts';
import { formatDiagnostics } from '../../src/vcl/diagnostics.ts';

const EXAMPLES = fileURLToPath(new URL('../../vcl-examples/', import.meta.url));
const CONFORMANCE = resolve(import.meta.dirname, '../../../shared/conformance/vcl');
const VTC = resolve(import.meta.dirname, '../../../shared/conformance/vtc');

const errorsOf = (r: ReturnType<typeof checkSource>) =>
  formatDiagnostics(r.diagnostics.sorted().filter((d) => d.severity === 'error'), r.sources);

describe('vcl-examples', () => {
  const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.vcl')).sort();

  it('has the five examples the issue asks for', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)('%s checks clean, without warnings', (file) => {
    const r = checkSource(join(EXAMPLES, file));
    expect(formatDiagnostics(r.diagnostics.sorted(), r.sources)).toBe('');
    expect(r.checked).toBeDefined();
  });
});

interface CaseMeta {
  readonly expect: 'accept' | 'reject';
  readonly vcl_path?: readonly string[];
  readonly notes?: string;
}

function conformanceCases(kind: 'accept' | 'reject'): { name: string; dir: string; meta: CaseMeta }[] {
  const dir = join(CONFORMANCE, kind);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .map((name) => ({ name, dir: join(dir, name), meta: JSON.parse(readFileSync(join(dir, name, 'case.json'), 'utf8')) as CaseMeta }));
}

function checkCase(dir: string, meta: CaseMeta) {
  return checkSource(join(dir, 'main.vcl'), { vclPath: (meta.vcl_path ?? []).map((p) => join(dir, p)) });
}

/**
 * What Varnish refuses in each reject case (from its case.json notes), as the message Shellac
 * gives there. A new reject case needs an entry here, so that it is checked at its construct.
 */
const REJECTED_AT: Readonly<Record<string, { message: string; line: RegExp }>> = {
  AOEpeople__TYPO3: { message: "Name 'ban' is reserved: it is a built-in function in VCL", line: /^acl ban\b/ },
  hummer2k__ConVarnish: { message: "Name 'ban' is reserved: it is a built-in function in VCL", line: /^acl ban\b/ },
};

describe('conformance/vcl', () => {
  const accept = conformanceCases('accept');
  const reject = conformanceCases('reject');

  it('has cases', () => {
    expect(accept.length).toBeGreaterThan(10);
    expect(reject.length).toBeGreaterThan(0);
  });

  it.each(accept.map((c) => [c.name, c] as const))('accept/%s checks clean', (_name, c) => {
    expect(c.meta.expect).toBe('accept');
    const r = checkCase(c.dir, c.meta);
    expect(errorsOf(r)).toBe('');
    expect(r.checked).toBeDefined();
  });

  it.each(reject.map((c) => [c.name, c] as const))('reject/%s is refused where Varnish refuses it', (name, c) => {
    expect(c.meta.expect).toBe('reject');
    const r = checkCase(c.dir, c.meta);
    expect(r.checked).toBeUndefined();
    const key = Object.keys(REJECTED_AT).find((k) => name.startsWith(k));
    expect(key, `no REJECTED_AT entry for ${name}`).toBeDefined();
    const want = REJECTED_AT[key as string]!;
    const at = r.diagnostics.list.find((d) => d.message === want.message);
    expect(at, errorsOf(r)).toBeDefined();
    const pos = at!.pos!;
    const line = r.sources[pos.file]!.text.split('\n')[pos.line - 1]!;
    expect(line.trimStart()).toMatch(want.line);
  });
});

// ---------------------------------------------------------------------------------------------
// The VCL of Varnish's test cases, set up as varnishtest sets it up.

interface VtcVcl {
  readonly name: string;
  readonly text: string;
  /** The start of the message the test expects Varnish to refuse the VCL with (`-errvcl`). */
  readonly refusedWith?: string;
  readonly storages: readonly string[];
}

/** The text inside the braces that open just before `from`, and the index after the closing one. */
function braced(text: string, from: number): [string, number] {
  let depth = 1;
  let i = from;
  for (; i < text.length && depth > 0; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}') depth--;
  }
  return [text.slice(from, i - 1), i];
}

/**
 * Each `-vcl {}`, `-vcl+backend {}` and `-errvcl {msg} {}` of a .vtc file. Like varnishtest:
 * a VCL without a version line gets `vcl 4.1;` (or the version of `-syntax`), `+backend` puts
 * a backend for each server declared so far after it, and macros are filled in (server
 * addresses; a server listening on a path gives that path).
 */
function vtcVcls(file: string, text: string): VtcVcl[] {
  const out: VtcVcl[] = [];
  const socks = new Map<string, string>();
  for (const m of text.matchAll(/^\s*server\s+(s\w+)\s+-listen\s+"([^"]+)"/gm)) socks.set(m[1]!, m[2]!.replace(/\$\{tmpdir\}/, '/tmp/vtc'));
  const storages = [...text.matchAll(/-s\s*([A-Za-z]\w*)=/g)].map((m) => m[1]!);
  const expand = (s: string) =>
    s
      .replace(/\$\{tmpdir\}/g, '/tmp/vtc')
      .replace(/\$\{(s\w+)_sock\}/g, (_all, name: string) => socks.get(name) ?? '127.0.0.1 9080')
      .replace(/\$\{(\w+)_port\}/g, '9080')
      .replace(/\$\{[^}]*\}/g, '127.0.0.1');
  const opening = /-(vcl\+backend|vcl|errvcl)\s*\{/g;
  for (let m = opening.exec(text); m !== null; m = opening.exec(text)) {
    let start = opening.lastIndex;
    let refusedWith: string | undefined;
    if (m[1] === 'errvcl') {
      const [message, end] = braced(text, start);
      refusedWith = message.trim();
      start = text.indexOf('{', end) + 1;
    }
    const [body, end] = braced(text, start);
    opening.lastIndex = end;
    const command = text.slice(text.lastIndexOf('\nvarnish ', m.index), m.index);
    const syntax = /-syntax\s+([\d.]+)/.exec(command)?.[1] ?? '4.1';
    const servers = [...new Set([...text.slice(0, m.index).matchAll(/^\s*server\s+(s\w+)/gm)].map((s) => s[1]!))];
    const backends =
      m[1] === 'vcl+backend' ? servers.map((s) => `backend ${s} { .host = "${socks.get(s) ?? '127.0.0.1 9080'}"; }\n`).join('') : '';
    let vcl = expand(body);
    const version = /^\s*vcl\s+[\d.]+\s*;/.exec(vcl);
    vcl = version ? `${version[0]}\n${backends}${vcl.slice(version[0].length)}` : `vcl ${syntax};\n${backends}${vcl}`;
    out.push({ name: `${file}:${text.slice(0, m.index).split('\n').length}`, text: vcl, refusedWith, storages });
  }
  return out;
}

/** VMODs of Varnish's test suite that exist only to test Varnish itself. */
const TEST_ONLY_VMODS = /\bimport\s+(debug|vtc)\b/;

describe('conformance/vtc', () => {
  const all = ['core', 'esi', 'gzip'].flatMap((set) => {
    const dir = join(VTC, set);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.vtc'))
      .sort()
      .flatMap((f) => vtcVcls(`${set}/${f}`, readFileSync(join(dir, f), 'utf8')));
  });
  const usable = all.filter((v) => !TEST_ONLY_VMODS.test(v.text) && !v.text.includes('C{'));
  const check = (v: VtcVcl) =>
    checkSource(
      { name: v.name, text: v.text },
      { storages: v.storages, exists: () => false, readFile: (p) => { throw new Error(`no file ${p}`); } },
    );

  it('has VCL to check', () => {
    expect(usable.filter((v) => !v.refusedWith).length).toBeGreaterThan(250);
    expect(usable.filter((v) => v.refusedWith).length).toBeGreaterThan(5);
  });

  it('checks clean every VCL that Varnish compiles', () => {
    const failures = usable.filter((v) => !v.refusedWith).flatMap((v) => {
      const r = check(v);
      return r.checked ? [] : [`${v.name}\n${errorsOf(r)}`];
    });
    expect(failures).toEqual([]);
  });

  it('refuses every VCL that Varnish refuses', () => {
    const missed = usable.filter((v) => v.refusedWith).flatMap((v) => (check(v).checked ? [`${v.name}: ${v.refusedWith}`] : []));
    expect(missed).toEqual([]);
  });
});
