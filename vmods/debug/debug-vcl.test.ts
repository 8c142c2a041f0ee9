// The debug VMOD through compiled VCL: each entry called the way Varnish's test cases call it,
// with the results those cases expect (read off varnishtest runs against varnishd 7.1.1). This
// tests the manifest, the binder (ENUM and named arguments, defaults, optional arguments,
// STRANDS, HEADER, HTTP, ACL, PROBE, PRIV_* everywhere), the PRIV scopes and the events.

import { describe, expect, it } from 'vitest';
import { type LoadVclOptions, loadVcl } from '../../src/runtime/load-vcl.ts';
import type { LoadedVcl } from '../../src/runtime/loaded-vcl.ts';
import { type TaskServices, VclTask } from '../../src/runtime/task.ts';
import { DEFAULT_VMOD_PATH } from '../../src/vmod/registry.ts';
import { backendTask, clientTask, HEAD, run, runSynth } from '../../test/runtime/vcl-harness.ts';

/** Parameters as a running Shellac hands them over: a live object. */
function params(over: Record<string, number> = {}): Record<string, number> {
  return { pcre2_match_limit: 10000, nuke_limit: 50, max_esi_depth: 5, ...over };
}

function load(body: string, opts: Partial<LoadVclOptions> & { services?: TaskServices; logs?: string[] } = {}): Promise<LoadedVcl> {
  const logs = opts.logs;
  const logger = { error: () => {}, info: (_f: object, m: string) => void logs?.push(m) };
  return loadVcl({
    name: 'vcl1',
    source: `${HEAD}import debug;\n${body}`,
    vmodPath: DEFAULT_VMOD_PATH,
    ...opts,
    env: { services: opts.services ?? { params: params() }, logger },
  });
}

