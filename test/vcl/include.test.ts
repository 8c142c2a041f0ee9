import { describe, expect, it } from 'vitest';
import type { SubDecl } from '../../src/vcl/ast.ts';
import { formatDiagnostics, type SourceFile } from '../../src/vcl/diagnostics.ts';
import { type ParseOptions, parseVcl } from '../../src/vcl/parse.ts';

/** An in-memory file system: path → text. */
function files(tree: Record<string, string>): ParseOptions {
  const paths = Object.keys(tree);
  return {
    readFile: (p) => {
      const text = tree[p];
      if (text === undefined) throw new Error(`ENOENT: no such file '${p}'`);
      return text;
    },
    exists: (p) => Object.hasOwn(tree, p),
    readDir: (dir) => {
      const prefix = dir === '.' ? '' : `${dir}/`;
      const names = paths.filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length).split('/')[0]!);
      if (names.length === 0) throw new Error(`ENOTDIR: '${dir}'`);
      return [...new Set(names)];
    },
  };
}

function parse(tree: Record<string, string>, top: string, vclPath?: string[]) {
  return parseVcl(top, { ...files(tree), vclPath });
}

function errors(r: ReturnType<typeof parseVcl>): string[] {
  return r.diagnostics
    .sorted()
    .map((d) => `${d.pos ? `${r.sources[d.pos.file]!.name}:${d.pos.line}:${d.pos.col} ` : ''}${d.message}`);
}

const subNames = (r: ReturnType<typeof parseVcl>) =>
  r.program!.decls.map((d) => (d.kind === 'sub' || d.kind === 'backend' ? d.name.name : d.kind));

