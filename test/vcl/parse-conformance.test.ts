// Every real-world VCL of the conformance set must parse: the accept/ cases compile in Varnish
// 7.1, and the reject/ cases fail in the checker, not in the parser. The files are read where
// they are; they belong to their projects and are not copied into this repository.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDiagnostics } from '../../src/vcl/diagnostics.ts';
import { parseVcl } from '../../src/vcl/parse.ts';

const ROOT = '/work/shared/conformance/vcl';

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
