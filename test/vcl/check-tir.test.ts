// What the checker hands code generation: names resolved to their declared spelling, the
// default backend and probe settled, implicit conversions made explicit, constants typed; and
// how it reports: several independent errors in one run, unused declarations as warnings on
// request, VMOD $Restrict scopes judged through the call graph.

import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TExpr, TStmt } from '../../src/vcl/tir.ts';
import { check, clean, errors, listed, vcl } from './check-util.ts';

/** The user's statements of a sub (builtin.vcl's follow them). */
function body(text: string, sub: string): readonly TStmt[] {
  return clean(text, { noBuiltin: true }).subs.get(sub)!.body;
}

function setValue(stmt: TStmt | undefined): TExpr {
  if (stmt?.k !== 'set') throw new Error(`not a set: ${JSON.stringify(stmt)}`);
  return stmt.value;
}

describe('names in the checked program', () => {
  it('files a built-in sub written in capitals under its own name, user code first', () => {
    const c = clean(vcl('sub VCL_RECV { set req.http.x = "1"; }\n'));
    const recv = c.subs.get('vcl_recv')!;
    expect(recv.builtin).toBe('vcl_recv');
    expect(recv.body[0]).toMatchObject({ k: 'set', target: { k: 'header', obj: 'req', name: 'x' } });
    expect(recv.body.length).toBeGreaterThan(1);
    expect([...c.subs.keys()].filter((k) => k.toLowerCase() === 'vcl_recv')).toEqual(['vcl_recv']);
  });

  it('refers to subs, backends, VMODs and instances by their declared spelling', () => {
    const text =
      'vcl 4.1;\nimport std;\nimport directors;\nbackend Foo { .host = "127.0.0.1"; }\n' +
      'sub vcl_init { new RR = directors.round_robin(); rr.add_backend(FOO); }\n' +
      'sub vcl_recv { call MySub; STD.LOG("x"); set req.backend_hint = rr.backend(); }\nsub mysub { }\n';
    const c = clean(text, { noBuiltin: true });
    const recv = c.subs.get('vcl_recv')!.body;
    expect(recv[0]).toMatchObject({ k: 'call', sub: 'mysub' });
    expect(recv[1]).toMatchObject({ k: 'eval', e: { k: 'vmod_call', module: 'std', fn: { name: 'log' } } });
    expect(setValue(recv[2])).toMatchObject({ k: 'method_call', instance: 'RR', fn: { name: 'backend' } });
    const init = c.subs.get('vcl_init')!.body;
    expect(init[1]).toMatchObject({ k: 'eval', e: { k: 'method_call', args: [{ value: { k: 'backend', name: 'Foo' } }] } });
    expect([...c.subs.keys()]).toEqual(['vcl_init', 'vcl_recv', 'mysub']);
  });

  it("takes the backend named 'default' as the default one, wherever it is declared", () => {
    const text = 'vcl 4.1;\nbackend a { .host = "127.0.0.1"; }\nbackend default { .host = "127.0.0.2"; }\nsub vcl_recv { set req.backend_hint = a; set req.backend_hint = default; }\n';
    const c = clean(text);
    expect(c.defaultBackend).toBe('default');
    expect(setValue(c.subs.get('vcl_recv')!.body[1])).toMatchObject({ k: 'backend', name: 'default' });
    const first = clean('vcl 4.1;\nbackend a { .host = "127.0.0.1"; }\nsub vcl_recv { set req.backend_hint = default; }\n');
    expect(first.defaultBackend).toBe('a');
    expect(setValue(first.subs.get('vcl_recv')!.body[0])).toMatchObject({ k: 'backend', name: 'a' });
  });

  it("gives the probe named 'default' to backends without one, and names inline probes", () => {
    const text =
      'vcl 4.1;\nprobe default { .url = "/health"; }\nprobe other { .url = "/"; }\n' +
      'backend a { .host = "127.0.0.1"; }\nbackend b { .host = "127.0.0.1"; .probe = other; }\n' +
      'backend c { .host = "127.0.0.1"; .probe = { .url = "/c"; } }\nbackend d none;\n' +
      'sub vcl_recv { if (req.url) { set req.backend_hint = b; } else if (req.http.x) { set req.backend_hint = c; } else { set req.backend_hint = d; } }\n';
    const c = clean(text);
    expect(c.backends.map((b) => [b.name, b.probe])).toEqual([
      ['a', 'default'],
      ['b', 'other'],
      ['c', 'c.probe'],
      ['d', undefined],
    ]);
    expect(c.probes.map((p) => [p.name, p.url])).toEqual([
      ['default', '/health'],
      ['other', '/'],
      ['c.probe', '/c'],
    ]);
  });
});

