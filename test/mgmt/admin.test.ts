import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminServer, CLIS, fail, jsonReply, ok } from '../../src/mgmt/admin.ts';
import { authResponse } from '../../src/mgmt/admin-auth.ts';
import { AdminClient, AdminError, resolveTarget, vclInlineCommand } from '../../src/mgmt/admin-client.ts';
import { registerBuiltins } from '../../src/mgmt/admin-builtins.ts';
import { Params } from '../../src/common/params.ts';
import { RawCli, startAdmin, type TestAdmin, tempDir } from './admin-helpers.ts';

const UNKNOWN = "Unknown request.\nType 'help' for more info.\n";

let t: TestAdmin | undefined;
const clients: { close(): void }[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await t?.admin.close();
  t = undefined;
});

async function raw(port: number): Promise<RawCli> {
  const c = await RawCli.open(port);
  clients.push(c);
  return c;
}

async function client(secret?: string): Promise<AdminClient> {
  const c = await AdminClient.connect({ host: '127.0.0.1', port: t!.port, secret: Buffer.from(secret ?? readFileSync(t!.secretFile)) });
  clients.push(c);
  return c;
}

/** A raw connection that has answered the challenge. */
async function authed(secret: string): Promise<RawCli> {
  const c = await raw(t!.port);
  const hello = await c.reply();
  c.write(`auth ${authResponse(hello.body.split('\n')[0], Buffer.from(secret))}\n`);
  expect((await c.reply()).status).toBe(200);
  return c;
}

describe('authentication', () => {
  it('greets with a 107 challenge in the 13-byte head format', async () => {
    t = await startAdmin({ secret: 'sesame\n' });
    const c = await raw(t.port);
    const hello = await c.reply();
    expect(hello.head).toBe('107 59      \n');
    expect(hello.body).toMatch(/^[a-z]{32}\n\nAuthentication required\.\n$/);
  });

  it('accepts the SHA-256 answer over challenge, secret file and challenge, and sends the banner', async () => {
    t = await startAdmin({ secret: 'sesame\n' });
    const c = await raw(t.port);
    const challenge = (await c.reply()).body.split('\n')[0];
    c.write(`auth ${authResponse(challenge, Buffer.from('sesame\n')).toUpperCase()}\n`);
    const r = await c.reply();
    expect(r.status).toBe(200);
    expect(r.body).toContain('Shellac CLI 1.0');
    expect(r.body).toContain("Type 'quit' to close CLI session.");
    c.write('ping\n');
    expect((await c.reply()).body).toMatch(/^PONG \d+ 1\.0$/);
  });

  it('refuses a wrong secret: 500, after a delay, then closes; the failure is logged', async () => {
    t = await startAdmin({ secret: 'sesame\n', authFailDelayMs: 300 });
    const c = await raw(t.port);
    const challenge = (await c.reply()).body.split('\n')[0];
    const before = Date.now();
    c.write(`auth ${authResponse(challenge, Buffer.from('guess\n'))}\n`);
    const r = await c.reply();
    expect(r).toMatchObject({ status: 500, body: '' });
    expect(Date.now() - before).toBeGreaterThanOrEqual(290);
    await c.closed();
    expect(t.logLines.some((l) => l.msg === 'admin authentication failure' && l.level === 40)).toBe(true);
    await expect(AdminClient.connect({ host: '127.0.0.1', port: t.port, secret: Buffer.from('guess\n') })).rejects.toMatchObject({ code: 'EAUTH' });
  });

  it('reads the secret file at each auth, so a rotated secret works at once and the old one stops', async () => {
    t = await startAdmin({ secret: 'first\n' });
    (await client('first\n')).close();
    writeFileSync(t.secretFile, 'second\n');
    await expect(AdminClient.connect({ host: '127.0.0.1', port: t.port, secret: Buffer.from('first\n') })).rejects.toBeInstanceOf(AdminError);
    const c = await client('second\n');
    expect((await c.command(['ping'])).status).toBe(200);
  });

  it('serves only help, ping, auth and quit before auth, and closes on anything else', async () => {
    t = await startAdmin({ secret: 's' });
    const c = await raw(t.port);
    await c.reply();
    c.write('ping\nhelp\n');
    expect((await c.reply()).status).toBe(200);
    const help = await c.reply();
    expect(help.body).toContain('param.set [-j] <param> <value>');
    c.write('param.show\n');
    expect(await c.reply()).toMatchObject({ status: 101, body: UNKNOWN });
    await c.closed();

    const d = await raw(t.port);
    await d.reply();
    d.write('ping a b\n');
    expect((await d.reply()).status).toBe(105);
    await d.closed();
  });

  it('writes a random secret (mode 0600) and the admin address into the work dir when no -S is given', async () => {
    const dir = tempDir();
    t = await startAdmin({ workdir: dir });
    const secretFile = join(dir, '_.secret');
    expect(t.secretFile).toBe(secretFile);
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(secretFile, 'utf8')).toMatch(/^[0-9a-f]{64}\n$/);
    const target = resolveTarget({ n: dir });
    expect(target).toEqual({ host: '127.0.0.1', port: t.port, secretFile });
    const c = await AdminClient.connect(target);
    clients.push(c);
    expect((await c.command(['status'])).body).toBe('Child in state running');
  });

  it('asks for nothing with -S none', async () => {
    t = await startAdmin({ secretFile: 'none' });
    const c = await raw(t.port);
    const hello = await c.reply();
    expect(hello.status).toBe(200);
    expect(hello.body).toContain('Shellac CLI 1.0');
  });

  it('closes a connection that does not authenticate within cli_timeout', async () => {
    t = await startAdmin({ secret: 's' });
    t.params.set('cli_timeout', '0.2');
    const c = await raw(t.port);
    await c.reply();
    const before = Date.now();
    await c.closed();
    expect(Date.now() - before).toBeGreaterThanOrEqual(150);
  });

  it('needs a secret file or a work dir', () => {
    expect(() => new AdminServer({ params: new Params() }).handle(null as never)).toThrow(/needs a secret file/);
  });
});

