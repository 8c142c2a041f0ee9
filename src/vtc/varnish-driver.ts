// What a `varnish vNAME` line starts, behind one small interface so the same runner drives
// real varnishd (to prove the runner against the reference) and Shellac. The runner owns
// everything common: the process with the CLI on stdin, the admin connection and its
// authentication, vcl.inline/vcl.use, start/stop, listen addresses. A driver only says how to
// start the manager, where its admin socket is, and how to read its counters.

import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface LaunchOptions {
  /** vNAME */
  readonly name: string;
  /** ${tmpdir}/vNAME: the instance's -n directory. */
  readonly workdir: string;
  /** The directory the runner was started from (varnishtest runs `cd ${pwd} && exec ...`). */
  readonly pwd: string;
  /** The -arg strings, each after a space; a shell splits them, as in varnishtest. */
  readonly args: string;
  /** Some -arg starts with -a: no default listen address is added. */
  readonly hasListenArg: boolean;
  /** `-proto PROXY`: appended to the default listen address. */
  readonly proto: string | undefined;
  /** `-jail STRING`, passed to varnishd as written. */
  readonly jail: string | undefined;
  /** reverse: the runner's listener for `-M`; connect: the port the instance's `-T` must use. */
  readonly cliHost: string;
  readonly cliPort: number;
  /** The secret file the admin connection authenticates with. */
  readonly secretFile: string;
}

export interface Counter {
  readonly name: string;
  readonly value: number;
}

export interface VarnishDriver {
  /** Shown in logs and reports: "varnishd" or "shellac". */
  readonly name: string;
  /** reverse: the instance connects to the runner (-M); connect: the runner connects to -T. */
  readonly cliMode: 'reverse' | 'connect';
  /** Whether the runner writes the secret file before launching (else the instance does). */
  readonly runnerWritesSecret: boolean;
  /** Where logexpect reads the log: Shellac's records over the admin connection, or varnishlog. */
  readonly log: 'admin' | 'varnishlog';
  /** CLI commands sent once the child runs (varnishtest makes xids start at 1000). */
  readonly afterStart: readonly string[];
  /** A /bin/sh command line that runs the manager in the foreground, CLI on stdin (-d). */
  command(o: LaunchOptions): string;
  /** Every counter of the instance, in the order varnishstat lists them. */
  counters(o: LaunchOptions): Promise<Counter[]>;
}

/** Single-quotes a word for /bin/sh. */
export function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Parses `varnishstat -1` output: NAME VALUE RATE DESCRIPTION per line. */
export function parseStatLines(text: string): Counter[] {
  const out: Counter[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(\d+)(?:\s|$)/.exec(line);
    if (m) out.push({ name: m[1], value: Number(m[2]) });
  }
  return out;
}

function runForOutput(cmd: string, args: readonly string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolvePromise(Buffer.concat(out).toString('latin1'));
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${Buffer.concat(err).toString().trim()}`));
    });
  });
}

export interface VarnishdDriverOptions {
  /** The varnishd binary; found on PATH by default. */
  readonly varnishd?: string;
  readonly varnishstat?: string;
}

/** Real varnishd, started the way varnishtest 7.1 starts it. */
export function varnishdDriver(o: VarnishdDriverOptions = {}): VarnishDriver {
  const varnishd = o.varnishd ?? 'varnishd';
  const varnishstat = o.varnishstat ?? 'varnishstat';
  return {
    name: 'varnishd',
    cliMode: 'reverse',
    runnerWritesSecret: false,
    log: 'varnishlog',
    afterStart: ['debug.xid 999'],
    command(l) {
      const parts = [`cd ${shq(l.pwd)} && exec ${shq(varnishd)}`];
      if (l.jail) parts.push(l.jail);
      parts.push('-d', '-n', shq(l.workdir));
      parts.push('-l 2m -p auto_restart=off -p syslog_cli_traffic=off -p thread_pool_min=10');
      parts.push('-p debug=+vtc_mode -p vsl_mask=+Debug -p h2_initial_window_size=1m -p h2_rx_window_low_water=64k');
      if (!l.hasListenArg) parts.push(`-a '127.0.0.1:0${l.proto ? `,${l.proto}` : ''}'`);
      parts.push(`-M '${l.cliHost} ${l.cliPort}'`, '-P', shq(join(l.workdir, 'varnishd.pid')));
      return `${parts.join(' ')} ${l.args}`;
    },
    async counters(o) {
      return parseStatLines(await runForOutput(varnishstat, ['-1', '-n', o.workdir]));
    },
  };
}

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface ShellacDriverOptions {
  /** src/cli/main.ts of the checkout to run. */
  readonly main?: string;
  /** The node binary; the one running the runner by default. */
  readonly node?: string;
  /** VMOD folders each varnish instance searches first (`shellac serve -M`). */
  readonly vmodPath?: readonly string[];
}

/**
 * Shellac, as `shellac serve` in the foreground: `-d` (wait for `start` on the CLI, as
 * varnishd -d), `-n WORKDIR`, `-a 127.0.0.1:0` unless the test gives -a, `-T 127.0.0.1:PORT`
 * and `-S SECRETFILE` for the admin socket, then the test's -arg strings. Counters are read
 * with `shellac stat -1 -T ... -S ...`, which prints varnishstat -1's format.
 */
export function shellacDriver(o: ShellacDriverOptions = {}): VarnishDriver {
  const main = o.main ?? join(REPO, 'src/cli/main.ts');
  const node = o.node ?? process.execPath;
  return {
    name: 'shellac',
    cliMode: 'connect',
    runnerWritesSecret: true,
    log: 'admin',
    afterStart: [],
    command(l) {
      const parts = [`cd ${shq(l.pwd)} && exec ${shq(node)} ${shq(main)} serve -d -n ${shq(l.workdir)}`];
      if (l.jail) parts.push(l.jail);
      if (!l.hasListenArg) parts.push(`-a '127.0.0.1:0${l.proto ? `,${l.proto}` : ''}'`);
      parts.push(`-T '${l.cliHost}:${l.cliPort}'`, '-S', shq(l.secretFile));
      // Varnish's cases script their origins as Varnish fetches: an ESI page's includes one
      // after another, often on one connection. Shellac starts them together by default; off
      // here, as varnishtest sets its own parameters on varnishd (vtc_mode and the rest).
      parts.push('-p feature=-esi_parallel_includes');
      for (const dir of o.vmodPath ?? []) parts.push('-M', shq(dir));
      return `${parts.join(' ')} ${l.args}`;
    },
    async counters(o) {
      const args = [main, 'stat', '-1', '-T', `${o.cliHost}:${o.cliPort}`, '-S', o.secretFile];
      return parseStatLines(await runForOutput(node, args));
    },
  };
}