describe('values in the checked program', () => {
  it('makes conversions to STRING and BOOL explicit', () => {
    const stmts = body(vcl('sub vcl_recv { set req.http.a = req.restarts; if (req.http.b) { } }\n'), 'vcl_recv');
    expect(setValue(stmts[0])).toMatchObject({ k: 'conv', type: 'STRING', from: 'INT', e: { k: 'var', spec: { name: 'req.restarts' } } });
    expect(stmts[1]).toMatchObject({ k: 'if', cond: { k: 'conv', type: 'BOOL', from: 'STRING', e: { k: 'header', obj: 'req', name: 'b' } } });
  });

  it('flattens string concatenation into one list of parts', () => {
    const [s] = body(vcl('sub vcl_recv { set req.http.a = "x" + req.url + 1; }\n'), 'vcl_recv');
    const v = setValue(s);
    expect(v.k).toBe('concat');
    expect(v.k === 'concat' && v.parts.map((p) => p.k)).toEqual(['const', 'var', 'conv']);
  });

  it('types literals by what the context wants', () => {
    const stmts = body(vcl('import std;\nsub vcl_recv { set req.http.a = std.random(0, 1); set req.ttl = 2m; std.cache_req_body(2KB); }\n'), 'vcl_recv');
    expect(setValue(stmts[0])).toMatchObject({ k: 'conv', from: 'REAL', e: { args: [{ value: { type: 'REAL', value: 0 } }, { value: { type: 'REAL', value: 1 } }] } });
    expect(setValue(stmts[1])).toMatchObject({ k: 'const', type: 'DURATION', value: 120 });
    expect(stmts[2]).toMatchObject({ e: { args: [{ value: { type: 'BYTES', value: 2048 } }] } });
  });

  it('keeps BLOB literals as their base64 text', () => {
    const c = clean('vcl 4.1;\nbackend b { .host = "127.0.0.1"; .preamble = :SGVsbG8=:; }\nsub vcl_recv { set req.http.x = :aGk=:; }\n');
    expect(c.backends[0]!.preamble).toBe('SGVsbG8=');
    expect(c.subs.get('vcl_recv')!.body[0]).toMatchObject({ value: { k: 'conv', from: 'BLOB', e: { k: 'const', type: 'BLOB', value: 'aGk=' } } });
  });

  it('carries the arguments of return actions', () => {
    const stmts = body(vcl('sub vcl_recv { if (req.url) { return (synth(404)); } return (fail("no")); }\n'), 'vcl_recv');
    const branch = stmts[0] as Extract<TStmt, { k: 'if' }>;
    expect(branch.then[0]).toMatchObject({ k: 'return', action: 'synth', args: [{ type: 'INT', value: 404 }] });
    expect(stmts[1]).toMatchObject({ k: 'return', action: 'fail', args: [{ type: 'STRING', value: 'no' }] });
  });

  it('collects each regex once per use, by index', () => {
    const c = clean(vcl('sub vcl_recv { if (req.url ~ "^/a" || req.url !~ "^/b") { set req.url = regsub(req.url, "x", "y"); } }\n'), { noBuiltin: true });
    expect(c.regexes.map((r) => r.source)).toEqual(['^/a', '^/b', 'x']);
    const cond = (c.subs.get('vcl_recv')!.body[0] as Extract<TStmt, { k: 'if' }>).cond;
    expect(cond).toMatchObject({ k: 'or', l: { k: 'match', negate: false, regex: { k: 'regex', regex: 0 } }, r: { k: 'match', negate: true, regex: { k: 'regex', regex: 1 } } });
  });
});

