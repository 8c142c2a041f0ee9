// Every real-world VCL of the conformance set must parse: the accept/ cases compile in Varnish
// 7.1, and the reject/ cases fail in the checker, not in the parser. So must the VCL of
// Varnish's own test cases (vtc/) that Varnish compiles. The files are read where they are;
// they belong to their projects and are not copied into this repository.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostics } from '../../src/vcl/diagnostics.ts';
import { parseVcl } from '../../src/vcl/parse.ts';

const ROOT = resolve(import.meta.dirname, '../../../shared/conformance/vcl');
const VTC_ROOT = resolve(import.meta.dirname, '../../../shared/conformance/vtc');

function cases(kind: 'accept' | 'reject'): string[] {
  const dir = join(ROOT, kind);
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

describe.each(['accept', 'reject'] as const)('conformance/vcl/%s', (kind) => {
  const names = cases(kind);

  it('has cases to parse', () => {
    expect(names.length).toBeGreaterThan(kind === 'accept' ? 10 : 0);
  });

  it.each(names)('%s parses without errors', (name) => {
    const dir = join(ROOT, kind, name);
    const meta = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as { vcl_path?: string[] };
    const vclPath = (meta.vcl_path ?? []).map((p) => join(dir, p));
    const r = parseVcl(join(dir, 'main.vcl'), { vclPath });
    expect(formatDiagnostics(r.diagnostics.sorted(), r.sources)).toBe('');
    expect(r.program!.decls.length).toBeGreaterThan(0);
  });
});

/** The VCL of each `-vcl {...}` and `-vcl+backend {...}` in a .vtc file, by line. */
function vtcVcls(text: string): { line: number; vcl: string }[] {
  const out: { line: number; vcl: string }[] = [];
  const opening = /-vcl(?:\+backend)?\s*\{/g;
  for (let m = opening.exec(text); m !== null; m = opening.exec(text)) {
    // VTC braces nest, as in Tcl: the block ends at the brace that balances the opening one.
    let depth = 1;
    let i = opening.lastIndex;
    for (; i < text.length && depth > 0; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}') depth--;
    }
    // varnishtest adds the version line when the VCL has none, and fills in ${macros}.
    let vcl = text.slice(opening.lastIndex, i - 1).replace(/\$\{[^}]*\}/g, '127.0.0.1');
    if (!/^\s*vcl\s+\d/.test(vcl)) vcl = `vcl 4.1;\n${vcl}`;
    out.push({ line: text.slice(0, m.index).split('\n').length, vcl });
  }
  return out;
}

describe('conformance/vtc', () => {
  const blocks = ['core', 'esi', 'gzip'].flatMap((set) => {
    const dir = join(VTC_ROOT, set);
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.vtc'))
      .sort()
      .flatMap((f) => vtcVcls(readFileSync(join(dir, f), 'utf8')).map((b) => ({ name: `${set}/${f}:${b.line}`, ...b })));
  });

  it('has VCL to parse', () => {
    expect(blocks.length).toBeGreaterThan(200);
  });

  it('parses the VCL of every test case that Varnish compiles', () => {
    const noFiles = { exists: () => false, readFile: (p: string) => { throw new Error(`no file ${p}`); } };
    const failures = blocks.flatMap(({ name, vcl }) => {
      const r = parseVcl({ name, text: vcl }, noFiles);
      // Includes of files the test case writes at run time cannot be found here.
      const errors = r.diagnostics.list.filter((d) => !d.message.startsWith('Cannot find include file'));
      return errors.length === 0 ? [] : [formatDiagnostics(errors, r.sources)];
    });
    expect(failures).toEqual([]);
  });
});
