// The VMOD platform behind the manager (`shellac serve` as manager and child): the commands the
// manager's admin listener receives reach the child's VMODs as `cli` events, those it answers
// itself, a command refused before auth and a failed authentication included; and a VMOD
// parameter set at run time survives a child restart although the VMOD's VCL is replayed after
// the parameters (test/fixtures/vmods/tplat, imported only by a VCL loaded at run time).

import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/mgmt/admin-client.ts';
import { get, type Origin, startOrigin } from '../helpers/proxy.ts';
import { FIXTURE_VMODS, okBody, type Served, serve, tempDir, until, writeIn } from './helpers.ts';

const BOOT = (port: number) => `vcl 4.1;
backend b { .host = "127.0.0.1"; .port = "${port}"; }
`;

const WITH_TPLAT = (port: number) => `vcl 4.1;
import tplat;
backend b { .host = "127.0.0.1"; .port = "${port}"; }
sub vcl_recv {
  if (req.url == "/own/mode") { return (synth(200)); }
  return (pass);
}
sub vcl_synth { set resp.http.x-mode = tplat.own("mode"); }
`;

/** The items of a -j reply after varnishd's envelope (version, argv, time). */
async function jsonItems(c: AdminClient, argv: string[]): Promise<Record<string, unknown>[]> {
  return (JSON.parse(await okBody(c, argv)) as unknown[]).slice(3) as Record<string, unknown>[];
}

async function workerPid(c: AdminClient): Promise<number> {
  return Number(/Worker: (\d+)/.exec(await okBody(c, ['pid']))?.[1]);
}

let origin: Origin;
let s: Served;
let c: AdminClient;
beforeAll(async () => {
  origin = await startOrigin((_req, res) => res.end('from origin'));
  const dir = tempDir();
  s = await serve(['-M', FIXTURE_VMODS, '-f', writeIn(dir, 'boot.vcl', BOOT(origin.port))]);
  c = await s.admin();
  await okBody(c, ['vcl.inline', 'plat', WITH_TPLAT(origin.port)]);
  await okBody(c, ['vcl.use', 'plat']);
});
afterAll(async () => {
  c?.close();
  expect(await s.stop()).toBe(0);
  await origin.close();
});

describe('cli events behind the manager', () => {
  it("reports the manager's own commands, a command denied before auth and a failed auth, once each, with the operator's peer", async () => {
    await okBody(c, ['ping']);
    await okBody(c, ['status']);
    // Refused before auth: the manager answers 101 and closes the connection.
    await new Promise<void>((resolve) => {
      const sock = connect(s.adminPort, '127.0.0.1', () => sock.write('vcl.list\n'));
      sock.on('data', () => {});
      sock.on('close', () => resolve());
    });
    const wrongSecret = writeIn(tempDir(), 'wrong', 'not the secret\n', 0o600);
    await expect(AdminClient.connect({ host: '127.0.0.1', port: s.adminPort, secretFile: wrongSecret, timeoutMs: 5000 })).rejects.toThrow();
    let cli: Record<string, unknown>[] = [];
    expect(
      await until(async () => {
        cli = await jsonItems(c, ['tplat.events', '-j', 'cli']);
        return cli.some((e) => e.outcome === 'denied') && cli.some((e) => e.outcome === 'auth_failed');
      }, 10_000),
    ).toBe(true);
    expect(cli.find((e) => e.outcome === 'denied')).toMatchObject({ version: 1, command: 'vcl.list', args: [], status: 101 });
    expect(cli.find((e) => e.outcome === 'auth_failed')).toMatchObject({ command: 'auth', args: [], status: 500 });
    // Answered by the manager itself, and each command once (the child's own listener, which
    // only the manager uses, raises none).
    expect(cli.filter((e) => e.command === 'ping')).toHaveLength(1);
    expect(cli.find((e) => e.command === 'status')).toMatchObject({ outcome: 'ok', status: 200 });
    const peer = cli.find((e) => e.command === 'ping')!.peer as string;
    expect(peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(JSON.stringify(cli)).not.toContain('the first secret');
    // A command handed on to the child is reported once too, as the manager saw it.
    await okBody(c, ['vcl.list']);
    expect(
      await until(async () => {
        cli = await jsonItems(c, ['tplat.events', '-j', 'cli']);
        return cli.some((e) => e.command === 'vcl.list' && e.outcome === 'ok');
      }, 10_000),
    ).toBe(true);
    expect(cli.filter((e) => e.command === 'vcl.list' && e.outcome === 'ok')).toHaveLength(1);
    expect(cli.find((e) => e.command === 'vcl.list' && e.outcome === 'ok')!.peer).toBe(peer);
  });
});

describe("a VMOD's parameter across a child restart", () => {
  it('is replayed once the replayed VCL has loaded the VMOD', async () => {
    await okBody(c, ['param.set', 'tplat.mode', 'slow']);
    expect((await get(s.port, '/own/mode')).headers['x-mode']).toBe('slow');
    const first = await workerPid(c);
    process.kill(first, 'SIGKILL');
    expect(
      await until(async () => {
        try {
          return (await get(s.port, '/own/mode')).status === 200;
        } catch {
          return false;
        }
      }, 20_000),
    ).toBe(true);
    expect(await workerPid(c)).not.toBe(first);
    expect((await get(s.port, '/own/mode')).headers['x-mode']).toBe('slow');
    expect(await okBody(c, ['param.show', 'tplat.mode'])).toContain('Value is: slow');
    // Nothing of the replay was refused.
    expect(s.stderr()).not.toMatch(/replaying into the new child/);
  });
});
