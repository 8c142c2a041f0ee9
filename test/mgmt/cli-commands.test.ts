// shellac adm, stat, log and ncsa as a user runs them: child processes talking to an admin
// server on a loopback port of this process.

import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ok } from '../../src/mgmt/admin.ts';
import { startAdmin, type TestAdmin, tempDir } from './admin-helpers.ts';

const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function shellac(args: readonly string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [MAIN, ...args], { timeout: 15_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

let t: TestAdmin | undefined;
let timer: ReturnType<typeof setInterval> | undefined;

afterEach(async () => {
  if (timer) clearInterval(timer);
  timer = undefined;
  await t?.admin.close();
  t = undefined;
});

function target(): string[] {
  return ['-T', `127.0.0.1:${t!.port}`, '-S', t!.secretFile];
}

describe('shellac adm', () => {
  it('runs one command and exits 0 on 200', async () => {
    t = await startAdmin({ secret: 'pw\n' });
    const r = await shellac(['adm', ...target(), 'ping']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^PONG \d+ 1\.0\n$/);
  });

  it('exits 1 when the status is not 200, with the body on stdout and the status on stderr', async () => {
    t = await startAdmin({ secret: 'pw\n' });
    const r = await shellac(['adm', ...target(), 'param.set', 'default_ttl', 'abc']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("Invalid number (abc)\n\n(attempting to set param 'default_ttl' to 'abc')\n");
    expect(r.stderr).toBe('Command failed with error code 106\n');
  });

  it('exits 2 when authentication fails', async () => {
    t = await startAdmin({ secret: 'pw\n', authFailDelayMs: 10 });
    const bad = join(tempDir(), 'bad');
    writeFileSync(bad, 'wrong\n');
    const r = await shellac(['adm', '-T', `127.0.0.1:${t.port}`, '-S', bad, 'ping']);
    expect(r).toMatchObject({ code: 2, stderr: 'Rejected 500\n' });
    const none = await shellac(['adm', '-T', `127.0.0.1:${t.port}`, 'ping']);
    expect(none).toMatchObject({ code: 2, stderr: 'Authentication required\n' });
  });

  it('exits 2 when nothing listens, and on a bad flag', async () => {
    const down = await shellac(['adm', '-T', '127.0.0.1:1', 'ping']);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(/cannot connect to 127\.0\.0\.1:1/);
    expect((await shellac(['adm', '-x'])).code).toBe(2);
  });

  it('finds the address and secret from the work dir (-n)', async () => {
    const dir = tempDir();
    t = await startAdmin({ workdir: dir });
    const r = await shellac(['adm', '-n', dir, 'status']);
    expect(r).toMatchObject({ code: 0, stdout: 'Child in state running\n' });
    const missing = await shellac(['adm', '-n', join(dir, 'nope'), 'status']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no running instance found/);
  });

  it('sends one argument as typed, and quotes the words of several', async () => {
    t = await startAdmin({ secret: 'pw\n' });
    expect((await shellac(['adm', ...target(), 'param.set vcl_path "/a b:/c"'])).code).toBe(0);
    expect(t.params.values.vcl_path).toEqual(['/a b', '/c']);
    expect((await shellac(['adm', ...target(), 'param.set', 'vcl_path', '/d e\\f'])).code).toBe(0);
    expect(t.params.values.vcl_path).toEqual(['/d e\\f']);
  });

  it('reads commands from a pipe, here documents included', async () => {
    t = await startAdmin({ secret: 'pw\n' });
    t.admin.register('test.len', { syntax: 'test.len <name> <text>', help: 'Length of the text.', min: 2, max: 2, run: (a) => ok(`${a[0]} ${a[1].length}`) });
    const r = await shellac(['adm', ...target()], 'ping\n\ntest.len v1 << END\nvcl 4.1;\nsub vcl_recv { }\nEND\nparam.set max_restarts -1\nparam.show changed\n');
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^PONG/);
    expect(lines[1]).toBe('v1 26');
    expect(lines[2]).toBe('Not a number (-1)');
    expect(r.stdout).toContain('(attempting to set param');
    expect(r.stderr).toBe('Command failed with error code 106\n');
  });
});

describe('shellac stat', () => {
  it('prints counters once, varnishstat -1 style, filtered by -f', async () => {
    t = await startAdmin({ secret: 'pw\n' });
    t.counters.add('MAIN', { client_req: 12, cache_hit: 7, cache_hit_grace: 1 });
    t.counters.addBackend('boot', 'default', { req: 5 });
    const r = await shellac(['stat', ...target(), '-1', '-f', 'MAIN.c*', '-f', '^*grace', '-f', 'VBE.*.req']);
    expect(r.code).toBe(0);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/ +/).slice(0, 2));
    expect(rows).toContainEqual(['MAIN.client_req', '12']);
    expect(rows).toContainEqual(['MAIN.cache_hit', '7']);
    expect(rows).toContainEqual(['VBE.boot.default.req', '5']);
    expect(rows.map((x) => x[0])).not.toContain('MAIN.cache_hit_grace');
    expect(rows.every(([name]) => name.startsWith('MAIN.c') || name === 'VBE.boot.default.req')).toBe(true);
  });

  it('prints JSON with -j', async () => {
    t = await startAdmin({ secret: 'pw\n' });
    t.counters.add('MAIN', { s_pass: 3 });
    const r = await shellac(['stat', ...target(), '-j', '-f', 'MAIN.s_pass']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ version: 1, counters: { 'MAIN.s_pass': { value: 3, flag: 'c', format: 'i' } } });
  });

  it('refreshes with the change per second', async () => {
    t = await startAdmin({ secret: 'pw\n' });
    const main = { client_req: 0 };
    t.counters.add('MAIN', main);
    timer = setInterval(() => {
      main.client_req += 10;
    }, 20);
    const r = await shellac(['stat', ...target(), '-w', '0.3', '--count', '2']);
    expect(r.code).toBe(0);
    const screens = r.stdout.split(/^uptime /m).filter(Boolean);
    expect(screens).toHaveLength(2);
    const second = screens[1].split('\n').find((l) => l.startsWith('MAIN.client_req'));
    const change = Number(second!.split(/ +/)[2]);
    expect(change).toBeGreaterThan(50);
  });

  it('needs sensible flags', async () => {
    expect((await shellac(['stat', '-1', '-j'])).code).toBe(2);
    expect((await shellac(['stat', '-w', 'x'])).code).toBe(2);
  });
});

