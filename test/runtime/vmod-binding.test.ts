// VMOD calls from compiled VCL through the test VMOD (test/fixtures/vmods/tvmod): every argument
// form, PRIV scopes and their frees, objects, async functions, failures, and the load errors of
// implementations that do not match their manifest.

import { beforeEach, describe, expect, it } from 'vitest';
import { VclHttp } from '../../src/runtime/http.ts';
import { VclTask } from '../../src/runtime/task.ts';
import { resetTestVmodState, testVmodState } from '../fixtures/vmods/state.ts';
import { backendTask, clientTask, load, run } from './vcl-harness.ts';

beforeEach(() => {
  resetTestVmodState();
});

async function recv(body: string, init: Parameters<typeof clientTask>[0] = {}) {
  const vcl = await load(`import tvmod;\nsub vcl_recv {\n${body}\nreturn (hash);\n}\n`);
  const t = clientTask(init);
  const action = run(vcl, 'vcl_recv', t);
  return { vcl, t, action, h: (n: string) => t.req?.get(n) ?? null };
}

describe('arguments', () => {
  it('passes every scalar type, fills defaults, flags optional ones and takes named ones', async () => {
    const { h } = await recv(`
      set req.http.a = tvmod.args(1, 2.5, true, 3s, 1KB * 1.5, std_now, client.ip, default);
      set req.http.b = tvmod.args(-1, 0, false, 1m, 1MB, std_now, client.ip, default, three, "o", named = "n");
      set req.http.c = tvmod.args(i = 7, r = 1, b = true, d = 1s, by = 1B, t = std_now, ip = server.ip, be = default, opt = "x");`.replaceAll(
      'std_now',
      'req.time',
    ));
    expect(h('a')).toBe('1,2.5,true,3,1536,0,192.0.2.10,default,two,<absent>,dflt');
    expect(h('b')).toBe('-1,0,false,60,1048576,0,192.0.2.10,default,three,o,n');
    expect(h('c')).toBe('7,1,true,1,1,0,192.0.2.1,default,two,x,dflt');
  });

  it('tells an absent optional argument from a given one', async () => {
    const { h } = await recv('set req.http.a = tvmod.optional_real(); set req.http.b = tvmod.optional_real(1.5);');
    expect([h('a'), h('b')]).toEqual(['absent', 'given 1.5']);
  });

  it('passes STRANDS as parts, unset ones as null', async () => {
    const { h } = await recv('set req.http.s = tvmod.strands("a" + req.http.missing + req.url); set req.http.one = tvmod.strands(req.url);', { url: '/u' });
    expect(h('s')).toBe('a|<null>|/u');
    expect(h('one')).toBe('/u');
  });

  it('passes HEADER arguments as references that read and write', async () => {
    const { h } = await recv('tvmod.set_header(req.http.X-Set, "v"); set req.http.got = tvmod.get_header(req.http.host);');
    expect([h('x-set'), h('got')]).toEqual(['v', 'example.com']);
  });

  it('passes BLOB literals and req.hash as bytes', async () => {
    const vcl = await load(`import tvmod;
      sub vcl_recv { set req.http.lit = tvmod.blob_length(:aGVsbG8=:); return (hash); }
      sub vcl_miss { set req.http.hash = tvmod.blob_length(req.hash); }`);
    const t = clientTask();
    run(vcl, 'vcl_recv', t);
    run(vcl, 'vcl_hash', t);
    run(vcl, 'vcl_miss', t);
    expect([t.req?.get('lit'), t.req?.get('hash')]).toEqual(['5', '32']);
  });

  it('passes REGEX, ACL, HTTP values and tells the method', async () => {
    const vcl = await load(`import tvmod;
      acl me { "192.0.2.10"; }
      sub vcl_recv {
        set req.http.re = tvmod.regex_match("^/a", req.url);
        set req.http.acl = tvmod.acl_match(me, client.ip);
        set req.http.url = tvmod.http_url(req);
        set req.http.method = tvmod.method();
        return (hash);
      }`);
    const t = clientTask({ url: '/abc' });
    run(vcl, 'vcl_recv', t);
    expect(['re', 'acl', 'url', 'method'].map((n) => t.req?.get(n))).toEqual(['yes', 'true', '/abc', 'vcl_recv']);
  });
});