describe('commands', () => {
  it('answers unknown, upper-case, too few, too many and bad syntax as varnishd', async () => {
    t = await startAdmin({ secret: 's' });
    const c = await authed('s');
    c.write('foo\nPING\nparam.set default_ttl\nping 1 2\nping "open\nparam.set x a"b"\n');
    expect(await c.reply()).toMatchObject({ status: CLIS.UNKNOWN, body: UNKNOWN });
    expect(await c.reply()).toMatchObject({ status: CLIS.UNKNOWN, body: `${UNKNOWN}all commands are in lower-case.\n` });
    expect(await c.reply()).toMatchObject({ status: CLIS.TOOFEW, body: 'Too few parameters\n' });
    expect(await c.reply()).toMatchObject({ status: CLIS.TOOMANY, body: 'Too many parameters\n' });
    expect(await c.reply()).toMatchObject({ status: CLIS.SYNTAX, body: `${UNKNOWN}Syntax Error: Missing '"'\n` });
    expect(await c.reply()).toMatchObject({ status: CLIS.SYNTAX, body: `${UNKNOWN}Syntax Error: Invalid '"'\n` });
    c.write('ping\n');
    expect((await c.reply()).status).toBe(200);
  });

  it('sets, shows and resets parameters, with 106 and the reason when refused', async () => {
    t = await startAdmin({ secret: 's' });
    const c = await client('s');
    expect(await c.command(['param.set', 'default_ttl', 'abc'])).toEqual({
      status: 106,
      body: "Invalid number (abc)\n\n(attempting to set param 'default_ttl' to 'abc')",
    });
    expect(await c.command(['param.set', 'nope', '1'])).toEqual({ status: 106, body: 'Unknown parameter "nope".' });
    expect(await c.command(['param.show', 'nope'])).toEqual({ status: 106, body: 'Unknown parameter "nope".' });
    expect(await c.command(['param.set', 'default_ttl', '30s'])).toEqual({ status: 200, body: '' });
    expect(t.params.values.default_ttl).toBe(30);
    const one = await c.command(['param.show', 'default_ttl']);
    expect(one.body.split('\n').slice(0, 3)).toEqual(['default_ttl', '        Value is: 30.000 [seconds]', '        Default is: 120.000']);
    expect((await c.command(['param.show', 'changed'])).body).toBe('default_ttl                   30.000 [seconds]\n');
    const all = (await c.command(['param.show'])).body.split('\n').filter(Boolean);
    expect(all.length).toBeGreaterThan(80);
    expect((await c.command(['param.show', '-l'])).body).toContain('        Value is: 4 [restarts] (default)');
    const json = JSON.parse((await c.command(['param.show', '-j', 'default_ttl'])).body) as unknown[];
    expect(json.slice(0, 2)).toEqual([2, ['param.show', '-j', 'default_ttl']]);
    expect(json[3]).toMatchObject({ name: 'default_ttl', value: 30, default: '120.000', units: 'seconds' });
    expect(await c.command(['param.show', '-j', '-l'])).toMatchObject({ status: 106 });
    const setJson = JSON.parse((await c.command(['param.set', '-j', 'max_restarts', '7'])).body) as unknown[];
    expect(setJson[3]).toMatchObject({ name: 'max_restarts', value: 7 });
    expect(await c.command(['param.reset', 'default_ttl'])).toEqual({ status: 200, body: '' });
    expect(t.params.values.default_ttl).toBe(120);
    expect(await c.command(['param.reset'])).toMatchObject({ status: 104 });
  });

  it('gives help for each command and as JSON', async () => {
    t = await startAdmin({ secret: 's' });
    const c = await client('s');
    expect(await c.command(['help', 'param.set'])).toEqual({ status: 200, body: 'param.set [-j] <param> <value>\nSet a parameter; the value is checked against its type and bounds.\n' });
    expect((await c.command(['help', 'nope'])).status).toBe(101);
    const list = JSON.parse((await c.command(['help', '-j'])).body) as Record<string, unknown>[];
    expect(list.slice(3).find((x) => x.request === 'ping')).toEqual({
      request: 'ping',
      syntax: 'ping [-j] [<timestamp>]',
      help: 'Keep the connection alive; answers PONG and the time.',
      minarg: 0,
      maxarg: 1,
      flags: 'i',
      json: true,
    });
    const ping = JSON.parse((await c.command(['ping', '-j'])).body) as unknown[];
    expect(ping[3]).toBe('PONG');
    expect(JSON.parse((await c.command(['status', '-j'])).body)[3]).toBe('running');
  });

  it('closes on quit after saying so', async () => {
    t = await startAdmin({ secret: 's' });
    const c = await authed('s');
    c.write('quit\nping\n');
    expect(await c.reply()).toMatchObject({ status: 500, body: 'Closing CLI connection' });
    await c.closed();
  });

  it('answers in order, one command at a time, even when they arrive together', async () => {
    t = await startAdmin({ secret: 's' });
    t.admin.register('test.slow', {
      syntax: 'test.slow <ms> <tag>',
      help: 'Answers the tag after a while.',
      min: 2,
      max: 2,
      run: async ([ms, tag]) => {
        await new Promise((r) => setTimeout(r, Number(ms)));
        return ok(tag);
      },
    });
    const c = await authed('s');
    c.write('test.slow 150 a\ntest.slow 1 b\nping\n');
    expect((await c.reply()).body).toBe('a');
    expect((await c.reply()).body).toBe('b');
    expect((await c.reply()).body).toMatch(/^PONG/);
  });

  it('lets a client fire commands without waiting: each call gets its own reply', async () => {
    t = await startAdmin({ secret: 's' });
    const c = await client('s');
    const replies = await Promise.all([
      c.command(['param.set', 'max_restarts', '5']),
      c.command(['param.show', 'max_restarts']),
      c.command(['param.set', 'max_restarts', 'x']),
      c.command(['status']),
    ]);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 106, 200]);
    expect(replies[1].body).toContain('Value is: 5 [restarts]');
    expect(replies[3].body).toBe('Child in state running');
  });

  it('refuses a command longer than the limit with 400 and closes', async () => {
    t = await startAdmin({ secret: 's', maxCommandBytes: 1000 });
    const c = await authed('s');
    c.write(`ping ${'x'.repeat(2000)}`);
    expect((await c.reply()).status).toBe(400);
    await c.closed();
  });

  it('drops every connection on close()', async () => {
    t = await startAdmin({ secret: 's' });
    const c = await authed('s');
    await t.admin.close();
    await c.closed();
    t = undefined;
  });
});