describe('reporting', () => {
  it('reports independent errors in one run, in source order', () => {
    const text = vcl('sub vcl_recv {\n  set req.ttl = "a";\n  return (deliver);\n}\nsub vcl_deliver {\n  set req.http.x = nosuch;\n}\nacl unused { "1.2.3.4"; }\n');
    expect(errors(text)).toEqual([
      '4:17 Expression has type STRING, expected DURATION',
      '5:11 return (deliver) is not allowed in vcl_recv; it may return hash, pass, pipe, purge, synth, restart, vcl, fail',
      "8:20 Symbol not found: 'nosuch'",
      '10:5 Unused acl unused, defined here but never used',
    ]);
  });

  it('makes unused declarations warnings when asked to, and checks the rest', () => {
    const text = vcl('sub f { }\nacl a { "1.2.3.4"; }\nprobe p { .url = "/"; }\nbackend other { .host = "127.0.0.1"; }\n');
    const r = check(text, { errUnref: false });
    expect(r.checked).toBeDefined();
    expect(listed(r)).toEqual([]);
    expect(listed(r, 'warning')).toEqual([
      '3:5 Unused sub f, defined here but never called',
      '4:5 Unused acl a, defined here but never used',
      '5:7 Unused probe p, defined here but never used',
      '6:9 Unused backend other, defined here but never used',
    ]);
  });

  it('never reports the subs of builtin.vcl as unused, and lets a VCL define its helper subs', () => {
    expect(listed(check(vcl('sub vcl_req_cookie { set req.http.x = "1"; }\nsub vcl_recv { call vcl_req_host; }\n')))).toEqual([]);
  });
});

describe('VMOD functions restricted to some subs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'shellac-check-restrict-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'rx'));
  writeFileSync(
    join(dir, 'rx', 'vmod.vcc'),
    '$Module rx 3 "a VMOD for this test"\n$ABI strict\n\n$Function VOID only_recv()\n$Restrict vcl_recv\n\nUsable in vcl_recv only.\n\n' +
      '$Function VOID top(PRIV_TOP)\n\nNo $Restrict: PRIV_TOP alone keeps it on the client side.\n\n' +
      '$Object o()\n\n$Method VOID .top(PRIV_TOP)\n\nA method with PRIV_TOP: varnishd compiles it anywhere.\n',
  );
  const opts = { vmodPath: [dir] };

  it('reports a VMOD it cannot find once, at the import, not at each use', () => {
    const found = errors(vcl('import nosuch;\nsub vcl_recv { nosuch.go(); set req.http.x = nosuch.value(); }\n'), opts);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^3:8 Could not find VMOD 'nosuch' in the vmod_path; looked for /);
    expect(found[0]).toContain(join(dir, 'nosuch', 'vmod.vcc'));
  });

  it('accepts a call where the manifest allows it', () => {
    clean(vcl('import rx;\nsub vcl_recv { rx.only_recv(); }\n'), opts);
  });

  it('refuses it elsewhere, also through a custom sub', () => {
    expect(errors(vcl('import rx;\nsub vcl_deliver { rx.only_recv(); }\n'), opts)).toEqual([
      "4:19 Not available in subroutine 'vcl_deliver': rx.only_recv() can be called in vcl_recv",
    ]);
    expect(errors(vcl('import rx;\nsub vcl_recv { call f; }\nsub vcl_hash { call f; }\nsub f { rx.only_recv(); }\n'), opts)).toEqual([
      "6:9 Not available in subroutine 'vcl_hash': rx.only_recv() can be called in vcl_recv (sub f is called from vcl_hash)",
    ]);
  });

  it('keeps a function taking PRIV_TOP on the client side, as varnishd does (esi/v00043)', () => {
    clean(vcl('import rx;\nsub vcl_recv { rx.top(); }\nsub vcl_deliver { rx.top(); }\n'), opts);
    expect(errors(vcl('import rx;\nsub vcl_backend_fetch { rx.top(); }\nsub vcl_init { rx.top(); }\n'), opts)).toEqual([
      "4:25 Not available in subroutine 'vcl_backend_fetch': rx.top() can be called in client",
      "5:16 Not available in subroutine 'vcl_init': rx.top() can be called in client",
    ]);
    clean(vcl('import rx;\nsub vcl_init { new x = rx.o(); }\nsub vcl_backend_fetch { x.top(); }\n'), opts);
  });
});
