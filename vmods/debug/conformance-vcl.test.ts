// The VCL of every Varnish test case that imports debug (../shared/conformance/vtc, read where it
// is), loaded through the whole runtime with this VMOD: each must load, or be refused with the
// message the case expects (`-errvcl`). Macros become loopback addresses, and the Unix sockets
// dyn_uds wants are made for real. Cases a missing compiler feature still blocks are listed
// with the refusal they get today: when that changes, this test says so.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadVcl } from '../../src/runtime/load-vcl.ts';
import { DEFAULT_VMOD_PATH } from '../../src/vmod/registry.ts';

const VTC = resolve(import.meta.dirname, '../../../shared/conformance/vtc');

/** Refused today for a reason outside this VMOD: the case's VCL and what Shellac says. */
const BLOCKED: Readonly<Record<string, string>> = {};

interface CaseVcl {
  readonly id: string;
  readonly text: string;
  /** `-errvcl MESSAGE {...}`: the message the case expects. */
  readonly refusedWith?: string;
}

function braced(text: string, from: number): [string, number] {
  let depth = 1;
  let i = from;
  for (; i < text.length && depth > 0; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}') depth--;
  }
  return [text.slice(from, i - 1), i];
}

/** Each `-vcl`, `-vcl+backend` and `-errvcl` body of a case, set up as varnishtest sets it up. */
function caseVcls(id: string, text: string, sockDir: string): CaseVcl[] {
  const out: CaseVcl[] = [];
  const opening = /-(vcl\+backend|vcl|errvcl)\s*(\{|")/g;
  for (let m = opening.exec(text); m !== null; m = opening.exec(text)) {
    let start = opening.lastIndex;
    let refusedWith: string | undefined;
    if (m[1] === 'errvcl') {
      const [message, end] = m[2] === '"' ? [text.slice(start, text.indexOf('"', start)), text.indexOf('"', start) + 1] : braced(text, start);
      refusedWith = message.trim();
      start = text.indexOf('{', end) + 1;
    } else if (m[2] === '"') continue;
    const [body, end] = braced(text, start);
    opening.lastIndex = end;
    const servers = [...new Set([...text.slice(0, m.index).matchAll(/^\s*server\s+(s\w+)/gm)].map((s) => s[1]))];
    const backends = m[1] === 'vcl+backend' ? servers.map((s) => `backend ${s} { .host = "127.0.0.1"; .port = "9080"; }\n`).join('') : '';
    const expanded = body
      .replace(/\$\{(s\d)_sock\}/g, (_all, s: string) => join(sockDir, `${s}.sock`))
      .replace(/\$\{\w+_port\}/g, '9080')
      .replace(/\$\{[^}]*\}/g, '127.0.0.1');
    const version = /^\s*vcl\s+[\d.]+\s*;/.exec(expanded);
    const vcl = version ? `${version[0]}\n${backends}${expanded.slice(version[0].length)}` : `vcl 4.1;\n${backends}${expanded}`;
    out.push({ id: `${id}#${out.length + 1}`, text: vcl, refusedWith });
  }
  return out;
}

const files = ['core', 'esi'].flatMap((set) =>
  existsSync(join(VTC, set))
    ? readdirSync(join(VTC, set))
        .filter((f) => f.endsWith('.vtc') && /^\s*import\s+debug\s*;/m.test(readFileSync(join(VTC, set, f), 'utf8')))
        .sort()
        .map((f) => `${set}/${f}`)
    : [],
);

describe("the VCL of Varnish's test cases that import debug", () => {
  let sockDir = '';
  const servers: Server[] = [];
  beforeAll(async () => {
    sockDir = mkdtempSync(join(tmpdir(), 'shellac-debug-vtc-'));
    for (const s of ['s1', 's2']) {
      const server = createServer((c) => c.destroy());
      await new Promise<void>((r) => server.listen(join(sockDir, `${s}.sock`), r));
      servers.push(server);
    }
  });
  afterAll(async () => {
    for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
    rmSync(sockDir, { recursive: true, force: true });
  });

  it('finds the 17 core cases and the 4 ESI ones', () => {
    expect(files.filter((f) => f.startsWith('core/'))).toHaveLength(17);
    expect(files.filter((f) => f.startsWith('esi/'))).toHaveLength(4);
  });

  it.each(files)('%s loads, or is refused as the case expects', async (file) => {
    const vcls = caseVcls(file, readFileSync(join(VTC, file), 'utf8'), sockDir);
    expect(vcls.length).toBeGreaterThan(0);
    for (const v of vcls) {
      const params = { pcre2_match_limit: 10000, nuke_limit: 50, max_esi_depth: 5 };
      const loading = loadVcl({ name: 'vcl1', source: v.text, vmodPath: DEFAULT_VMOD_PATH, env: { services: { params } } });
      const blocked = BLOCKED[v.id];
      const expected = blocked ?? v.refusedWith;
      if (expected === undefined) {
        const vcl = await loading.catch((e: Error) => {
          throw new Error(`${v.id}: ${e.message}`);
        });
        expect(vcl.temperature, v.id).toBe('warm');
        vcl.discard();
      } else {
        await expect(loading, v.id).rejects.toThrow(expected);
      }
    }
  });
});
