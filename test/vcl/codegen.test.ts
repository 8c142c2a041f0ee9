// Compiled VCL run on in-memory tasks: statements, operators, conversions, header semantics,
// regexes, ACLs, return actions. Expected values are what Varnish 7.1 gives for the same VCL
// (checked with varnishtest where the behaviour is not obvious).

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseIp } from '../../src/common/ip.ts';
import { backendTask, clientTask, load, run, runSynth } from '../runtime/vcl-harness.ts';

/** Runs vcl_recv of `body` and returns the request headers it set, by name. */
async function recvHeaders(body: string, init: Parameters<typeof clientTask>[0] = {}, prelude = '') {
  const vcl = await load(`${prelude}\nsub vcl_recv {\n${body}\n return (hash);\n}\n`);
  const t = clientTask(init);
  const action = run(vcl, 'vcl_recv', t);
  return { action, h: (name: string) => t.req?.get(name) ?? null, task: t };
}

describe('statements', () => {
  it('sets, appends to and unsets headers', async () => {
    const { h, task } = await recvHeaders(
      `set req.http.a = "1";
       set req.http.a += "2";
       set req.http.missing += "x";
       set req.http.empty = req.http.nothing;
       set req.http.X-Multi = "one";
       unset req.http.Drop;`,
      { headers: [['Host', 'h'], ['x-multi', 'a'], ['Drop', '1'], ['Drop', '2']] },
    );
    expect(h('a')).toBe('12');
    expect(h('missing')).toBe('x');
    // Setting from an unset header gives an empty header, not none.
    expect(h('empty')).toBe('');
    expect(task.req?.getAll('x-multi')).toEqual(['one']);
    expect(task.req?.has('drop')).toBe(false);
  });

  it('refuses to set a header whose name HTTP cannot carry, when it runs', async () => {
    const vcl = await load('sub vcl_recv {\n  set req.http."x,y" = "1";\n}');
    expect(run(vcl, 'vcl_recv', clientTask())).toEqual({ action: 'fail', message: 'Bad header name: "x,y"', where: 'test:4:3' });
  });

  it('runs if / elsif / else chains', async () => {
    const body = `
      if (req.url == "/a") { set req.http.r = "a"; }
      elsif (req.url == "/b") { set req.http.r = "b"; }
      elseif (req.url == "/c") { set req.http.r = "c"; }
      else { set req.http.r = "other"; }`;
    for (const [url, r] of [['/a', 'a'], ['/b', 'b'], ['/c', 'c'], ['/d', 'other']]) {
      expect((await recvHeaders(body, { url })).h('r')).toBe(r);
    }
  });

  it('propagates an action returned by a called sub, and continues after a bare return', async () => {
    const vcl = await load(`
      sub pick { if (req.url == "/pass") { return (pass); } if (req.url == "/early") { return; } set req.http.after = "yes"; }
      sub vcl_recv { call pick; set req.http.back = "yes"; return (hash); }`);
    const pass = clientTask({ url: '/pass' });
    expect(run(vcl, 'vcl_recv', pass)).toEqual({ action: 'pass' });
    expect(pass.req?.get('back')).toBeNull();
    const early = clientTask({ url: '/early' });
    expect(run(vcl, 'vcl_recv', early)).toEqual({ action: 'hash' });
    expect([early.req?.get('after'), early.req?.get('back')]).toEqual([null, 'yes']);
  });

  it('feeds hash_data to the digest as Varnish does', async () => {
    const vcl = await load('sub vcl_hash { hash_data(req.url); hash_data("a" + req.http.missing + "b"); return (lookup); }');
    const t = clientTask({ url: '/x' });
    expect(run(vcl, 'vcl_hash', t)).toEqual({ action: 'lookup' });
    // Each call ends with a 0 byte; an unset strand is a 0 byte too.
    const expected = createHash('sha256').update('/x\0a\0b\0').digest('hex');
    expect(Buffer.from(t.hashDigest()).toString('hex')).toBe(expected);
  });

  it('builds a synthetic body with synthetic() and resp.body', async () => {
    const vcl = await load(`sub vcl_synth {
      if (resp.status == 201) { synthetic("one"); synthetic("two"); }
      else { synthetic("a"); set resp.body = "x"; set resp.body += "y"; }
      return (deliver);
    }`);
    const a = clientTask();
    runSynth(vcl, a, 201, 'Created');
    expect(a.body).toBe('onetwo');
    const b = clientTask();
    runSynth(vcl, b, 200, 'OK');
    // set replaces what synthetic() wrote; += appends.
    expect(b.body).toBe('xy');
  });

  it('hands ban() expressions to the ban service and goes on when one is refused', async () => {
    const bans: string[] = [];
    const logs: string[] = [];
    const services = {
      ban: (e: string) => {
        bans.push(e);
        return e.includes('bad') ? 'bad ban' : null;
      },
      log: (_t: unknown, m: string) => logs.push(m),
    };
    const vcl = await load('sub vcl_recv { ban("req.url ~ " + req.url); ban("bad"); return (hash); }');
    const t = clientTask({ url: '/x', services });
    expect(run(vcl, 'vcl_recv', t)).toEqual({ action: 'hash' });
    expect(bans).toEqual(['req.url ~ /x', 'bad']);
    expect(logs).toEqual(['ban(): bad ban']);
  });

  it('applies compound assignments to durations and statuses', async () => {
    const vcl = await load(`sub vcl_backend_response {
      set beresp.ttl = 10s; set beresp.ttl += 5s; set beresp.ttl *= 2; set beresp.ttl /= 4; set beresp.ttl -= 1s;
      set beresp.grace = 1m; set beresp.grace *= 1.5;
      set beresp.status = 200; set beresp.status += 1;
      return (deliver);
    }`);
    const t = backendTask();
    run(vcl, 'vcl_backend_response', t);
    expect(t.ttl).toBe(6.5);
    expect(t.grace).toBe(90);
    expect(t.beresp?.status).toBe(201);
    expect(t.beresp?.reason).toBe('Created');
  });
});