describe('debug: arguments', () => {
  it('author takes ENUMs with defaults, positionally and by name', async () => {
    const vcl = await load(`
sub vcl_recv {
  set req.http.a1 = debug.author();
  set req.http.a2 = debug.author(des);
  set req.http.a3 = debug.author(kristian);
  set req.http.a4 = debug.author(mithrandir);
  set req.http.a5 = debug.author(phk, slink);
  set req.http.a6 = debug.author(someone=geoff);
  return (synth(200));
}`);
    const t = clientTask();
    run(vcl, 'vcl_recv', t);
    expect([1, 2, 3, 4, 5, 6].map((i) => t.req!.get(`a${i}`))).toEqual([
      'Poul-Henning',
      'Dag-Erling',
      'Kristian',
      'Tollef',
      'Poul-Henning',
      'Poul-Henning',
    ]);
  });

  it('refuses an ENUM value outside its set when compiling', async () => {
    await expect(load('sub vcl_recv { set req.http.a = debug.author(slink); }')).rejects.toThrow(/slink/);
  });

  it('argtest fills defaults, takes named arguments and tells a given optional one', async () => {
    const vcl = await load(`
sub vcl_recv {
  set req.http.t1 = debug.argtest("1");
  set req.http.t2 = debug.argtest("1", 2.5, "x", four=7, opt="o");
  set req.http.t3 = debug.argtest("1", comma="c");
  set req.http.t4 = debug.argtest("x", 1234567.0, four=123456789);
  set req.http.t5 = debug.argtest(req.http.nothere, 0.001, opt=req.http.nothere);
  return (synth(200));
}`);
    const t = clientTask();
    run(vcl, 'vcl_recv', t);
    expect(t.req!.get('t1')).toBe('1 2 3 , 4 0 <undef>');
    expect(t.req!.get('t2')).toBe('1 2.5 x , 7 1 o');
    expect(t.req!.get('t3')).toBe('1 2 3 c 4 0 <undef>');
    expect(t.req!.get('t4')).toBe('x 1.23457e+06 3 , 123456789 0 <undef>');
    expect(t.req!.get('t5')).toBe('(null) 0.001 3 , 4 1 (null)');
  });

  it('joins STRANDS, writes a HEADER, and marks an HTTP object', async () => {
    const vcl = await load(`
sub vcl_recv {
  set req.http.c1 = debug.concatenate(req.http.nothere + "a" + "b");
  set req.http.c2 = debug.collect("x" + req.http.nothere + "y");
  debug.sethdr(req.http.sh, "a" + "b" + req.http.nothere + "c");
  debug.rot52(req);
  set req.http.rq = debug.re_quote("a.b*c");
  return (synth(200));
}`);
    const t = clientTask({ headers: [['Host', 'h']] });
    run(vcl, 'vcl_recv', t);
    expect(t.req!.get('c1')).toBe('ab');
    expect(t.req!.get('c2')).toBe('xy');
    expect(t.req!.get('sh')).toBe('abc');
    expect(t.req!.get('Encrypted')).toBe('ROT52');
    expect(t.req!.get('Host')).toBe('h');
    expect(t.req!.get('rq')).toBe('\\Qa.b*c\\E');
  });

  it('reads the client address from the task, as client.ip and std.port see it', async () => {
    const vcl = await load(`
import std;
sub vcl_recv { return (synth(200)); }
sub vcl_synth {
  set resp.http.ci = client.ip;
  set resp.http.s-ci = debug.client_ip();
  set resp.http.pi = std.port(client.ip);
  set resp.http.s-pi = debug.client_port();
}`);
    for (const addr of ['127.0.0.1:47316', '[::1]:8081']) {
      const t = clientTask({ clientIp: addr });
      runSynth(vcl, t, 200, 'OK');
      expect(t.resp!.get('s-ci')).toBe(t.resp!.get('ci'));
      expect(t.resp!.get('s-pi')).toBe(t.resp!.get('pi'));
    }
  });

  it('vre_limit reads the live pcre2_match_limit parameter', async () => {
    const live = params({ pcre2_match_limit: 100 });
    const vcl = await load('sub vcl_deliver { set resp.http.foo = debug.vre_limit(); }', { services: { params: live } });
    const t = clientTask({ services: { params: live } });
    runSynth(vcl, t, 200, 'OK');
    expect(run(vcl, 'vcl_deliver', t).action).toBe('deliver');
    expect(t.resp!.get('foo')).toBe('100');
    live.pcre2_match_limit = 200;
    run(vcl, 'vcl_deliver', t);
    expect(t.resp!.get('foo')).toBe('200');
    // Without parameters (a bare runtime), it says so instead of inventing a value.
    const bare = clientTask();
    runSynth(vcl, bare, 200, 'OK');
    expect(run(vcl, 'vcl_deliver', bare)).toMatchObject({ action: 'fail', message: expect.stringContaining('pcre2_match_limit') });
  });

  it('fail and fail2 fail the task with their message and the VCL position', async () => {
    const vcl = await load(`
sub vcl_recv {
  if (req.url == "/fail2") { set req.http.x = debug.fail2(); }
  debug.fail();
  return (synth(200));
}`);
    expect(run(vcl, 'vcl_recv', clientTask())).toMatchObject({ action: 'fail', message: 'Forced failure', where: 'vcl1:7:3' });
    expect(run(vcl, 'vcl_recv', clientTask({ url: '/fail2' }))).toMatchObject({ action: 'fail', message: 'Forced failure', where: 'vcl1:6:47' });
  });
});

