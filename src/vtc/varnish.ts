// One `varnish vNAME` instance: the manager process (real varnishd or Shellac, through a
// VarnishDriver) with its CLI on stdin and an authenticated admin connection, and what
// varnishtest does with it: vcl.inline + vcl.use, start and wait until the child runs, read
// the listen addresses into ${vNAME_addr/port/sock}, stop, and at the end check for a panic
// and the exit status.

import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { CLIS_CANT, CLIS_OK, CliClient, CliError, type CliResponse } from './cli-client.ts';
import { sleep, type TestContext } from './context.ts';
import { logFeed, testUsesLogexpect } from './log-feed.ts';
import type { Env } from './spec.ts';
import type { LaunchOptions } from './varnish-driver.ts';

/** The here-document marker varnishtest wraps VCL in. */
export const HEREDOC = '%XJEIFLH|)Xspa8P';
/** Bounds on cleanup steps once a test has failed: the CLI may never answer. */
const CLEANUP_MS = 10_000;

export class VtcVarnish {
  readonly name: string;
  readonly ctx: TestContext;
  readonly workdir: string;
  args = '';
  hasListenArg = false;
  proto: string | undefined;
  jail: string | undefined;
  syntax = 4.1;
  expectExit = 0;
  vclCount = 0;
  /** How the manager was launched; counters are read through the same admin address. */
  launchOptions: LaunchOptions | undefined;
  #proc: ChildProcess | undefined;
  #exit: Promise<number | null> | undefined;
  #cli: CliClient | undefined;

  constructor(ctx: TestContext, name: string) {
    this.ctx = ctx;
    this.name = name;
    this.workdir = join(ctx.tmpdir, name);
  }

  get launched(): boolean {
    return this.#cli !== undefined;
  }

  get env(): Env {
    return { ctx: this.ctx, id: this.name, signal: this.ctx.signal };
  }

