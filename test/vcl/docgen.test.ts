// docs/vcl-variables.md is generated from the spec table; it must be regenerated whenever the
// table changes (`node src/vcl/docgen.ts`), or this test fails.

import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { VARIABLES_DOC, variablesMarkdown } from '../../src/vcl/docgen.ts';
import { SUB_NAMES, SUBS, VARIABLES } from '../../src/vcl/spec.ts';

it('docs/vcl-variables.md is what src/vcl/docgen.ts makes of the spec (run it after changing spec.ts)', () => {
  expect(readFileSync(VARIABLES_DOC, 'utf8')).toBe(variablesMarkdown());
});

it('lists every variable of the spec, each version of it on its own row', () => {
  const rows = variablesMarkdown()
    .split('\n')
    .filter((l) => l.startsWith('| `'));
  expect(rows).toHaveLength(VARIABLES.length);
  const shown = rows.map((r) => /^\| `([^`]+)`/.exec(r)?.[1]);
  expect(shown).toEqual(expect.arrayContaining(['req.url', 'req.http.NAME', 'storage.NAME.free_space', 'now']));
  const proto = rows.filter((r) => r.startsWith('| `req.proto`'));
  expect(proto).toEqual([
    '| `req.proto` | STRING | client | client | - | 4.0 only | The HTTP protocol version of the request. |',
    '| `req.proto` | STRING | client | - | - | 4.1 only | The HTTP protocol version of the request. |',
  ]);
});

it("docs/vcl.md's table of return actions is the spec's", () => {
  const text = readFileSync(new URL('../../docs/vcl.md', import.meta.url), 'utf8');
  const rows = new Map(
    text
      .split('\n')
      .map((l) => /^\| (vcl_\w+) \| [^|]+ \| ([^|]+) \|$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => [m[1]!, m[2]!.trim()]),
  );
  expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(SUB_NAMES.map((s) => [s, SUBS[s].returns.join(', ')])));
});
