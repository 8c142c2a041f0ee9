// The files `shellac vmodtool --new NAME` writes: a manifest with one function, its
// implementation and its test. They compile and pass as written, so a new VMOD starts green;
// docs/writing-a-vmod.md explains what to change next.

import { VMOD_API_VERSION } from './api-platform.ts';
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
$ABI ${VMOD_API_VERSION}

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
${greetingVcl(name)}\`,
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

/**
 * The files that make an out-of-tree VMOD a package of its own: package.json (Shellac as a
 * dev dependency from `shellacRoot`, for `shellac/vmod` and `shellac/testing`), tsconfig.json,
 * a vitest test through `shellac/testing`, and a `.vtc` run by `shellac test -M ..`. The
 * implementation and manifest are scaffoldFiles' with `shellac/vmod` as the API import.
 */
export function packageFiles(name: string, shellacRoot: string): { path: string; text: string }[] {
  const type = moduleTypeName({ name });
  const pkg = {
    name: `shellac-vmod-${name.replace(/_/g, '-')}`,
    version: '0.1.0',
    private: true,
    type: 'module',
    description: `The ${name} VMOD for Shellac`,
    scripts: {
      test: 'vitest run',
      typecheck: 'tsc --noEmit',
      vtc: `shellac test -M .. tests/${name}.vtc`,
      vmodtool: 'shellac vmodtool vmod.vcc',
    },
    devDependencies: { shellac: `file:${shellacRoot}`, '@types/node': '^24.0.0', typescript: '^5.9.0', vitest: '^4.0.0' },
  };
  const tsconfig = {
    compilerOptions: {
      target: 'es2024',
      lib: ['es2024'],
      module: 'nodenext',
      moduleResolution: 'nodenext',
      types: ['node'],
      strict: true,
      noEmit: true,
      allowImportingTsExtensions: true,
      erasableSyntaxOnly: true,
      verbatimModuleSyntax: true,
      skipLibCheck: true,
      isolatedModules: true,
    },
    include: ['*.ts'],
  };
  const test = `// Through Shellac's compiler, binder and platform, as a server would load it (shellac/testing).
import { fileURLToPath } from 'node:url';
import { loadTestVcl } from 'shellac/testing';
import { describe, expect, it } from 'vitest';

describe('${name} in VCL', () => {
  it('greets from VCL, with the manifest default when called without a name', async () => {
    const t = await loadTestVcl({
      vmodPath: [fileURLToPath(new URL('.', import.meta.url))],
      vcl: \`${greetingVcl(name)}\`,
    });
    const { action, task } = await t.run('vcl_recv', { headers: { name: 'VCL' } });
    expect(action).toMatchObject({ action: 'synth', status: 200 });
    expect(task.req?.get('greeting')).toBe('Hello, VCL!');
    expect(task.req?.get('default')).toBe('Hello, world!');
    await t.discard();
  });
});
`;
  const vtc = `varnishtest "${name}.hello through a running Shellac (shellac test -M .. tests/${name}.vtc)"

server s1 {
\trxreq
\ttxresp -body "from the backend"
} -start

varnish v1 -vcl+backend {
\timport ${name};
\tsub vcl_deliver {
\t\tset resp.http.greeting = ${name}.hello("vtc");
\t}
} -start

client c1 {
\ttxreq
\trxresp
\texpect resp.status == 200
\texpect resp.http.greeting == "Hello, vtc!"
} -run
`;
  const gitignore = 'node_modules/\n';
  return [
    { path: 'package.json', text: `${JSON.stringify(pkg, null, 2)}\n` },
    { path: 'tsconfig.json', text: `${JSON.stringify(tsconfig, null, 2)}\n` },
    { path: `${name}.test.ts`, text: test },
    { path: `tests/${name}.vtc`, text: vtc },
    { path: '.gitignore', text: gitignore },
    { path: 'README.md', text: readme(name, type) },
  ];
}

function readme(name: string, type: string): string {
  const q = '`';
  return `# ${name}

A VMOD for Shellac (its contract: ${q}${type}${q} in interface.ts). ${q}npm install${q}, then
${q}npm test${q}, ${q}npm run typecheck${q} and ${q}npm run vtc${q}; after changing vmod.vcc,
${q}npm run vmodtool${q}. The manual is docs/${name}.md.
`;
}

/** The VCL both scaffolded tests load: the greeting with a name and with the default. */
function greetingVcl(name: string): string {
  return `import ${name};
backend default none;
sub vcl_recv {
  set req.http.greeting = ${name}.hello(req.http.name);
  set req.http.default = ${name}.hello();
  return (synth(200));
}`;
}