describe('registering commands (what the server does for vcl.*, ban, backend.*)', () => {
  it('checks arity, strips -j for JSON commands, passes quoted and here-document arguments', async () => {
    t = await startAdmin({ secret: 's' });
    const seen: { args: readonly string[]; json: boolean }[] = [];
    t.admin.register('vcl.inline', {
      syntax: 'vcl.inline <configname> <quoted_VCLstring> [auto|cold|warm]',
      help: 'Compile and load VCL given inline.',
      min: 2,
      max: 3,
      run: (args, ctx) => {
        seen.push({ args, json: ctx.json });
        return args[1].includes('vcl 4.1;') ? ok() : fail(CLIS.PARAM, 'Message from VCC-compiler:\nno version line\n');
      },
    });
    t.admin.register('vcl.list', {
      syntax: 'vcl.list [-j]',
      help: 'List the loaded VCLs.',
      min: 0,
      max: 0,
      json: true,
      run: (_args, ctx) => (ctx.json ? jsonReply(ctx.argv, { status: 'active', name: 'boot' }) : ok('active   auto    warm         0    boot\n')),
    });
    expect(() => t!.admin.register('vcl.list', { syntax: '', help: '', min: 0, max: 0, run: () => ok() })).toThrow(/already registered/);
    expect(() => t!.admin.register('Bad Name', { syntax: '', help: '', min: 0, max: 0, run: () => ok() })).toThrow(/bad admin command name/);

    const c = await client('s');
    const src = 'vcl 4.1;\nbackend b { .host = "127.0.0.1"; .port = "8080"; }\n';
    expect(await c.send(vclInlineCommand('v1', src))).toEqual({ status: 200, body: '' });
    expect(await c.command(['vcl.inline', 'v2', src, 'cold'])).toEqual({ status: 200, body: '' });
    expect(await c.command(['vcl.inline', 'v3', 'nonsense'])).toEqual({ status: 106, body: 'Message from VCC-compiler:\nno version line\n' });
    expect((await c.command(['vcl.inline', 'v4'])).status).toBe(104);
    expect((await c.command(['vcl.inline', 'a', 'b', 'c', 'd'])).status).toBe(105);
    expect(seen).toEqual([
      { args: ['v1', src], json: false },
      { args: ['v2', src, 'cold'], json: false },
      { args: ['v3', 'nonsense'], json: false },
    ]);
    expect((await c.command(['vcl.list'])).body).toBe('active   auto    warm         0    boot\n');
    const listed = JSON.parse((await c.command(['vcl.list', '-j'])).body) as unknown[];
    expect(listed[3]).toEqual({ status: 'active', name: 'boot' });
    // -j is only taken off for commands that speak JSON.
    expect((await c.command(['vcl.inline', '-j', 'x'])).status).toBe(106);
    expect((await c.command(['help'])).body).toContain('vcl.inline <configname> <quoted_VCLstring> [auto|cold|warm]\n');
  });

  it('answers 300 with the message when a command throws, and keeps serving', async () => {
    t = await startAdmin({ secret: 's' });
    t.admin.register('ban', {
      syntax: 'ban <field> <operator> <arg> [&& <field> <oper> <arg> ...]',
      help: 'Ban objects.',
      min: 3,
      max: -1,
      run: () => {
        throw new Error('the cache is gone');
      },
    });
    const c = await client('s');
    expect(await c.command(['ban', 'req.url', '~', '^/a', '&&', 'obj.status', '==', '200'])).toEqual({ status: 300, body: 'the cache is gone\n' });
    expect((await c.command(['ping'])).status).toBe(200);
    expect(t.logLines.some((l) => l.msg === 'admin command failed' && l.command === 'ban')).toBe(true);
  });

  it('drives start, stop and status through the lifecycle hooks', async () => {
    t = await startAdmin({ secret: 's' });
    const c = await client('s');
    expect(await c.command(['stop'])).toMatchObject({ status: 300 });
    let state: 'running' | 'stopped' = 'running';
    t.admin.setLifecycle({
      state: () => state,
      start: () => {
        state = 'running';
      },
      stop: async () => {
        await new Promise((r) => setTimeout(r, 10));
        state = 'stopped';
      },
    });
    expect(await c.command(['start'])).toEqual({ status: 300, body: 'Child in state running' });
    expect(await c.command(['stop'])).toEqual({ status: 200, body: '' });
    expect(await c.command(['status'])).toEqual({ status: 200, body: 'Child in state stopped' });
    expect(await c.command(['stop'])).toEqual({ status: 300, body: 'Child in state stopped' });
    expect(await c.command(['start'])).toEqual({ status: 200, body: '' });
    expect((await c.command(['status'])).body).toBe('Child in state running');
  });

  it('logs each command and its status while syslog_cli_traffic is on', async () => {
    t = await startAdmin({ secret: 's' });
    const c = await client('s');
    await c.command(['param.set', 'syslog_cli_traffic', 'off']);
    await c.command(['ping']);
    const traffic = t.logLines.filter((l) => l.msg === 'admin command').map((l) => `${l.command} ${l.status}`);
    expect(traffic).toEqual(['auth 200', 'param.set 200']);
  });

  it('can be served without a listener, on any stream', () => {
    const admin = new AdminServer({ params: new Params(), secretFile: 'none' });
    registerBuiltins(admin);
    expect(admin.commandNames()).toEqual(['auth', 'banner', 'help', 'param.replay', 'param.reset', 'param.set', 'param.show', 'pid', 'ping', 'quit', 'start', 'status', 'stop']);
  });
});

