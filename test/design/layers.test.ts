// The folders of src/ form layers (../shared/DESIGN.md, "The parts"): a folder imports from its
// own layer or from layers below it, never from one above. This test walks every import of every
// source file (type-only imports too: a type from above is a dependency on above) and fails on an
// upward one, naming the file and the import.

import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

/**
 * Lowest first. The compiler, the VMOD binder and the runtime are one layer: compiled VCL calls
 * the runtime, the checker reads VMOD manifests, and the binder types arguments with the
 * compiler's types, so they import each other by design. Everything shared below them (the
 * parameter table, units, value parsers, the header table, the log hub) is in common/.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['common'],
  ['vcl', 'vmod', 'runtime'],
  ['filters', 'http1'],
  ['cache'],
  ['proxy'],
  ['mgmt'],
  ['vtc'],
  ['cli'],
];

const RANK = new Map(LAYERS.flatMap((folders, rank) => folders.map((f) => [f, rank] as const)));

/** The src/ folder a path is in, or null outside src/. */
function folderOf(path: string): string | null {
  const rel = relative(SRC, path);
  if (rel.startsWith('..')) return null;
  const top = rel.split(sep)[0];
  return top.endsWith('.ts') ? null : top;
}

/** The relative import specifiers of a source text: static, `import type`, re-exports and `import()`. */
function importsOf(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g)) out.push(m[1]);
  for (const m of text.matchAll(/\bimport\s*\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) out.push(m[1]);
  for (const m of text.matchAll(/(?:^|\n)\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/g)) out.push(m[1]);
  return out;
}

/** An import from `file` to `spec` that goes up a layer, described; null when it is allowed. */
function upward(file: string, spec: string): string | null {
  const from = folderOf(file);
  const to = folderOf(resolve(dirname(file), spec));
  if (from === null || to === null || from === to) return null;
  const a = RANK.get(from);
  const b = RANK.get(to);
  if (a === undefined) return `src/${from}/ is in no layer (add it to LAYERS)`;
  if (b === undefined) return `src/${to}/ is in no layer (add it to LAYERS)`;
  return b > a ? `${relative(SRC, file)} imports ${spec}: ${to}/ is above ${from}/` : null;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('layers of src/', () => {
  it('every folder of src/ is in a layer', () => {
    const folders = readdirSync(SRC, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(folders.filter((f) => !RANK.has(f))).toEqual([]);
  });

  it('no import goes to a layer above', () => {
    const found: string[] = [];
    let imports = 0;
    for (const file of sourceFiles(SRC)) {
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        imports++;
        const problem = upward(file, spec);
        if (problem !== null) found.push(problem);
      }
    }
    expect(imports).toBeGreaterThan(500);
    expect(found).toEqual([]);
  });

  it('finds the kinds of import it must see, and refuses upward ones', () => {
    const text = [
      "import { a } from '../proxy/x.ts';",
      "import type { B } from '../mgmt/y.ts';",
      "export { c } from '../cli/z.ts';",
      "const m = await import('../vtc/w.ts');",
      "import '../cache/side-effect.ts';",
    ].join('\n');
    const specs = importsOf(text);
    expect(specs).toEqual(['../proxy/x.ts', '../mgmt/y.ts', '../cli/z.ts', '../vtc/w.ts', '../cache/side-effect.ts']);
    const file = join(SRC, 'cache', 'store.ts');
    expect(upward(file, '../proxy/x.ts')).toMatch(/proxy\/ is above cache\//);
    expect(upward(file, '../common/units.ts')).toBeNull();
    expect(upward(file, './object.ts')).toBeNull();
    expect(upward(join(SRC, 'common', 'log.ts'), '../mgmt/log-query.ts')).toMatch(/mgmt\/ is above common\//);
  });
});