describe('debug: PRIV scopes', () => {
  const PRIVS = `
sub vcl_init {
  new o = debug.obj();
  new o2 = debug.obj();
}
sub vcl_recv {
  set req.http.t1 = debug.test_priv_task("a");
  set req.http.t2 = debug.test_priv_task("b");
  set req.http.t3 = debug.test_priv_task("");
  set req.http.w = debug.priv_task_with_option("ignored");
  set req.http.p1 = debug.test_priv_top(req.url);
  set req.http.p2 = debug.test_priv_top("second");
  set req.http.ot1 = o.test_priv_task("oa");
  set req.http.ot2 = o.test_priv_task("ob");
  set req.http.ot3 = o2.test_priv_task("");
  set req.http.op = o.test_priv_top(req.http.top);
  set req.http.op2 = o2.test_priv_top("");
  return (hash);
}
sub vcl_backend_fetch {
  set bereq.http.b1 = debug.test_priv_task("");
  set bereq.http.b2 = debug.test_priv_task("be");
  set bereq.http.b3 = o.test_priv_task("");
}`;

  it('PRIV_TASK appends within a task and starts empty in the next; each object has its own', async () => {
    const logs: string[] = [];
    const vcl = await load(PRIVS, { services: { params: params(), log: (_t, m) => void logs.push(m) } });
    const t = clientTask({ services: { params: params(), log: (_t, m) => void logs.push(m) } });
    run(vcl, 'vcl_recv', t);
    const got = (n: string) => t.req!.get(n);
    expect([got('t1'), got('t2'), got('t3'), got('w')]).toEqual(['a', 'a b', 'a b', 'a b']);
    expect([got('ot1'), got('ot2'), got('ot3')]).toEqual(['oa', 'ob', '']);
    expect(logs).toContain('test_priv_task() = a b (exists)');
    expect(logs).toContain('o2.priv_task() = NULL');
    t.end();
    const next = clientTask();
    run(vcl, 'vcl_recv', next);
    expect(next.req!.get('t1')).toBe('a');
  });

  it('PRIV_TASK of a backend task is its own, not the client request\u2019s', async () => {
    const vcl = await load(PRIVS);
    const client = clientTask();
    run(vcl, 'vcl_recv', client);
    const be = backendTask();
    run(vcl, 'vcl_backend_fetch', be);
    // An unset STRING sets a header empty, as in Varnish.
    expect(be.bereq!.get('b1')).toBe('');
    expect(be.bereq!.get('b2')).toBe('be');
    expect(be.bereq!.get('b3')).toBe('');
  });

  it('priv_task_with_option stores its option only when the task holds nothing yet', async () => {
    const vcl = await load(`
sub vcl_recv {
  set req.http.w0 = debug.priv_task_with_option();
  set req.http.w1 = debug.priv_task_with_option("first");
  set req.http.w2 = debug.priv_task_with_option("second");
  return (synth(200));
}`);
    const t = clientTask();
    run(vcl, 'vcl_recv', t);
    expect([t.req!.get('w0'), t.req!.get('w1'), t.req!.get('w2')]).toEqual(['', 'first', 'first']);
  });

  it('PRIV_TOP keeps the first value of the top request and is shared with its ESI children', async () => {
    const vcl = await load(PRIVS);
    const top = clientTask({ url: '/a0', headers: [['top', '/a0']] });
    run(vcl, 'vcl_recv', top);
    expect([top.req!.get('p1'), top.req!.get('p2'), top.req!.get('op'), top.req!.get('op2')]).toEqual(['/a0', '/a0', '/a0', '']);
    // An ESI subrequest: its own task (its own PRIV_TASK), the same top.
    const child = new VclTask('client', undefined, top);
    child.req = clientTask({ url: '/foo1', headers: [['top', '/foo11']] }).req;
    run(vcl, 'vcl_recv', child);
    expect(child.req!.get('p1')).toBe('/a0');
    expect(child.req!.get('t1')).toBe('a');
    expect(child.req!.get('op')).toBe('/foo11');
    expect(top.req!.get('op')).toBe('/a0');
    // A new top request starts afresh.
    top.end();
    const other = clientTask({ url: '/b0' });
    run(vcl, 'vcl_recv', other);
    expect(other.req!.get('p1')).toBe('/b0');
  });

  it('PRIV_TOP functions are refused outside client subs when compiling', async () => {
    await expect(load('sub vcl_backend_fetch { debug.test_priv_top("x"); }')).rejects.toThrow("Not available in subroutine 'vcl_backend_fetch': debug.test_priv_top()");
    await expect(load('sub vcl_init { debug.test_priv_top("x"); }')).rejects.toThrow("Not available in subroutine 'vcl_init'");
  });

  it('PRIV_CALL is per call site and PRIV_VCL holds what the event function set at load', async () => {
    const vcl = await load(`
sub vcl_init {
  new o = debug.obj();
  debug.test_priv_vcl();
  o.test_priv_vcl();
}
sub vcl_recv {
  debug.test_priv_call();
  debug.test_priv_call();
  o.test_priv_call();
  debug.test_priv_vcl();
  return (synth(200));
}`);
    expect(run(vcl, 'vcl_recv', clientTask()).action).toBe('synth');
    expect(run(vcl, 'vcl_recv', clientTask()).action).toBe('synth');
  });
});