describe('operators and conversions', () => {
  it('does INT arithmetic as C does and prints numbers as Varnish', async () => {
    const vcl = await load(`sub vcl_synth {
      set resp.http.div = resp.status / 7;
      set resp.http.neg = -resp.status / 7;
      set resp.http.mod = -resp.status % 7;
      set resp.http.mix = resp.status + 0.5;
      set resp.http.real = 10.0 / 3;
      set resp.http.dur = 10s / 4;
      set resp.http.tie = 1.0 / 16;
      set resp.http.negdur = -1.5s;
      return (deliver);
    }`);
    const t = clientTask();
    runSynth(vcl, t, 200, 'OK');
    const h = (n: string) => t.resp?.get(n);
    expect([h('div'), h('neg'), h('mod'), h('mix'), h('real'), h('dur'), h('tie'), h('negdur')]).toEqual([
      '28',
      '-28',
      '-4',
      '200.500',
      '3.333',
      '2.500',
      '0.062',
      '-1.500',
    ]);
  });

  it('adds durations to times and subtracts times', async () => {
    const vcl = await load(`sub vcl_recv {
      set req.http.later = req.time + 1d;
      set req.http.earlier = req.time - 1h;
      set req.http.age = (req.time + 90s) - req.time;
      if (req.time - 1s < req.time) { set req.http.lt = "y"; }
      if ((req.time - req.time)) { set req.http.zero = "true"; } else { set req.http.zero = "false"; }
      return (hash);
    }`);
    const t = clientTask();
    t.reqTime = 784111777;
    run(vcl, 'vcl_recv', t);
    expect(['later', 'earlier', 'age', 'lt', 'zero'].map((n) => t.req?.get(n))).toEqual([
      'Mon, 07 Nov 1994 08:49:37 GMT',
      'Sun, 06 Nov 1994 07:49:37 GMT',
      '90.000',
      'y',
      'false',
    ]);
  });

  it('fails the task on INT division by zero, at the division', async () => {
    const vcl = await load('sub vcl_synth {\n  set resp.http.x = 1 / (resp.status - 200);\n  return (deliver);\n}');
    const t = clientTask();
    expect(runSynth(vcl, t, 200, 'OK')).toEqual({ action: 'fail', message: 'INT division by zero', where: 'test:4:23' });
  });

  it('fails when a REAL division by zero is printed', async () => {
    const vcl = await load('sub vcl_synth {\n  set resp.http.x = 1.0 / (resp.status - 200);\n  return (deliver);\n}');
    const r = runSynth(vcl, clientTask(), 200, 'OK');
    expect(r).toMatchObject({ action: 'fail', message: 'REAL overflow converting to string (inf)' });
  });

  it('compares unset strings as Varnish 7.1 does', async () => {
    const { h } = await recvHeaders(`
      set req.http.eq = req.http.missing == req.http.empty;
      set req.http.ne = req.http.missing != req.http.empty;
      set req.http.lt = req.http.missing < req.http.a;
      set req.http.gt = req.http.missing > req.http.a;
      set req.http.eqc = req.http.missing == "";
      set req.http.nec = req.http.missing != "";
      set req.http.ab = req.http.a < req.http.b;
      set req.http.ge = req.http.b >= req.http.a;`,
    { headers: [['Host', 'h'], ['empty', ''], ['a', 'a'], ['b', 'b']] });
    expect(['eq', 'ne', 'lt', 'gt', 'eqc', 'nec', 'ab', 'ge'].map(h)).toEqual(['false', 'true', 'false', 'true', 'false', 'true', 'true', 'true']);
  });

  it('tests presence, non-zero and positive as BOOL', async () => {
    const { h } = await recvHeaders(`
      if (req.http.empty) { set req.http.p1 = "y"; }
      if (!req.http.missing) { set req.http.p2 = "y"; }
      if (req.restarts) { set req.http.p3 = "y"; }
      if (req.http.missing + "") { set req.http.p4 = "y"; }`,
    { headers: [['Host', 'h'], ['empty', '']] });
    expect([h('p1'), h('p2'), h('p3'), h('p4')]).toEqual(['y', 'y', null, 'y']);
  });

  it('short-circuits && and ||', async () => {
    const vcl = await load(`import tvmod;
      sub vcl_recv {
        if (req.url == "/no" && tvmod.count_task() > 0) { set req.http.x = "no"; }
        if (req.url == "/" || tvmod.count_task() > 0) { set req.http.y = "yes"; }
        set req.http.count = tvmod.count_task();
        return (hash);
      }`);
    const t = clientTask();
    run(vcl, 'vcl_recv', t);
    expect([t.req?.get('x'), t.req?.get('y'), t.req?.get('count')]).toEqual([null, 'yes', '1']);
  });

  it('converts each type to STRING', async () => {
    const vcl = await load(`sub vcl_recv {
      set req.http.bool = req.url == "/";
      set req.http.ip = client.ip;
      set req.http.be = req.backend_hint;
      set req.http.time = req.time;
      set req.http.concat = "a" + req.http.missing + "b" + 1 + true;
      set req.http.up = req.http.missing.upper() + req.url.upper() + "ÄbC".lower();
      return (hash);
    }`);
    const t = clientTask({ url: '/x' });
    t.reqTime = 784111777;
    run(vcl, 'vcl_recv', t);
    expect(t.req?.get('bool')).toBe('false');
    expect(t.req?.get('ip')).toBe('192.0.2.10');
    expect(t.req?.get('be')).toBe('default');
    expect(t.req?.get('time')).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(t.req?.get('concat')).toBe('ab1true');
    // VCL strings are byte strings: the literal's UTF-8 bytes, one character each; lower() is ASCII only.
    expect(t.req?.get('up')).toBe(Buffer.from('/XÄbc').toString('latin1'));
  });

  it('matches regexes, an unset subject as ""', async () => {
    const { h } = await recvHeaders(`
      if (req.url ~ "^/a/(\\d+)$") { set req.http.m = "y"; }
      if (req.http.missing !~ ".") { set req.http.n = "y"; }
      if (req.http.missing ~ "^$") { set req.http.e = "y"; }
      if (req.http.host ~ "(?i)EXAMPLE") { set req.http.i = "y"; }`,
    { url: '/a/12' });
    expect([h('m'), h('n'), h('e'), h('i')]).toEqual(['y', 'y', 'y', 'y']);
  });

  it('substitutes with regsub and regsuball', async () => {
    const { h } = await recvHeaders(`
      set req.http.one = regsub(req.url, "([a-z])([0-9])", "\\2\\1");
      set req.http.all = regsuball(req.url, "([a-z])([0-9])", "\\2\\1");
      set req.http.none = regsub(req.http.missing, "^$", "empty");`,
    { url: '/a1/b2' });
    expect([h('one'), h('all'), h('none')]).toEqual(['/1a/b2', '/1a/2b', 'empty']);
  });

  it('matches ACLs by longest prefix, IPv4 and IPv6, host names resolved at load', async () => {
    const vcl = await load(
      `acl office { "10.0.0.0"/8; ! "10.1.0.0"/16; "10.1.2.0"/24; "2001:db8::"/32; "gateway"; }
       sub vcl_recv { if (client.ip ~ office) { return (pass); } if (client.ip !~ office) { return (hash); } }`,
      { env: { resolveHost: async (host) => (host === 'gateway' ? ['192.0.2.99'] : []) } },
    );
    const verdict = (ip: string) => run(vcl, 'vcl_recv', clientTask({ clientIp: ip })).action;
    expect(verdict('10.1.2.3')).toBe('pass');
    expect(verdict('10.1.3.3')).toBe('hash');
    expect(verdict('10.2.3.3')).toBe('pass');
    expect(verdict('[2001:db8::5]:80')).toBe('pass');
    expect(verdict('192.0.2.99')).toBe('pass');
    expect(verdict('192.0.2.98')).toBe('hash');
  });

  it('fails the load when an ACL host name does not resolve, unless it is optional', async () => {
    const resolveHost = async () => {
      throw new Error('NXDOMAIN');
    };
    const src = (entry: string) => `acl a { ${entry}; } sub vcl_recv { if (client.ip ~ a) { return (pass); } }`;
    await expect(load(src('"nowhere.invalid"'), { env: { resolveHost } })).rejects.toThrow(/test:3:\d+: ACL a: cannot resolve 'nowhere.invalid': NXDOMAIN/);
    const vcl = await load(src('("nowhere.invalid")'), { env: { resolveHost } });
    expect(run(vcl, 'vcl_recv', clientTask()).action).toBe('hash');
  });

  it('resolves host names in IP constants at load', async () => {
    const vcl = await load('sub vcl_recv { if (client.ip == "gateway.example") { return (pass); } }', {
      env: { resolveHost: async () => ['192.0.2.10'] },
    });
    expect(run(vcl, 'vcl_recv', clientTask()).action).toBe('pass');
    expect(run(vcl, 'vcl_recv', clientTask({ clientIp: '192.0.2.11' })).action).toBe('hash');
  });

  it('reads storage figures and resolves backends', async () => {
    const vcl = await load(
      'sub vcl_recv { set req.http.s = storage.s0.free_space + " " + storage.s0.happy; set req.http.r = default.resolve(); return (hash); }',
      { env: { storage: (name) => ({ name, freeSpace: 1024, usedSpace: 0, happy: true }) } },
    );
    const t = clientTask();
    run(vcl, 'vcl_recv', t);
    expect([t.req?.get('s'), t.req?.get('r')]).toEqual(['1024 true', 'default']);
  });

  it('compares IPs by address, with IP constants', async () => {
    const { h } = await recvHeaders(`
      if (client.ip == "192.0.2.10") { set req.http.a = "y"; }
      if (client.ip != "::1") { set req.http.b = "y"; }
      if (server.ip == client.ip) { set req.http.c = "y"; }`);
    expect([h('a'), h('b'), h('c')]).toEqual(['y', 'y', null]);
  });
});

