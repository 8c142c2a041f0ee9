// `shellac serve` runs the cache in a child that its manager restarts (issue 10): kill the
// child with SIGKILL and the proxy answers again on the same port, with the VCLs, labels, the
// active VCL and the parameters set at run time replayed; the admin connection, held by the
// manager, stays up; MGT counters and panic.show tell what happened.

import { rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminClient } from '../../src/mgmt/admin-client.ts';
import { get, type Origin, startOrigin } from '../helpers/proxy.ts';
import { okBody, type Served, serve, tempDir, until, writeIn } from './helpers.ts';

function vclText(port: number, name: string): string {
  return `vcl 4.1;
backend default { .host = "127.0.0.1"; .port = "${port}"; }
sub vcl_recv { return (pass); }
sub vcl_deliver { set resp.http.x-vcl = "${name}"; }
`;
}

/** The child's pid, from the manager's `pid` answer. */
async function workerPid(c: AdminClient): Promise<number> {
  const m = /Worker: (\d+)/.exec(await okBody(c, ['pid']));
  return Number(m?.[1]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let origin: Origin;
let s: Served;
let c: AdminClient;
beforeAll(async () => {
  origin = await startOrigin((req, res) => res.end(`body of ${req.url}`));
  const dir = tempDir();
  s = await serve(['-f', writeIn(dir, 'boot.vcl', vclText(origin.port, 'boot'))]);
  c = await s.admin();
});
afterAll(async () => {
  c?.close();
  expect(await s.stop()).toBe(0);
  await origin.close();
});

describe('the manager restarts a dead child', () => {
  it('serves again on the same port after SIGKILL, in the state the CLI left', async () => {
    await okBody(c, ['vcl.inline', 'v2', vclText(origin.port, 'v2')]);
    await okBody(c, ['vcl.label', 'lab', 'v2']);
    await okBody(c, ['vcl.use', 'v2']);
    await okBody(c, ['param.set', 'default_ttl', '77']);
    expect((await get(s.port, '/before')).headers['x-vcl']).toBe('v2');

    const first = await workerPid(c);
    expect(first).not.toBe(s.proc.pid);
    process.kill(first, 'SIGKILL');
    const killedAt = Date.now();
    // Bounded: 20 s at most on a loaded machine; the figure is printed.
    const back = await until(async () => {
      try {
        return (await get(s.port, '/after')).status === 200;
      } catch {
        return false;
      }
    }, 20_000);
    expect(back).toBe(true);
    console.log(`proxy answered again ${Date.now() - killedAt} ms after the child was killed`);
    expect(alive(first)).toBe(false);

    const r = await get(s.port, '/after');
    expect(r.headers['x-vcl']).toBe('v2');
    expect(r.body).toBe('body of /after');
    // The same admin connection: the manager held it through the restart.
    const second = await workerPid(c);
    expect(second).not.toBe(first);
    const list = await okBody(c, ['vcl.list']);
    expect(list).toMatch(/active\s+auto\s+warm\s+\d+\s+v2/);
    expect(list).toMatch(/\sboot/);
    expect(list).toMatch(/lab\s+->\s+v2/);
    expect(await okBody(c, ['param.show', 'default_ttl'])).toContain('Value is: 77.000');
    const stat = await okBody(c, ['counters.show', 'MGT.*']);
    expect(stat).toMatch(/MGT\.child_start\s+2\s/);
    expect(stat).toMatch(/MGT\.child_died\s+1\s/);
    expect(stat).toMatch(/MGT\.child_stop\s+0\s/);
    expect(await okBody(c, ['status'])).toBe('Child in state running');
  });

  it('tells how the child ended in panic.show until panic.clear', async () => {
    const shown = await c.command(['panic.show']);
    expect(shown.status).toBe(200);
    expect(shown.body).toMatch(/Child \(\d+\) killed by signal SIGKILL/);
    expect((await c.command(['panic.clear'])).status).toBe(200);
    expect((await c.command(['panic.show'])).status).toBe(300);
    expect((await c.command(['panic.clear'])).status).toBe(300);
  });

  it('lists its own commands with the child’s in help', async () => {
    const help = await okBody(c, ['help']);
    for (const cmd of ['panic.clear', 'panic.show', 'vcl.load', 'ban', 'param.set', 'pid']) expect(help).toMatch(new RegExp(`^${cmd.replace('.', '\\.')}\\b`, 'm'));
    const json = JSON.parse(await okBody(c, ['help', '-j'])) as unknown[];
    const names = json.slice(3).map((it) => (it as { request: string }).request);
    expect(names).toEqual([...names].sort());
    for (const cmd of ['panic.show', 'vcl.load', 'pid']) expect(names).toContain(cmd);
    const pid = JSON.parse(await okBody(c, ['pid', '-j'])) as unknown[];
    expect(pid[3]).toEqual({ master: s.proc.pid, worker: await workerPid(c) });
  });

  it('keeps listeners closed after stop, across a restart, until start', async () => {
    await okBody(c, ['stop']);
    process.kill(await workerPid(c), 'SIGKILL');
    expect(await until(async () => (await c.command(['status'])).body === 'Child in state stopped' && (await c.command(['vcl.list'])).status === 200, 20_000)).toBe(true);
    await expect(get(s.port, '/closed')).rejects.toThrow();
    await okBody(c, ['start']);
    expect((await get(s.port, '/open')).headers['x-vcl']).toBe('v2');
  });
});

describe('a child that cannot start', () => {
  it('is started again after a growing pause, says why in panic.show, and serves once it can', async () => {
    const dir = tempDir();
    const aliveFile = writeIn(dir, 'alive', '');
    // A new child loads the boot VCL the manager compiled at start (the file is not read again):
    // this one's vcl_init fails while the file `alive` is missing.
    const boot = `${vclText(origin.port, 'boot')}import std;\nsub vcl_init { if (!std.file_exists("${aliveFile}")) { return (fail); } }\n`;
    const t = await serve(['-f', writeIn(dir, 'boot.vcl', boot)]);
    const a = await t.admin();
    try {
      rmSync(aliveFile);
      writeIn(dir, 'boot.vcl', 'vcl 4.1;\nsub vcl_recv { set req.http.x = ; }\n');
      process.kill(await workerPid(a), 'SIGKILL');
      expect(await until(async () => /exited with status 1/.test((await a.command(['panic.show'])).body), 20_000)).toBe(true);
      expect((await a.command(['panic.show'])).body).toContain("VCL 'boot' failed initialization");
      writeIn(dir, 'alive', '');
      const back = await until(async () => {
        try {
          return (await get(t.port, '/again')).headers['x-vcl'] === 'boot';
        } catch {
          return false;
        }
      }, 30_000);
      expect(back).toBe(true);
      const stat = await okBody(a, ['counters.show', 'MGT.*']);
      expect(Number(/MGT\.child_stop\s+(\d+)/.exec(stat)?.[1])).toBeGreaterThanOrEqual(1);
      expect(stat).toMatch(/MGT\.child_died\s+1\s/);
    } finally {
      a.close();
      expect(await t.stop()).toBe(0);
    }
  });
});

/** GET over a Unix socket: the status, or 0 when nothing answers. */
function getUnix(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

describe('a Unix socket listener', () => {
  it('comes back after SIGKILL: the socket file the dead child left is replaced', async () => {
    const dir = tempDir();
    const sock = join(dir, 'shellac.sock');
    const t = await serve(['-f', writeIn(dir, 'boot.vcl', vclText(origin.port, 'boot')), '-a', sock]);
    const a = await t.admin();
    try {
      expect(await getUnix(sock, '/one')).toBe(200);
      process.kill(await workerPid(a), 'SIGKILL');
      expect(await until(async () => (await getUnix(sock, '/two')) === 200, 20_000)).toBe(true);
      expect(await okBody(a, ['debug.listen_address'])).toContain(`a1 ${sock} -`);
    } finally {
      a.close();
      expect(await t.stop()).toBe(0);
    }
  });
});
