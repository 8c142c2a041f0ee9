// varnishd's -r, -h and -j on `shellac serve` (issue 11): -r protects parameters from param.set
// and param.reset (status 107, varnishd's message); -h and -j take varnishd's methods and refuse
// others at start, as varnishd does, so a start-up script with a typo fails the same way.

import { statSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminClient } from '../../src/mgmt/admin-client.ts';
import { okBody, type Served, serve, shellac, tempDir, until, writeIn } from './helpers.ts';

/** Sends raw bytes and returns all the connection answered before it closed (or 5 s passed). */
function exchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const sock = connect(port, '127.0.0.1', () => sock.end(bytes));
    sock.setTimeout(5000, () => sock.destroy());
    sock.on('data', (b) => {
      got += b.toString('latin1');
    });
    sock.on('error', () => {});
    sock.on('close', () => resolve(got));
  });
}

const VCL = 'vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "9"; }\n';

let s: Served;
let c: AdminClient;
let sockPath: string;
beforeAll(async () => {
  const dir = tempDir();
  sockPath = join(dir, 'shellac.sock');
  s = await serve([
    ...['-f', writeIn(dir, 'boot.vcl', VCL), '-r', 'default_ttl,default_grace', '-r', 'max_restarts', '-h', 'critbit', '-j', 'unix,user=nobody', '-p', 'default_ttl=30'],
    ...['-a', 'prx=127.0.0.1:0,PROXY', '-a', `sock=${sockPath},mode=0640`],
  ]);
  c = await s.admin();
});
afterAll(async () => {
  c?.close();
  expect(await s.stop()).toBe(0);
});

describe('shellac serve -r', () => {
  it('refuses param.set and param.reset of a protected parameter with 107, and keeps its -p value', async () => {
    for (const argv of [['param.set', 'default_ttl', '10'], ['param.reset', 'default_ttl'], ['param.set', 'max_restarts', '2'], ['param.set', 'default_grace', '1']]) {
      const r = await c.command(argv);
      expect(r.status, argv.join(' ')).toBe(107);
      expect(r.body).toContain(`parameter "${argv[1]}" is protected.`);
    }
    expect(await okBody(c, ['param.show', 'default_ttl'])).toMatch(/Value is: 30\.000 \[seconds\]/);
    await okBody(c, ['param.set', 'default_keep', '5']);
    expect(await okBody(c, ['param.show', 'default_keep'])).toMatch(/Value is: 5\.000/);
  });
});

/** The port of a listener, from debug.listen_address. */
async function portOf(name: string): Promise<number> {
  const line = (await okBody(c, ['debug.listen_address'])).split('\n').find((l) => l.startsWith(`${name} `));
  return Number(line?.split(' ')[2]);
}

describe('-a sub-arguments', () => {
  it('gives a Unix socket its mode, and a restarted child keeps PROXY and the mode', async () => {
    expect(statSync(sockPath).mode & 0o777).toBe(0o640);
    const port = await portOf('prx');
    const proxied = 'PROXY TCP4 192.0.2.1 127.0.0.1 4000 80\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    expect(await exchange(port, proxied)).toMatch(/^HTTP\/1\.1 503 /);
    expect(await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).not.toMatch(/^HTTP\/1\.1 503 /);

    const pid = Number(/Worker: (\d+)/.exec(await okBody(c, ['pid']))?.[1]);
    process.kill(pid, 'SIGKILL');
    const back = await until(async () => (await exchange(port, proxied)).startsWith('HTTP/1.1 503 '), 20_000);
    expect(back).toBe(true);
    expect(await exchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).not.toMatch(/^HTTP\/1\.1 503 /);
    expect(statSync(sockPath).mode & 0o777).toBe(0o640);
  });
});

describe('start-up flags refused as varnishd refuses them', () => {
  const cases: [string[], RegExp][] = [
    [['-r', 'nosuch'], /Unknown parameter nosuch/],
    [['-h', 'foo'], /Unknown hash method "foo"/],
    [['-h', 'critbit,3'], /Hash method "critbit" takes no arguments/],
    [['-j', 'solaris'], /Unknown jail method "solaris"/],
    [['-a', '127.0.0.1:0,mode=0600'], /Invalid sub-arg mode=0600 for IP addresses in -a/],
    [['-a', '/tmp/shellac-x.sock,mode=999'], /Invalid mode sub-arg 999 in -a/],
    [['-a', '/tmp/shellac-x.sock,user=nosuchuser'], /Unknown user nosuchuser in -a/],
  ];
  for (const [flags, message] of cases) {
    it(flags.join(' '), async () => {
      const r = await shellac(['serve', '-b', '127.0.0.1:9', '-a', '127.0.0.1:0', '-n', tempDir(), ...flags]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
    });
  }
});
