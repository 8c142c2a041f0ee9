// Checking VCL split over files: errors in an included file name it and the include chain,
// missing files and cycles are refused, -I directories are searched, and the syntax version is
// the top file's (an included file's own version line may not exceed it), as in Varnish 7.1.

import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkSource } from '../../src/vcl/compile.ts';
import { formatDiagnostics } from '../../src/vcl/diagnostics.ts';
import { listed } from './check-util.ts';

const root = mkdtempSync(join(tmpdir(), 'shellac-check-include-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(root, name);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

const BACKEND = 'backend default { .host = "127.0.0.1"; }\n';

describe('includes', () => {
  it('reports an error in an included file with the chain that led there', () => {
    write('chain/bad.vcl', 'sub vcl_recv { set req.http.a = nosuch; }\n');
    write('chain/mid.vcl', 'include "bad.vcl";\n');
    const top = write('chain/top.vcl', `vcl 4.1;\n${BACKEND}include "mid.vcl";\n`);
    const r = checkSource(top);
    expect(r.checked).toBeUndefined();
    expect(listed(r)).toEqual(["1:33 Symbol not found: 'nosuch'"]);
    const text = formatDiagnostics(r.diagnostics.sorted(), r.sources);
    expect(text).toBe(
      [
        `${join(root, 'chain/bad.vcl')}:1:33: error: Symbol not found: 'nosuch'`,
        ' 1 | sub vcl_recv { set req.http.a = nosuch; }',
        '   |                                 ^~~~~~',
        `  included from ${join(root, 'chain/mid.vcl')}:1:1`,
        `  included from ${top}:3:1`,
      ].join('\n'),
    );
  });

  it('refuses a missing include, naming where it was looked for', () => {
    const top = write('missing/top.vcl', `vcl 4.1;\n${BACKEND}include "nosuch.vcl";\n`);
    const r = checkSource(top);
    expect(listed(r)).toEqual([`3:1 Cannot find include file 'nosuch.vcl' (searched: ${join(root, 'missing/nosuch.vcl')})`]);
  });

  it('refuses an include cycle, naming it', () => {
    const loop = write('cycle/loop.vcl', 'include "loop.vcl";\n');
    const top = write('cycle/top.vcl', `vcl 4.1;\n${BACKEND}include "loop.vcl";\n`);
    const r = checkSource(top);
    expect(listed(r)).toEqual([`1:1 Include cycle: ${loop} -> ${loop}`]);
  });

  it('searches the -I directories after the including file’s own', () => {
    write('lib/acl.vcl', 'acl purgers { "127.0.0.1"; }\n');
    const top = write('app/top.vcl', `vcl 4.1;\n${BACKEND}include "acl.vcl";\nsub vcl_recv { if (client.ip ~ purgers) { return (purge); } }\n`);
    expect(listed(checkSource(top))).toEqual([expect.stringMatching(/^3:1 Cannot find include file 'acl.vcl'/)]);
    const r = checkSource(top, { vclPath: [join(root, 'lib')] });
    expect(listed(r)).toEqual([]);
    expect(r.checked?.acls.map((a) => a.name)).toEqual(['purgers']);
  });

  it('looks names up in the top file’s syntax version, not an included file’s', () => {
    write('version/v40.vcl', 'vcl 4.0;\nsub vcl_recv { set req.esi = false; set req.http."x.y" = "1"; }\n');
    const top41 = write('version/top41.vcl', `vcl 4.1;\n${BACKEND}include "v40.vcl";\n`);
    // Varnish 7.1 refuses req.esi here (the VCL is 4.1) and accepts the quoted header.
    expect(listed(checkSource(top41))).toEqual(["2:20 Symbol not found: 'req.esi' (it exists in VCL 4.0; this VCL is 4.1)"]);
    const top40 = write('version/top40.vcl', `vcl 4.0;\n${BACKEND}include "v40.vcl";\n`);
    expect(listed(checkSource(top40))).toEqual(['2:50 Quoted headers are available for VCL >= 4.1']);
  });

  it('refuses an included file of a later version than the top file', () => {
    write('later/v41.vcl', 'vcl 4.1;\nsub vcl_recv { set req.http.x = local.socket; }\n');
    const top = write('later/top.vcl', `vcl 4.0;\n${BACKEND}include "v41.vcl";\n`);
    expect(listed(checkSource(top))).toEqual(['1:1 VCL version 4.1 higher than the top level version 4.0']);
  });

  it('refuses a top file that cannot be read, with no position', () => {
    const r = checkSource(join(root, 'nosuch.vcl'));
    expect(r.checked).toBeUndefined();
    expect(r.diagnostics.list).toHaveLength(1);
    expect(r.diagnostics.list[0]!.pos).toBeUndefined();
    expect(r.diagnostics.list[0]!.message).toContain('nosuch.vcl');
  });
});