  #log(level: number, msg: string): void {
    this.ctx.log.emit(this.name, level, msg);
  }

  /** Starts the manager once; later calls do nothing. */
  async launch(): Promise<void> {
    if (this.#cli || this.#proc) return;
    const { ctx, name } = this;
    const driver = ctx.settings.driver;
    this.#log(2, 'Launch');
    await rm(this.workdir, { recursive: true, force: true });
    await mkdir(this.workdir, { recursive: true, mode: 0o755 });
    const secretFile = join(this.workdir, '_.secret');
    if (driver.runnerWritesSecret) await writeFile(secretFile, `${randomBytes(16).toString('hex')}\n`, { mode: 0o600 });

    let listener: Server | undefined;
    let cliPort: number;
    if (driver.cliMode === 'reverse') {
      listener = createServer();
      await listenLoopback(listener);
      cliPort = portOf(listener);
    } else {
      cliPort = await freePort();
    }
    const launch: LaunchOptions = {
      name,
      workdir: this.workdir,
      pwd: process.cwd(),
      args: this.args,
      hasListenArg: this.hasListenArg,
      proto: this.proto,
      jail: this.jail,
      cliHost: '127.0.0.1',
      cliPort,
      secretFile,
    };
    this.launchOptions = launch;
    const cmd = driver.command(launch);
    this.#log(3, `CMD: ${cmd}`);
    const proc = spawn('/bin/sh', ['-c', cmd], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...ctx.env } });
    this.#proc = proc;
    this.#exit = new Promise((resolve) => proc.on('exit', (code, sig) => resolve(code ?? (sig ? -1 : null))));
    proc.on('error', (e) => this.#log(1, `spawn error: ${e.message}`));
    proc.stdin?.on('error', () => {});
    for (const stream of [proc.stdout, proc.stderr]) {
      let partial = '';
      stream?.on('data', (c: Buffer) => {
        const lines = (partial + c.toString('latin1')).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) this.#log(3, `debug|${l}`);
      });
    }
    ctx.cleanups.add(() => this.#kill());
    this.#log(3, `PID: ${proc.pid}`);
    ctx.macros.define(`${name}_pid`, String(proc.pid));
    ctx.macros.define(`${name}_name`, this.workdir);

    const timeoutMs = (ctx.settings.maxDuration * 1000) / 3;
    let sock: Socket;
    try {
      sock = listener ? await acceptOne(listener, timeoutMs, this.#exit) : await connectRetry(cliPort, timeoutMs, this.#exit);
    } catch (e) {
      return ctx.fail(name, `FAIL no CLI connection: ${(e as Error).message}`);
    } finally {
      listener?.close();
    }
    const cli = new CliClient(sock);
    this.#cli = cli;
    try {
      const banner = await cli.authenticate(() => readFile(secretFile), this.#cliTimeout);
      this.#log(3, `CLI RX  ${banner.status}`);
      this.ctx.log.dump(this.name, 4, 'CLI RX', banner.body);
      if (banner.status !== CLIS_OK) ctx.fail(name, `CLI banner not 200: ${banner.status} ${banner.body}`);
    } catch (e) {
      if (e instanceof CliError) ctx.fail(name, `FAIL CLI: ${e.message}`);
      throw e;
    }
    // A logexpect with -d 1 reads from the first record: Shellac's log is streamed from the
    // start (varnishd's is read from its head whenever a logexpect wants more).
    if (driver.log === 'admin' && testUsesLogexpect(ctx)) {
      await logFeed(this).catch((e: Error) => ctx.fail(name, `cannot read the transaction log: ${e.message}`));
    }
  }

  get #cliTimeout(): number {
    return this.ctx.settings.maxDuration * 1000;
  }

  /** Sends one CLI command; fails the test if the CLI itself fails. */
  async ask(cmd: string, timeoutMs = this.#cliTimeout): Promise<CliResponse> {
    await this.launch();
    const cli = this.#cli!;
    this.ctx.log.dump(this.name, 4, 'CLI TX', cmd);
    let r: CliResponse;
    try {
      r = await cli.ask(cmd, timeoutMs);
    } catch (e) {
      if (e instanceof CliError) this.ctx.fail(this.name, `CLI failed (${cmd.split('\n')[0]}): ${e.message}`);
      throw e;
    }
    this.#log(3, `CLI RX  ${r.status}`);
    this.ctx.log.dump(this.name, 4, 'CLI RX', r.body);
    return r;
  }

  /** Loads VCL text as the next vclN and uses it; gives the compiler's reply. */
  async loadVcl(text: string, backends: boolean): Promise<{ ok: boolean; body: string }> {
    const n = ++this.vclCount;
    const head = `vcl.inline vcl${n} << ${HEREDOC}\nvcl ${this.syntax.toFixed(1)};\n`;
    const cmd = backends ? `${head}${this.backendDecls()}\n${text}\n${HEREDOC}` : `${head}${text}\n${HEREDOC}`;
    const r = await this.ask(cmd);
    if (r.status !== CLIS_OK) return { ok: false, body: r.body };
    const u = await this.ask(`vcl.use vcl${n}`);
    return { ok: u.status === CLIS_OK, body: r.body };
  }

  /** The backend of every declared server, as varnishtest prepends them for -vcl+backend. */
  backendDecls(): string {
    let out = '';
    for (const s of this.ctx.servers.values()) {
      if (s.isUnix) out += `backend ${s.name} { .path = "${s.listen}"; }\n`;
      else out += `backend ${s.name} { .host = "${s.host}"; .port = "${s.port}"; }\n`;
    }
    return out;
  }

  async start(): Promise<void> {
    await this.launch();
    this.#log(2, 'Start');
    const r = await this.ask('start');
    if (r.status !== CLIS_OK) this.ctx.fail(this.name, `CLI start command failed: ${r.status} ${r.body}`);
    await this.waitRunning();
    for (const cmd of this.ctx.settings.driver.afterStart) {
      const x = await this.ask(cmd);
      if (x.status !== CLIS_OK) this.ctx.fail(this.name, `CLI ${cmd} command failed: ${x.status} ${x.body}`);
    }
    const la = await this.ask('debug.listen_address');
    if (la.status !== CLIS_OK) this.ctx.fail(this.name, `CLI debug.listen_address command failed: ${la.status} ${la.body}`);
    this.#defineListenMacros(la.body);
  }

  #defineListenMacros(body: string): void {
    const lines = body.split('\n').filter((l) => l.trim() !== '');
    lines.forEach((line, i) => {
      const [lname, addr, port] = line.trim().split(/\s+/);
      const uds = addr?.startsWith('/');
      const a = uds ? '0.0.0.0' : addr;
      const p = uds ? '0' : port;
      const sock = uds ? addr : `${addr}:${port}`;
      const define = (k: string, v: string) => {
        this.ctx.macros.define(k, v);
        this.#log(4, `macro def ${k}=${v}`);
      };
      if (i === 0) {
        this.#log(2, `Listen on ${a} ${p}`);
        define(`${this.name}_addr`, a);
        define(`${this.name}_port`, p);
        define(`${this.name}_sock`, sock);
      }
      define(`${this.name}_${lname}_addr`, a);
      define(`${this.name}_${lname}_port`, p);
      define(`${this.name}_${lname}_sock`, sock);
    });
  }

  async waitRunning(): Promise<void> {
    this.#log(3, 'wait-running');
    for (;;) {
      const st = await this.ask('status');
      if (st.status !== CLIS_OK) this.ctx.fail(this.name, `CLI status command failed: ${st.status} ${st.body}`);
      if (st.body === 'Child in state stopped') this.ctx.fail(this.name, `Child stopped before running: ${st.body}`);
      if (st.body === 'Child in state running') {
        const la = await this.ask('debug.listen_address');
        if (la.status !== CLIS_OK) this.ctx.fail(this.name, `CLI debug.listen_address command failed: ${la.status}`);
        if (la.body !== '') return;
      }
      await sleep(this.ctx.signal, 100);
    }
  }

  async stop(): Promise<void> {
    await this.launch();
    this.#log(2, 'Stop');
    await this.ask('stop');
    await this.waitStopped();
  }

  async waitStopped(): Promise<void> {
    this.#log(3, 'wait-stopped');
    for (;;) {
      const st = await this.ask('status');
      if (st.status !== CLIS_OK) this.ctx.fail(this.name, `CLI status command failed: ${st.status} ${st.body}`);
      if (st.body === 'Child in state stopped') return;
      await sleep(this.ctx.signal, 100);
    }
  }

  /** -wait: stop the child, check for a panic, end the manager, check its exit status. */
  async wait(): Promise<void> {
    if (!this.#cli) return;
    this.#log(2, 'Wait');
    await this.ask('backend.list');
    await this.stop();
    const p = await this.ask('panic.show');
    if (p.status !== CLIS_CANT) this.ctx.fail(this.name, 'Unexpected panic');
    await this.cleanup();
  }

  /** -cleanup: close the CLI and stdin, which ends the manager, and check its exit status. */
  async cleanup(): Promise<void> {
    this.#cli?.close();
    this.#cli = undefined;
    const proc = this.#proc;
    if (!proc) return;
    proc.stdin?.end();
    const code = await this.#waitExit(CLEANUP_MS);
    this.#proc = undefined;
    this.#log(2, `Exit status ${code}`);
    if (code !== this.expectExit) this.ctx.fail(this.name, `Bad exit status: ${code} (expected ${this.expectExit})`);
  }

  /**
   * End of the test after a failure: the same steps as -wait, each bounded, with no more
   * failures recorded, and a kill if the manager will not go.
   */
  async teardown(): Promise<void> {
    if (!this.#proc) return;
    const cli = this.#cli;
    this.#cli = undefined;
    try {
      if (cli) {
        const deadline = Date.now() + CLEANUP_MS;
        await cli.ask('stop', CLEANUP_MS);
        while (Date.now() < deadline) {
          const st = await cli.ask('status', CLEANUP_MS);
          if (st.body !== 'Child in state running' && st.body !== 'Child in state starting') break;
          await new Promise((r) => setTimeout(r, 100));
        }
      }
    } catch {
      // The CLI is gone or stuck; the kill below ends it.
    }
    cli?.close();
    this.#proc.stdin?.end();
    await this.#waitExit(CLEANUP_MS);
    this.#proc = undefined;
  }

  async #waitExit(ms: number): Promise<number | null> {
    const proc = this.#proc;
    if (!proc || !this.#exit) return null;
    const timer = (t: number) => new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), t).unref());
    const r = await Promise.race([this.#exit, timer(ms)]);
    if (r !== 'timeout') return r;
    this.#log(1, 'manager did not exit; killing it');
    this.#kill();
    // A process that never spawned has no exit to wait for.
    const k = await Promise.race([this.#exit, timer(5000)]);
    return k === 'timeout' ? null : k;
  }

  #kill(): void {
    const p = this.#proc;
    if (p && p.exitCode === null && p.signalCode === null && p.pid !== undefined) p.kill('SIGKILL');
  }

  /** The process's exit, for callers that must not hang on it. */
  get exited(): Promise<number | null> | undefined {
    return this.#exit;
  }
}

function listenLoopback(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
}

function portOf(server: Server): number {
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('no TCP address');
  return a.port;
}

/**
 * Ports freePort() gave out in this process. The kernel may hand a port it just freed to the
 * next bind: two instances of a -j run were once given the same -T, the second could not
 * listen, and the runner authenticated against the first one's CLI ("CLI authentication
 * failed", or "CLI connection closed" after it).
 */
const givenPorts = new Set<number>();

/** A loopback port free a moment ago and not given to another instance, for a -T it will bind. */
async function freePort(): Promise<number> {
  for (;;) {
    const s = createServer();
    await listenLoopback(s);
    const p = portOf(s);
    await new Promise<void>((r) => s.close(() => r()));
    if (givenPorts.has(p)) continue;
    givenPorts.add(p);
    return p;
  }
}

function acceptOne(listener: Server, timeoutMs: number, exit: Promise<number | null>): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout waiting for CLI connection')), timeoutMs);
    listener.once('connection', (s) => {
      clearTimeout(t);
      resolve(s);
    });
    void exit.then((code) => {
      clearTimeout(t);
      reject(new Error(`manager exited (status ${code}) before connecting its CLI`));
    });
  });
}

async function connectRetry(port: number, timeoutMs: number, exit: Promise<number | null>): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  let exited: number | null | undefined;
  void exit.then((c) => {
    exited = c;
  });
  for (;;) {
    if (exited !== undefined) throw new Error(`manager exited (status ${exited}) before its CLI listened`);
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = createConnection({ host: '127.0.0.1', port });
        s.once('connect', () => resolve(s));
        s.once('error', (e) => {
          s.destroy();
          reject(e);
        });
      });
    } catch (e) {
      if (Date.now() > deadline) throw new Error(`timeout connecting to the CLI: ${(e as Error).message}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

