// Helpers for the operations tests: a `shellac serve` child process (or an in-process server
// with its admin side from startOps), an admin connection over loopback, `shellac adm` and
// `shellac stat` run as child processes, and a scriptable origin.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { AdminClient } from '../../src/mgmt/admin-client.ts';
import type { CliReply } from '../../src/mgmt/cli-protocol.ts';
import { Params } from '../../src/common/params.ts';
import { type Ops, startOps } from '../../src/mgmt/serve-admin.ts';
import { Shellac } from '../../src/proxy/server.ts';

export const ROOT = resolve(import.meta.dirname, '../..');
export const NODE = join(ROOT, 'node_modules/.bin/node');
export const MAIN = join(ROOT, 'src/cli/main.ts');
export const FIXTURE_VMODS = join(ROOT, 'test/fixtures/vmods');

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'shellac-ops-'));
}

/** Writes a file (mode 0644) in `dir` and returns its path. */
export function writeIn(dir: string, name: string, text: string, mode = 0o644): string {
  const path = join(dir, name);
  writeFileSync(path, text, { mode });
  return path;
}

export interface Served {
  readonly proc: ChildProcess;
  readonly port: number;
  readonly adminPort: number;
  readonly dir: string;
  readonly secretFile: string;
  /** The /metrics port, when metrics_listen was set. */
  readonly metricsPort?: number;
  /** Everything the child wrote on stderr so far. */
  stderr(): string;
  /** Connects and authenticates with the secret file. */
  admin(): Promise<AdminClient>;
  /** SIGTERM, then waits for the exit code. */
  stop(): Promise<number | null>;
}

/** Spawns `shellac serve -a 127.0.0.1:0 -T 127.0.0.1:0 -S <secret> -n <dir> ARGS`. */
export async function serve(args: readonly string[], opts: { secret?: string; env?: Readonly<Record<string, string>> } = {}): Promise<Served> {
  const dir = tempDir();
  const secretFile = writeIn(dir, 'secret', opts.secret ?? 'the first secret\n', 0o600);
  const proc = spawn(NODE, [MAIN, 'serve', '-a', '127.0.0.1:0', '-T', '127.0.0.1:0', '-S', secretFile, '-n', join(dir, 'work'), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  let out = '';
  let err = '';
  proc.stderr?.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const ports = await new Promise<{ port: number; adminPort: number; metricsPort?: number }>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`serve did not start: ${out}${err}`)), 20_000);
    proc.stdout?.on('data', (b: Buffer) => {
      out += b.toString();
      const a = /Admin on \S+ (\d+)/.exec(out);
      const l = /Listening on \S+ \S+ (\d+)/.exec(out);
      const m = /Metrics on \S+ (\d+)/.exec(out);
      if (a && l) {
        clearTimeout(timer);
        res({ adminPort: Number(a[1]), port: Number(l[1]), ...(m ? { metricsPort: Number(m[1]) } : {}) });
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`serve exited ${code}: ${out}${err}`));
    });
  });
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return {
    proc,
    ...ports,
    dir,
    secretFile,
    stderr: () => err,
    admin: () => AdminClient.connect({ host: '127.0.0.1', port: ports.adminPort, secretFile, timeoutMs: 10_000 }),
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `shellac SUBCOMMAND ARGS` to its end. */
export function shellac(args: readonly string[], timeoutMs = 20_000): Promise<Run> {
  return new Promise((res) => {
    execFile(NODE, [MAIN, ...args], { cwd: ROOT, timeout: timeoutMs }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

/** `shellac adm -T 127.0.0.1:PORT -S FILE ARGS`. */
export function adm(s: { adminPort: number; secretFile: string }, ...args: string[]): Promise<Run> {
  return shellac(['adm', '-T', `127.0.0.1:${s.adminPort}`, '-S', s.secretFile, ...args]);
}

/** Sends a command and insists on 200, returning the body. */
export async function okBody(client: AdminClient, argv: readonly string[]): Promise<string> {
  const r: CliReply = await client.command(argv);
  if (r.status !== 200) throw new Error(`${argv.join(' ')}: ${r.status} ${r.body}`);
  return r.body;
}

export interface InProcess {
  readonly srv: Shellac;
  readonly ops: Ops;
  readonly port: number;
  readonly dir: string;
  readonly secretFile: string;
  admin(): Promise<AdminClient>;
  close(): Promise<void>;
}

/** A Shellac in this process with its admin side (startOps), VMODs from test/fixtures/vmods. */
export async function inProcess(vcl: string, params: [string, string][] = []): Promise<InProcess> {
  const dir = tempDir();
  const secretFile = writeIn(dir, 'secret', 'in-process secret\n', 0o600);
  const logger = pino({ level: 'silent' });
  const srv = new Shellac({ params: new Params(params), storageBytes: 16 * 1024 * 1024, vmodPath: [FIXTURE_VMODS], logger });
  await srv.vcls.load('boot', { source: vcl });
  const [a] = await srv.listen([{ name: 'a0', host: '127.0.0.1', port: 0 }]);
  const ops = await startOps(srv, { admin: { host: '127.0.0.1', port: 0 }, secretFile, workdir: join(dir, 'work'), logger });
  return {
    srv,
    ops,
    port: a.port,
    dir,
    secretFile,
    admin: () => AdminClient.connect({ host: '127.0.0.1', port: ops.adminAddress.port, secretFile, timeoutMs: 10_000 }),
    close: async () => {
      await ops.close();
      await srv.close(200);
    },
  };
}

/** Polls `pred` every 50 ms until it holds or `ms` pass; returns whether it held. */
export async function until(pred: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await pred()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface LiveReader {
  /** The command's child process (killed by `stop`). */
  readonly proc: ChildProcess;
  /**
   * stdout and stderr so far, once `done` holds or the command exits, with its exit code (null
   * while it runs); rejects after `timeoutMs`.
   */
  readonly result: Promise<{ code: number | null; out: string }>;
  stop(): void;
}

/**
 * Runs a command that reads live records (`shellac log`, `ncsa`, `top`, `hist`) while traffic
 * flows: it attaches asynchronously, so `traffic(round)` is sent every `everyMs` (at most
 * `rounds` times) until the output satisfies `done` or the command ends.
 */
export function readWhileTraffic(
  args: readonly string[],
  traffic: (round: number) => Promise<unknown>,
  opts: { done?: (out: string) => boolean; everyMs?: number; rounds?: number; timeoutMs?: number } = {},
): LiveReader {
  const proc = spawn(NODE, [MAIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const result = new Promise<{ code: number | null; out: string }>((resolve, reject) => {
    let out = '';
    let round = 0;
    const ticker = setInterval(() => {
      if (++round > (opts.rounds ?? 20)) clearInterval(ticker);
      else void traffic(round);
    }, opts.everyMs ?? 500);
    const end = (): void => {
      clearTimeout(timer);
      clearInterval(ticker);
    };
    const timer = setTimeout(() => {
      end();
      reject(new Error(`${args[0]}: no matching output in time: ${out}`));
    }, opts.timeoutMs ?? 15_000);
    const take = (b: Buffer): void => {
      out += b.toString();
      if (opts.done?.(out)) {
        end();
        resolve({ code: proc.exitCode, out });
      }
    };
    proc.stdout?.on('data', take);
    proc.stderr?.on('data', take);
    proc.once('exit', (code) => {
      end();
      resolve({ code, out });
    });
  });
  return { proc, result, stop: () => proc.kill('SIGTERM') };
}
