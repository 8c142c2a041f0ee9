// bin/shellac.mjs run by a Node older than 24 (the system's Node 20 here) hands over to the
// pinned Node 24 as a child. Signals sent to the wrapper's PID, the one a user or a process
// manager holds, must reach the server, and the wrapper must end as the server did.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep } from '../helpers/proxy.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const WRAPPER = join(ROOT, 'bin/shellac.mjs');
/** A Node older than 24: the wrapper's hand-over only happens there. */
const OLD_NODE = ['/usr/bin/node', '/usr/local/bin/node'].find(
  (p) => existsSync(p) && Number(execFileSync(p, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' })) < 24,
);

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

interface Started {
  readonly wrapper: ChildProcess;
  readonly server: number;
  readonly ended: Promise<Ended>;
  readonly output: () => string;
}

let started: Started | undefined;
afterEach(() => {
  if (started) {
    for (const pid of [started.server, started.wrapper.pid]) {
      try {
        if (pid !== undefined) process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone, as it should be.
      }
    }
  }
  started = undefined;
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `shellac serve` through the wrapper, with a VCL file (for SIGHUP), once it listens. */
async function startServe(extra: readonly string[] = []): Promise<Started> {
  if (OLD_NODE === undefined) throw new Error('no Node older than 24 on this machine for the wrapper to hand over from');
  const dir = mkdtempSync(join(tmpdir(), 'shellac-wrapper-'));
  const vcl = join(dir, 'main.vcl');
  writeFileSync(vcl, 'vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "9"; }\n');
  const wrapper = spawn(OLD_NODE, [WRAPPER, 'serve', '-f', vcl, '-a', '127.0.0.1:0', '-T', '127.0.0.1:0', ...extra], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    // The wrapper must find Node 20 first, as on a machine whose system Node is old.
    env: { ...process.env, PATH: `/usr/bin:${process.env.PATH ?? ''}`, SHELLAC_LOG_LEVEL: 'warn' },
  });
  let output = '';
  wrapper.stdout?.on('data', (d: Buffer) => {
    output += d;
  });
  wrapper.stderr?.on('data', (d: Buffer) => {
    output += d;
  });
  const ended = new Promise<Ended>((r) => wrapper.once('exit', (code, signal) => r({ code, signal })));
  for (let i = 0; i < 400 && !/Listening on/.test(output); i++) await sleep(50);
  expect(output).toMatch(/Listening on a0 127\.0\.0\.1 \d+/);
  const children = execFileSync('pgrep', ['-P', String(wrapper.pid)], { encoding: 'utf8' }).trim().split('\n');
  expect(children).toHaveLength(1);
  started = { wrapper, server: Number(children[0]), ended, output: () => output };
  return started;
}

async function until(what: () => boolean, ms = 20_000): Promise<void> {
  for (let waited = 0; !what() && waited < ms; waited += 50) await sleep(50);
}

describe('bin/shellac.mjs under an older Node', () => {
  it('runs the server as a child, passes SIGHUP on (the VCL is reloaded), and on SIGTERM exits 0 as the server does', async () => {
    const s = await startServe();
    expect(s.server).not.toBe(s.wrapper.pid);
    expect(alive(s.server)).toBe(true);

    process.kill(s.wrapper.pid as number, 'SIGHUP');
    await until(() => /SIGHUP: loaded/.test(s.output()));
    expect(s.output()).toMatch(/SIGHUP: loaded .*main\.vcl/);
    expect(alive(s.wrapper.pid as number)).toBe(true);

    process.kill(s.wrapper.pid as number, 'SIGTERM');
    expect(await s.ended).toEqual({ code: 0, signal: null });
    await until(() => !alive(s.server));
    expect(alive(s.server)).toBe(false);
  });

  it('passes SIGINT on: the server stops and the wrapper exits 0', async () => {
    const s = await startServe();
    process.kill(s.wrapper.pid as number, 'SIGINT');
    expect(await s.ended).toEqual({ code: 0, signal: null });
    await until(() => !alive(s.server));
    expect(alive(s.server)).toBe(false);
  });

  it('passes SIGUSR2 on and dies of it as the server did', async () => {
    const s = await startServe();
    process.kill(s.wrapper.pid as number, 'SIGUSR2');
    expect(await s.ended).toEqual({ code: null, signal: 'SIGUSR2' });
    await until(() => !alive(s.server));
    expect(alive(s.server)).toBe(false);
  });

  it('passes SIGUSR1 on: the server opens its log file again (logrotate), and both keep running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shellac-wrapper-log-'));
    const log = join(dir, 'shellac.log');
    const s = await startServe(['--log-file', log]);
    await until(() => existsSync(log));
    renameSync(log, `${log}.1`);
    process.kill(s.wrapper.pid as number, 'SIGUSR1');
    await until(() => existsSync(log));
    expect(existsSync(log)).toBe(true);
    expect(alive(s.server) && alive(s.wrapper.pid as number)).toBe(true);
    process.kill(s.wrapper.pid as number, 'SIGTERM');
    expect(await s.ended).toEqual({ code: 0, signal: null });
  });
});