describe('debug: objects', () => {
  it('obj keeps its constructor arguments; foo and date', async () => {
    const vcl = await load(`
sub vcl_init {
  new o = debug.obj();
  new o2 = debug.obj("xyz", three);
  new l234567890123456789012345678901234567890123456789012345678 = debug.obj();
}
sub vcl_recv {
  set req.http.s = o.string() + " " + o.number() + " " + o2.string() + " " + o2.number();
  set req.http.foo = o.foo("why") + o2.foo("because");
  set req.http.date = o.date();
  o.enum(martin);
  o.obj();
  return (synth(200));
}`);
    const t = clientTask();
    run(vcl, 'vcl_recv', t);
    expect(t.req!.get('s')).toBe('default one xyz three');
    expect(t.req!.get('foo')).toBe('BOOBOO');
    expect(t.req!.get('date')).toBe('Thu, 01 Jan 1970 00:00:21 GMT');
  });

  it('an object left unmade by vcl_init fails the load, unless its class is NULL_OK', async () => {
    await expect(load('sub vcl_init { if (false) { new nullobj = debug.obj(); } }')).rejects.toThrow('Object nullobj not initialized');
    const vcl = await load('sub vcl_init { if (false) { new null = debug.obj_opt(); } }');
    expect(vcl.temperature).toBe('warm');
  });

  it('obj_opt gets its PRIV_* holders beside optional arguments, given or not', async () => {
    const vcl = await load(`
sub vcl_init {
  new oo = debug.obj_opt();
  new oo2 = debug.obj_opt("s", true);
}
sub vcl_recv {
  set req.http.mo1 = oo.meth_opt();
  set req.http.mo2 = oo2.meth_opt("m", false);
  set req.http.mo3 = oo2.meth_opt(b=true);
  return (synth(200));
}`);
    const t = clientTask();
    run(vcl, 'vcl_recv', t);
    expect(t.req!.get('mo1')).toBe('obj oo obj_s *undef* obj_b *undef* met_s *undef* met_b *undef*');
    expect(t.req!.get('mo2')).toBe('obj oo2 obj_s s obj_b true met_s m met_b false');
    expect(t.req!.get('mo3')).toBe('obj oo2 obj_s s obj_b true met_s *undef* met_b true');
  });

  it('concat joins the STRANDS of its constructor', async () => {
    const vcl = await load('sub vcl_init { new c = debug.concat("a" + "b"); }\nsub vcl_recv { set req.http.c = c.get(); }');
    const t = clientTask();
    run(vcl, 'vcl_recv', t);
    expect(t.req!.get('c')).toBe('ab');
  });

  it('an instance name may not be declared twice, nor clash with a backend', async () => {
    await expect(load('sub vcl_init { new first = debug.obj("FOO"); new first = debug.obj("BAH"); }')).rejects.toThrow("Instance 'first' redefined.");
    await expect(load('backend first { .host = "127.0.0.1"; }\nsub vcl_init { new first = debug.obj("FOO"); }')).rejects.toThrow(
      "Name 'first' already defined.",
    );
  });
});