describe('include', () => {
  it('splices a file found beside the including file, and records where it was included', () => {
    const r = parse(
      {
        'conf/main.vcl': 'vcl 4.1;\nsub a {}\ninclude "backends.vcl";\nsub b {}',
        'conf/backends.vcl': 'backend web { .host = "x"; }',
      },
      'conf/main.vcl',
    );
    expect(errors(r)).toEqual([]);
    expect(subNames(r)).toEqual(['a', 'web', 'b']);
    expect(r.sources.map((s: SourceFile) => [s.name, s.version, s.includedFrom])).toEqual([
      ['conf/main.vcl', 41, undefined],
      ['conf/backends.vcl', 41, { file: 0, line: 3, col: 1, offset: 18, length: 7 }],
    ]);
    expect(r.program!.decls[1]!.pos).toEqual({ file: 1, line: 1, col: 1, offset: 0, length: 7 });
  });

  it('searches the including directory first, then each vcl_path directory in order', () => {
    const tree = {
      'main.vcl': 'vcl 4.1;\ninclude "lib.vcl";\ninclude "only-b.vcl";',
      'p1/lib.vcl': 'sub from_p1 {}',
      'p2/lib.vcl': 'sub from_p2 {}',
      'p2/only-b.vcl': 'sub only_b {}',
    };
    expect(subNames(parse(tree, 'main.vcl', ['p1', 'p2']))).toEqual(['from_p1', 'only_b']);
    expect(subNames(parse(tree, 'main.vcl', ['p2', 'p1']))).toEqual(['from_p2', 'only_b']);
    const local = { ...tree, 'lib.vcl': 'sub local {}' };
    expect(subNames(parse(local, 'main.vcl', ['p1', 'p2']))).toEqual(['local', 'only_b']);
  });

  it('resolves includes of included files from their own directory', () => {
    const r = parse(
      {
        'main.vcl': 'vcl 4.1;\ninclude "sub/a.vcl";',
        'sub/a.vcl': 'include "b.vcl";',
        'sub/b.vcl': 'sub b {}',
      },
      'main.vcl',
    );
    expect(subNames(r)).toEqual(['b']);
    expect(r.sources.map((s) => s.name)).toEqual(['main.vcl', 'sub/a.vcl', 'sub/b.vcl']);
    expect(r.sources[2]!.includedFrom).toMatchObject({ file: 1, line: 1, col: 1 });
  });

  it('takes absolute paths as they are', () => {
    const r = parse({ 'main.vcl': 'vcl 4.1;\ninclude "/etc/x.vcl";', '/etc/x.vcl': 'sub x {}' }, 'main.vcl', ['p']);
    expect(subNames(r)).toEqual(['x']);
  });

  it('splices a file inside a sub body, where Varnish allows it too', () => {
    const r = parse(
      {
        'main.vcl': 'vcl 4.1;\nsub vcl_recv {\n  include "frag.vcl";\n  return (hash);\n}',
        'frag.vcl': 'set req.http.x = "1";\nunset req.http.y;',
      },
      'main.vcl',
    );
    expect(errors(r)).toEqual([]);
    const body = (r.program!.decls[0] as SubDecl).body.stmts;
    expect(body.map((s) => [s.kind, s.pos.file, s.pos.line])).toEqual([
      ['set', 1, 1],
      ['unset', 1, 2],
      ['return', 0, 4],
    ]);
  });

  it('includes the files a glob matches, sorted, from the first directory with any', () => {
    const r = parse(
      {
        'main.vcl': 'vcl 4.1;\ninclude +glob "parts/*.vcl";',
        'parts/b.vcl': 'sub b {}',
        'parts/a.vcl': 'sub a {}',
        'parts/c.txt': 'not vcl',
        'parts/.hidden.vcl': 'sub hidden {}',
        'lib/parts/z.vcl': 'sub z {}',
      },
      'main.vcl',
      ['lib'],
    );
    expect(errors(r)).toEqual([]);
    expect(subNames(r)).toEqual(['a', 'b']);
    const fromPath = parse(
      { 'main.vcl': 'vcl 4.1;\ninclude +glob "parts/?.vcl";', 'lib/parts/z.vcl': 'sub z {}' },
      'main.vcl',
      ['lib'],
    );
    expect(subNames(fromPath)).toEqual(['z']);
  });

  it('reports a glob that matches nothing', () => {
    const r = parse({ 'main.vcl': 'vcl 4.1;\ninclude +glob "parts/*.vcl";' }, 'main.vcl', ['lib']);
    expect(errors(r)).toEqual(["main.vcl:2:15 Include glob 'parts/*.vcl' matched no files (searched: ., lib)"]);
  });

  it('reports a missing file at the include, with every place searched', () => {
    const r = parse({ 'conf/main.vcl': 'vcl 4.1;\n  include "x.vcl";' }, 'conf/main.vcl', ['/a', 'b']);
    expect(errors(r)).toEqual([
      "conf/main.vcl:2:3 Cannot find include file 'x.vcl' (searched: conf/x.vcl, /a/x.vcl, b/x.vcl)",
    ]);
    expect(r.program).toBeUndefined();
  });

  it('reports an include cycle with the chain of files', () => {
    const r = parse(
      {
        'main.vcl': 'vcl 4.1;\ninclude "a.vcl";',
        'a.vcl': 'sub a {}\ninclude "b.vcl";',
        'b.vcl': 'include "a.vcl";',
      },
      'main.vcl',
    );
    expect(errors(r)).toEqual(['b.vcl:1:1 Include cycle: a.vcl -> b.vcl -> a.vcl']);
    const self = parse({ 'main.vcl': 'vcl 4.1;\ninclude "main.vcl";' }, 'main.vcl');
    expect(errors(self)).toEqual(['main.vcl:2:1 Include cycle: main.vcl -> main.vcl']);
  });

  it('includes the same file twice when it is no cycle', () => {
    const r = parse(
      {
        'main.vcl': 'vcl 4.1;\nsub a { include "x.vcl"; }\nsub b { include "x.vcl"; }',
        'x.vcl': 'set req.http.x = "1";',
      },
      'main.vcl',
    );
    expect(errors(r)).toEqual([]);
    expect(r.sources.map((s) => [s.name, s.includedFrom?.line])).toEqual([
      ['main.vcl', undefined],
      ['x.vcl', 2],
      ['x.vcl', 3],
    ]);
  });

  it("drops an included file's own vcl line and records its version", () => {
    const r = parse(
      {
        'main.vcl': 'vcl 4.1;\ninclude "old.vcl";\ninclude "plain.vcl";',
        'old.vcl': 'vcl 4.0;\nsub old {}',
        'plain.vcl': 'sub plain {}',
      },
      'main.vcl',
    );
    expect(errors(r)).toEqual([]);
    expect(subNames(r)).toEqual(['old', 'plain']);
    expect(r.sources.map((s) => s.version)).toEqual([41, 40, 41]);
  });

  it('refuses an included file of a higher version than the top file', () => {
    const r = parse({ 'main.vcl': 'vcl 4.0;\ninclude "new.vcl";', 'new.vcl': 'vcl 4.1;\nsub x {}' }, 'main.vcl');
    expect(errors(r)).toEqual(['new.vcl:1:1 VCL version 4.1 higher than the top level version 4.0']);
    expect(r.diagnostics.list[0]!.pos).toEqual({ file: 1, line: 1, col: 1, offset: 0, length: 8 });
  });

  it('reports errors in included files there, with the include chain', () => {
    const r = parse({ 'main.vcl': 'vcl 4.1;\ninclude "bad.vcl";', 'bad.vcl': 'sub x { set y = ; }' }, 'main.vcl');
    expect(formatDiagnostics(r.diagnostics.sorted(), r.sources)).toBe(
      [
        "bad.vcl:1:17: error: Expected an expression got ';'",
        ' 1 | sub x { set y = ; }',
        '   |                 ^',
        '  included from main.vcl:2:1',
      ].join('\n'),
    );
  });

  it('takes include after a dot as a name, and checks the directive otherwise', () => {
    const ok = parse({ 'main.vcl': 'vcl 4.1;\nsub a { set req.http.include = "x"; }' }, 'main.vcl');
    expect(errors(ok)).toEqual([]);
    const bad = parse({ 'main.vcl': 'vcl 4.1;\ninclude foo;\ninclude +foo "x";\ninclude "x.vcl"\nsub a {}' }, 'main.vcl');
    expect(errors(bad)).toEqual([
      'main.vcl:2:9 include not followed by a string constant',
      "main.vcl:3:10 Unknown include flag '+foo'",
      "main.vcl:4:1 Cannot find include file 'x.vcl' (searched: x.vcl)",
      "main.vcl:5:1 Expected ';' got 'sub'",
    ]);
  });

  it('reports a top file that cannot be read, at no position', () => {
    const r = parse({}, 'nope.vcl');
    expect(r.diagnostics.list).toEqual([
      {
        severity: 'error',
        message: "Cannot read VCL file 'nope.vcl': ENOENT: no such file 'nope.vcl'",
        pos: undefined,
        notes: undefined,
      },
    ]);
    expect(r.sources).toEqual([]);
  });

  it('appends to a given list of sources, for the builtin VCL parsed after a VCL', () => {
    const first = parseVcl({ name: 'main.vcl', text: 'vcl 4.1;\nsub a {}' });
    const second = parseVcl({ name: '<builtin>', text: 'vcl 4.0;\nsub b {}' }, { sources: first.sources });
    expect(second.sources).toBe(first.sources);
    expect(first.sources.map((s) => s.name)).toEqual(['main.vcl', '<builtin>']);
    expect(second.program!.decls[0]!.pos.file).toBe(1);
    expect(second.program!.versionPos.file).toBe(1);
  });
});