describe('shellac log and ncsa', () => {
  function traffic(): void {
    let vxid = 1000;
    timer = setInterval(() => {
      vxid += 2;
      const tx = t!.hub.begin('client', vxid, 0);
      if (!tx) return;
      tx.set('client', { ip: '127.0.0.1', port: 5000 });
      tx.req('GET', vxid % 4 === 0 ? '/api/list' : '/home', 'HTTP/1.1', [
        ['Host', 'shop.example'],
        ['User-Agent', 'probe'],
      ]);
      tx.call('recv');
      tx.ret('hash');
      tx.resp(vxid % 4 === 0 ? 503 : 200, 'x', 'HTTP/1.1');
      tx.bytes(50, 0, 80, 11);
      tx.end();
    }, 10);
  }

  it('ncsa prints combined log lines of live traffic', async () => {
    t = await startAdmin({ secret: 'pw\n' });
    traffic();
    const r = await shellac(['ncsa', ...target(), '--count', '3']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) {
      expect(l).toMatch(/^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "GET http:\/\/shop\.example\/(api\/list|home) HTTP\/1\.1" (200|503) 11 "-" "probe"$/);
    }
  });

  it('log prints the transactions a query selects', async () => {
    t = await startAdmin({ secret: 'pw\n' });
    traffic();
    const r = await shellac(['log', ...target(), '-q', 'RespStatus >= 500', '--count', '2']);
    expect(r.code).toBe(0);
    const records = r.stdout.split('\n\n').filter((b) => b.trim());
    expect(records).toHaveLength(2);
    for (const rec of records) {
      expect(rec).toMatch(/^\* {3}<< Request {2}>> \d+/);
      expect(rec).toContain('-   ReqURL         /api/list');
      expect(rec).toContain('-   RespStatus     503');
    }
    const json = await shellac(['log', ...target(), '--json', '--count', '1']);
    expect(JSON.parse(json.stdout.trim())).toMatchObject({ side: 'client', req: { method: 'GET' } });
  });

  it('refuses a bad query before connecting', async () => {
    const r = await shellac(['log', '-q', 'RespStatus >']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/-q: expected a value/);
  });
});
