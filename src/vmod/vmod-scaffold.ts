// The files `shellac vmodtool --new NAME` writes: a manifest with one function, its
// implementation and its test. They compile and pass as written, so a new VMOD starts green;
// docs/writing-a-vmod.md explains what to change next.

import { moduleTypeName } from './vmod-interface.ts';

export interface ScaffoldPaths {
  /** src/vmod/api.ts as imported from the new VMOD's folder. */
  readonly apiImport: string;
  /** src/runtime/task.ts (the runtime's task context) as imported from the new VMOD's folder. */
  readonly taskImport: string;
}

export function scaffoldFiles(name: string, paths: ScaffoldPaths): { path: string; text: string }[] {
  const type = moduleTypeName({ name });
  const manifest = `# The manifest of the ${name} VMOD: its functions and objects with their VCL types, and
# their documentation. After changing it, run \`shellac vmodtool vmods/${name}/vmod.vcc\` to
# regenerate interface.ts and the manual page.

$Module ${name} 3 "Describe ${name} in one line"
$ABI strict

Say here what ${name} is for: this text opens its manual page.

$Function STRING hello(STRING name="world")

A greeting for \`name\`.
`;

  const index = `// The ${name} VMOD: the implementation of vmod.vcc. Each $Function is an exported function
// whose first parameter is the task context; interface.ts, generated from the manifest, is the
// contract this file must satisfy.

import type { VmodContext } from '${paths.apiImport}';
import * as self from './index.ts';
import type { ${type} } from './interface.ts';

export function hello(_ctx: VmodContext, name: string | null): string {
  return \`Hello, \${name ?? 'nobody'}!\`;
}

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies ${type};
`;

  const test = `import { describe, expect, it } from 'vitest';
import { VclTask } from '${paths.taskImport}';
import { hello } from './index.ts';

describe('${name}.hello', () => {
  it('greets by name', () => {
    expect(hello(new VclTask('client'), 'VCL')).toBe('Hello, VCL!');
  });

  it('greets nobody when the name is not set', () => {
    expect(hello(new VclTask('client'), null)).toBe('Hello, nobody!');
  });
});
`;

  return [
    { path: 'vmod.vcc', text: manifest },
    { path: 'index.ts', text: index },
    { path: `${name}.test.ts`, text: test },
  ];
}