describe('return actions', () => {
  it('returns synth with the default reason, keeping statuses above 999', async () => {
    const vcl = await load(`sub vcl_recv {
      if (req.url == "/1") { return (synth(404)); }
      if (req.url == "/2") { return (synth(404, "Nope")); }
      if (req.url == "/3") { return (synth(1404)); }
      if (req.url == "/4") { return (synth(404, req.http.missing)); }
      return (synth(req.restarts + 99));
    }`);
    const act = (url: string) => run(vcl, 'vcl_recv', clientTask({ url }));
    expect(act('/1')).toEqual({ action: 'synth', status: 404, reason: 'Not Found' });
    expect(act('/2')).toEqual({ action: 'synth', status: 404, reason: 'Nope' });
    expect(act('/3')).toEqual({ action: 'synth', status: 1404, reason: 'Not Found' });
    expect(act('/4')).toEqual({ action: 'synth', status: 404, reason: 'Not Found' });
    expect(act('/5')).toEqual({ action: 'fail', message: 'illegal return(synth()) status code (99) (..0##)', where: 'test:8:7' });
  });

  it('returns error, pass(ttl), abandon and retry on the backend side', async () => {
    const vcl = await load(`sub vcl_backend_response {
      if (bereq.url == "/e1") { return (error); }
      if (bereq.url == "/e2") { return (error(502, "Bad")); }
      if (bereq.url == "/hfp") { return (pass(30s)); }
      if (bereq.url == "/retry") { return (retry); }
      return (abandon);
    }`);
    const act = (url: string) => run(vcl, 'vcl_backend_response', backendTask({ url }));
    expect(act('/e1')).toEqual({ action: 'error', status: 503, reason: 'Backend fetch failed' });
    expect(act('/e2')).toEqual({ action: 'error', status: 502, reason: 'Bad' });
    expect(act('/hfp')).toEqual({ action: 'pass', ttl: 30 });
    expect(act('/retry')).toEqual({ action: 'retry' });
    expect(act('/x')).toEqual({ action: 'abandon' });
  });

  it('returns fail, fail(reason) and vcl(label)', async () => {
    const vcl = await load('sub vcl_recv {\n  if (req.url == "/f") { return (fail); }\n  if (req.url == "/r") { return (fail("no " + req.url)); }\n  return (vcl(other));\n}');
    expect(run(vcl, 'vcl_recv', clientTask({ url: '/f' }))).toEqual({ action: 'fail' });
    expect(run(vcl, 'vcl_recv', clientTask({ url: '/r' }))).toEqual({ action: 'fail', message: 'no /r', where: 'test:5:26' });
    expect(run(vcl, 'vcl_recv', clientTask())).toEqual({ action: 'vcl', label: 'other' });
  });

  it('shares the argument-less actions between calls', async () => {
    const vcl = await load('sub vcl_recv { return (pass); }');
    expect(run(vcl, 'vcl_recv', clientTask())).toBe(run(vcl, 'vcl_recv', clientTask()));
  });
});