describe('counters and logs over the admin connection', () => {
  it('shows counters as stat -1 lines and as JSON', async () => {
    t = await startAdmin({ secret: 's' });
    const main = { client_req: 3 };
    t.counters.add('MAIN', main);
    t.counters.addBackend('boot', 'api', { req: 2 });
    const c = await client('s');
    main.client_req = 4;
    const text = (await c.command(['counters.show', 'MAIN.client_req', 'VBE.*.req'])).body;
    expect(text.split('\n').filter(Boolean).map((l) => l.split(/ +/).slice(0, 2))).toEqual([
      ['MAIN.client_req', '4'],
      ['VBE.boot.api.req', '2'],
    ]);
    const json = JSON.parse((await c.command(['counters.show', '-j'])).body) as { counters: Record<string, { value: number }> };
    expect(json.counters['MAIN.client_req'].value).toBe(4);
    expect(json.counters['VBE.boot.api.req'].value).toBe(2);
  });

  it('streams the transactions a query selects until the reader goes away', async () => {
    t = await startAdmin({ secret: 's' });
    const c = await client('s');
    expect((await c.command(['log.stream', '-q', 'nonsense =='])).status).toBe(106);
    expect((await c.command(['log.stream', '-g', 'session'])).status).toBe(106);
    const r = await c.command(['log.stream', '-q', 'ReqURL ~ "^/api" && RespStatus >= 500']);
    expect(r.status).toBe(200);
    expect(t.hub.readerCount).toBe(1);
    for (const [vxid, url, status] of [
      [1, '/api/a', 503],
      [2, '/api/b', 200],
      [3, '/home', 500],
      [4, '/api/c', 500],
    ] as const) {
      const tx = t.hub.begin('client', vxid, 0)!;
      tx.req('GET', url, 'HTTP/1.1');
      tx.resp(status, 'x', 'HTTP/1.1');
      tx.end();
    }
    const got: number[] = [];
    for await (const f of c.frames()) {
      expect(f.status).toBe(200);
      got.push(...(JSON.parse(f.body) as { vxid: number }[]).map((x) => x.vxid));
      if (got.length === 2) break;
    }
    expect(got).toEqual([1, 4]);
    c.close();
    const deadline = Date.now() + 2000;
    while (t.hub.readerCount > 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    expect(t.hub.readerCount).toBe(0);
    expect(t.hub.active).toBe(false);
  });
});
