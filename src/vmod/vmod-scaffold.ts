// The files `shellac vmodtool --new NAME` writes: a manifest with one function, its
// implementation and its test. They compile and pass as written, so a new VMOD starts green;
// docs/writing-a-vmod.md explains what to change next.

import { moduleTypeName } from './vmod-interface.ts';

export interface ScaffoldPaths {
  /** src/vmod/api.ts as imported from the new VMOD's folder. */
  readonly apiImport: string;
  /** The runtime's task context, HTTP objects and VCL loader, as imported from the new VMOD's folder. */
  readonly taskImport: string;
  readonly httpImport: string;
  readonly loadVclImport: string;
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

  const test = `import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VclHttp } from '${paths.httpImport}';
import { loadVcl } from '${paths.loadVclImport}';
import { VclTask } from '${paths.taskImport}';
import { hello } from './index.ts';

describe('${name}.hello', () => {
  it('greets by name, and nobody when the name is not set', () => {
    expect(hello(new VclTask('client'), 'VCL')).toBe('Hello, VCL!');
    expect(hello(new VclTask('client'), null)).toBe('Hello, nobody!');
  });

  it('greets from VCL, with the manifest default when called without a name', async () => {
    const vcl = await loadVcl({
      name: 'test',
      // The folder holding this VMOD's folder, where VCL's import finds it.
      vmodPath: [fileURLToPath(new URL('..', import.meta.url))],
      source: \`vcl 4.1;
import ${name};
backend default none;
sub vcl_recv {
  set req.http.greeting = ${name}.hello(req.http.name);
  set req.http.default = ${name}.hello();
  return (synth(200));
}\`,
    });
    const task = new VclTask('client');
    task.req = VclHttp.request('GET', '/');
    task.req.set('name', 'VCL');
    expect(await vcl.run('vcl_recv', task)).toMatchObject({ action: 'synth', status: 200 });
    expect(task.req.get('greeting')).toBe('Hello, VCL!');
    expect(task.req.get('default')).toBe('Hello, world!');
  });
});
`;

  return [
    { path: 'vmod.vcc', text: manifest },
    { path: 'index.ts', text: index },
    { path: `${name}.test.ts`, text: test },
  ];
}