describe('PRIV scopes', () => {
  it('keeps PRIV_CALL per call site for the life of the VCL, freed on discard', async () => {
    const vcl = await load(`import tvmod;
      sub vcl_recv { set req.http.a = tvmod.count_call(); set req.http.b = tvmod.count_call(); return (hash); }`);
    const t1 = clientTask();
    run(vcl, 'vcl_recv', t1);
    const t2 = clientTask();
    run(vcl, 'vcl_recv', t2);
    expect([t2.req?.get('a'), t2.req?.get('b')]).toEqual(['2', '2']);
    vcl.discard();
    expect(testVmodState().log.filter((l) => l.startsWith('tvmod:free:call'))).toEqual(['tvmod:free:call:2', 'tvmod:free:call:2']);
  });

  it('keeps PRIV_TASK per task, apart on each side, freed once when the task ends', async () => {
    const vcl = await load(`import tvmod;
      sub vcl_recv { set req.http.n = tvmod.count_task() + tvmod.count_task(); return (hash); }
      sub vcl_deliver { set resp.http.n = tvmod.count_task(); }
      sub vcl_backend_fetch { set bereq.http.n = tvmod.count_task(); }`);
    const t = clientTask();
    run(vcl, 'vcl_recv', t);
    t.resp = VclHttp.response(200, 'OK');
    run(vcl, 'vcl_deliver', t);
    expect([t.req?.get('n'), t.resp.get('n')]).toEqual(['3', '3']);
    const b = backendTask();
    run(vcl, 'vcl_backend_fetch', b);
    expect(b.bereq?.get('n')).toBe('1');
    t.end();
    t.end();
    expect(testVmodState().log.filter((l) => l.startsWith('tvmod:free:task'))).toEqual(['tvmod:free:task:3']);
  });

  it('shares PRIV_TOP with the top request; a function taking it is refused on the backend side', async () => {
    // varnishd's compiler keeps a PRIV_TOP function to client subs: there is no top request elsewhere.
    await expect(load('import tvmod;\nsub vcl_backend_fetch { set bereq.http.n = tvmod.count_top(); }')).rejects.toThrow(
      "Not available in subroutine 'vcl_backend_fetch'",
    );
    const vcl = await load(`import tvmod;
      sub vcl_recv { set req.http.n = tvmod.count_top(); return (hash); }`);
    const top = clientTask();
    run(vcl, 'vcl_recv', top);
    const child = new VclTask('client', {}, top);
    child.req = VclHttp.request('GET', '/esi');
    run(vcl, 'vcl_recv', child);
    expect([top.req?.get('n'), child.req.get('n')]).toEqual(['1', '2']);
    child.end();
    expect(testVmodState().log).not.toContain('tvmod:free:top:2');
    top.end();
    expect(testVmodState().log).toContain('tvmod:free:top:2');
  });

  it('keeps PRIV_VCL per VCL, shared with the event function, freed after PRIV_CALL', async () => {
    const vcl = await load(`import tvmod;
      sub vcl_recv { set req.http.n = tvmod.count_vcl() + tvmod.count_call(); return (hash); }`);
    const other = await load('import tvmod; sub vcl_recv { set req.http.n = tvmod.count_vcl(); return (hash); }', { name: 'other' });
    const t = clientTask();
    run(vcl, 'vcl_recv', t);
    run(vcl, 'vcl_recv', clientTask());
    const o = clientTask();
    run(other, 'vcl_recv', o);
    // The LOAD event counted 1 already.
    expect([t.req?.get('n'), o.req?.get('n')]).toEqual(['3', '2']);
    vcl.discard();
    const log = testVmodState().log;
    const frees = log.filter((l) => l.startsWith('tvmod:free:'));
    expect(frees).toEqual(['tvmod:free:call:2', 'tvmod:free:vcl:3']);
    other.discard();
  });

  it('keys PRIV_TASK of methods by instance', async () => {
    const vcl = await load(`import tvmod;
      sub vcl_init { new a = tvmod.counter(); new b = tvmod.counter(); }
      sub vcl_recv { set req.http.n = a.task_count() + "," + a.task_count() + "," + b.task_count() + "," + tvmod.count_task(); return (hash); }`);
    const t = clientTask();
    run(vcl, 'vcl_recv', t);
    expect(t.req?.get('n')).toBe('1,2,1,1');
  });
});

describe('objects', () => {
  it('constructs objects in vcl_init with their VCL name and arguments, and calls methods', async () => {
    const vcl = await load(`import tvmod;
      sub vcl_init { new c1 = tvmod.counter(); new c2 = tvmod.counter(start = 10); }
      sub vcl_recv { set req.http.n = c1.next() + " " + c2.next() + " " + c2.name(); set req.backend_hint = c1.backend(default); return (hash); }`);
    const t = clientTask();
    run(vcl, 'vcl_recv', t);
    expect(t.req?.get('n')).toBe('1 11 c2');
    expect(t.backendHint?.name).toBe('default');
    expect(testVmodState().log.filter((l) => l.startsWith('tvmod:new'))).toEqual(['tvmod:new:c1', 'tvmod:new:c2']);
  });

  it('fails the load when vcl_init leaves an object uncreated', async () => {
    await expect(
      load(`import tvmod;
        sub vcl_init { if (false) { new c1 = tvmod.counter(); } }
        sub vcl_recv { set req.http.n = c1.next(); }`),
    ).rejects.toThrow("VCL 'test' failed initialization: Object c1 not initialized");
  });
});