describe('debug: ACLs and probes', () => {
  const ACLS = `
acl loopback { "127.0.0.0"/24; }
acl locals -pedantic { "192.0.2.0"/24; }
sub vcl_init {
  if (!debug.match_acl(loopback, "127.0.0.127")) {
    debug.fail();
  }
  new o_locals = debug.aclobj(locals);
  new o_null = debug.aclobj(debug.null_acl());
}
sub vcl_recv {
  if (req.url == "/null") {
    set req.http.m = debug.match_acl(debug.null_acl(), client.ip);
  }
  if (req.url == "/nullo") {
    set req.http.m = debug.match_acl(o_null.get(), client.ip);
  }
  set req.http.named = debug.match_acl(ip=client.ip, acl=locals);
  set req.http.passed = debug.match_acl(debug.acl(locals), client.ip);
  set req.http.kept = debug.match_acl(o_locals.get(), client.ip);
  return (synth(200));
}`;

  it('match_acl matches through named arguments, a returned ACL and an object holding one', async () => {
    const vcl = await load(ACLS);
    const inside = clientTask({ clientIp: '192.0.2.10:1234' });
    run(vcl, 'vcl_recv', inside);
    expect(['named', 'passed', 'kept'].map((h) => inside.req!.get(h))).toEqual(['true', 'true', 'true']);
    const outside = clientTask({ clientIp: '198.51.100.1:1234' });
    run(vcl, 'vcl_recv', outside);
    expect(['named', 'passed', 'kept'].map((h) => outside.req!.get(h))).toEqual(['false', 'false', 'false']);
  });

  it('matching an unset ACL fails the task', async () => {
    const vcl = await load(ACLS);
    expect(run(vcl, 'vcl_recv', clientTask({ url: '/null' }))).toMatchObject({ action: 'fail', message: 'Cannot match a null ACL' });
    expect(run(vcl, 'vcl_recv', clientTask({ url: '/nullo' }))).toMatchObject({ action: 'fail', message: 'Cannot match a null ACL' });
  });

  it('a failing vcl_init refuses the VCL', async () => {
    await expect(load(ACLS.replace('"127.0.0.127"', '"10.0.0.1"'))).rejects.toThrow(/failed initialization: Forced failure/);
  });

  it('test_probe gets the probe itself, and the same object for the same name', async () => {
    const vcl = await load(`
probe pb { }
probe other { }
backend be { .host = "127.0.0.1"; .probe = other; }
sub vcl_recv { set req.backend_hint = be; }
sub vcl_init {
  debug.test_probe(pb);
  debug.test_probe(pb, pb);
}`);
    expect(vcl.temperature).toBe('warm');
    await expect(load('probe pb { }\nprobe pc { }\nsub vcl_init { debug.test_probe(pb, pc); }')).rejects.toThrow(
      "'pc' is not the same probe as 'pb'",
    );
  });
});

describe('debug: events', () => {
  it('logs warm and cold, and a VCL held by vcl_prevent_cold cannot go cold', async () => {
    const logs: string[] = [];
    const vcl = await load(
      `
sub vcl_recv {
  if (req.url == "/hold") { debug.vcl_prevent_cold(); }
  if (req.url == "/free") { debug.vcl_allow_cold(); }
  return (synth(200));
}`,
      { logs },
    );
    expect(logs).toEqual(['vcl1: VCL_EVENT_WARM']);
    run(vcl, 'vcl_recv', clientTask({ url: '/hold' }));
    expect(vcl.holders).toEqual(['vmod-debug ref on vcl1']);
    expect(() => vcl.cold()).toThrow(/held by vmod-debug ref on vcl1/);
    run(vcl, 'vcl_recv', clientTask({ url: '/free' }));
    vcl.cold();
    expect(logs).toEqual(['vcl1: VCL_EVENT_WARM', 'vcl1: VCL_EVENT_COLD']);
    vcl.discard();
  });

  it('refuses to load while nuke_limit is 42, and to warm up while max_esi_depth is 42', async () => {
    await expect(load('', { services: { params: params({ nuke_limit: 42 }) } })).rejects.toThrow('nuke_limit is not the answer.');
    const logs: string[] = [];
    await expect(load('', { logs, services: { params: params({ max_esi_depth: 42 }) } })).rejects.toThrow(
      'max_esi_depth is not the answer.',
    );
    // The failed WARM was the debug module's own: it gets no COLD for it.
    expect(logs).toEqual(['vcl1: VCL_EVENT_WARM']);
  });
});