describe('variables', () => {
  it('gives req.backend_hint the default backend and lets VCL change it', async () => {
    const vcl = await load(`backend other { .host = "127.0.0.2"; }
      sub vcl_recv { if (req.url == "/other") { set req.backend_hint = other; } set req.http.be = req.backend_hint; return (hash); }`);
    const t = clientTask({ url: '/other' });
    run(vcl, 'vcl_recv', t);
    expect(t.req?.get('be')).toBe('other');
    expect(t.backendHint?.name).toBe('other');
    const d = clientTask();
    run(vcl, 'vcl_recv', d);
    expect(d.backendHint).toBe(vcl.defaultBackend);
  });

  it('keeps now fixed during one sub call', async () => {
    const vcl = await load('sub vcl_recv { set req.http.a = now; set req.http.same = now == now; return (hash); }');
    const t = clientTask();
    const before = Date.now() / 1000;
    run(vcl, 'vcl_recv', t);
    expect(t.now).toBeGreaterThanOrEqual(before - 0.001);
    expect(t.req?.get('same')).toBe('true');
  });

  it('reads addresses and identities', async () => {
    const vcl = await load('sub vcl_recv { set req.http.c = client.identity + " " + server.ip + " " + req.xid; return (hash); }');
    const t = clientTask();
    t.serverIp = parseIp('[2001:db8::1]:443');
    run(vcl, 'vcl_recv', t);
    expect(t.req?.get('c')).toBe('192.0.2.10 2001:db8::1 1001');
  });
});