describe('async VMOD functions', () => {
  it('makes the subs that wait async, and only those', async () => {
    const vcl = await load(`import tvmod;
      sub waits { if (tvmod.wait(0.001s)) { set req.http.waited = "yes"; } }
      sub vcl_recv { if (req.url == "/wait") { call waits; } return (hash); }
      sub vcl_deliver { set resp.http.x = "sync"; }`);
    expect(vcl.isAsync('vcl_recv')).toBe(true);
    expect(vcl.isAsync('vcl_deliver')).toBe(false);
    expect(vcl.isAsync('vcl_hash')).toBe(false);
    const t = clientTask({ url: '/wait' });
    const pending = vcl.run('vcl_recv', t);
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toEqual({ action: 'hash' });
    expect(t.req?.get('waited')).toBe('yes');
  });
});

describe('failures', () => {
  it('fails the task at the VMOD call with the VMOD message', async () => {
    const logged: unknown[] = [];
    const logger = { error: (fields: Record<string, unknown>, message: string) => logged.push({ ...fields, message }) };
    const vcl = await load('import tvmod;\nsub vcl_recv {\n  set req.http.a = "x";\n  tvmod.fail("no way");\n}', { env: { logger } });
    const t = clientTask();
    t.xid = 42;
    expect(run(vcl, 'vcl_recv', t)).toEqual({ action: 'fail', message: 'no way', where: 'test:6:3' });
    expect(logged).toEqual([{ vcl: 'test', sub: 'vcl_recv', xid: 42, where: 'test:6:3', message: 'no way' }]);
  });

  it('reports an exception thrown by a VMOD with its name', async () => {
    const bad = await load('import tvmod;\nsub vcl_recv {\n  if (req.url) {\n    tvmod.throw_error("bad");\n  }\n}');
    expect(run(bad, 'vcl_recv', clientTask())).toEqual({ action: 'fail', message: 'Error: bad', where: 'test:6:5' });
  });

  it('reports the innermost failing expression, and the outer call once its arguments are done', async () => {
    const inner = await load('import tvmod;\nsub vcl_recv {\n  set req.http.a = tvmod.echo("v" +\n    (1 / req.restarts));\n}');
    expect(run(inner, 'vcl_recv', clientTask())).toEqual({ action: 'fail', message: 'INT division by zero', where: 'test:6:8' });
    const outer = await load('import tvmod;\nsub vcl_recv {\n  tvmod.fail(\n    tvmod.echo("inner"));\n}');
    expect(run(outer, 'vcl_recv', clientTask())).toEqual({ action: 'fail', message: 'inner', where: 'test:5:3' });
  });

  it('fails on a header value with CR or LF, at the set', async () => {
    const vcl = await load('sub vcl_recv {\n  set req.http.x = {"a\nb"};\n}');
    expect(run(vcl, 'vcl_recv', clientTask())).toEqual({
      action: 'fail',
      message: 'Bad header x: value contains CR, LF or NUL',
      where: 'test:4:3',
    });
  });
});

describe('load errors', () => {
  it('names the VMOD, the entry and its manifest line when the implementation does not match', async () => {
    const err = await load('import tbad; sub vcl_recv { set req.http.x = tbad.two("a"); }').catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toMatch(/^VMOD 'tbad': .*tbad\/index\.ts does not match its manifest:/);
    expect(message).toMatch(/\$Function two \(.*tbad\/vmod\.vcc:5\): declares 3 parameters, but is passed 2 \(the context and 1 argument\)/);
    expect(message).toMatch(/\$Function absent \(.*tbad\/vmod\.vcc:9\): .* exports no function 'absent'/);
    expect(message).toMatch(/\$Method thing\.poke \(.*tbad\/vmod\.vcc:15\): class 'thing' has no method 'poke'/);
  });

  it('says when a VMOD has no implementation', async () => {
    await expect(load('import tmissing; sub vcl_recv { tmissing.nothing(); }')).rejects.toThrow(/VMOD 'tmissing': no implementation: .*tmissing\/index\.ts does not exist/);
  });
});
