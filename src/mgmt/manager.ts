// The manager of `shellac serve`, as varnishd's management process: a small process that holds
// the admin CLI (-T) and what a cache process needs, and runs the cache in a child it restarts
// when the child dies (out of memory, a bug, a kill). The child is forked with the same flags
// (src/cli/serve-child.ts); it opens a private admin listener on loopback (its secret in the
// work dir as `_.child_secret.<manager pid>`), and the manager hands it every command it does
// not answer itself, over one authenticated connection.
//
// What the manager answers: auth, help, ping, quit, banner, status, start, stop, pid,
// panic.show and panic.clear; every command its admin listener receives becomes a `cli` event
// in the child (ManagerMessage), refused ones and failed authentications included. What it
// remembers: every command that changed the child's state (manager-replay.ts), replayed into
// the next child before `start`; the addresses the first child bound, so a new one takes the
// same ports back; and how the last child ended.
//
// Counters (MGT): child_start, and how children ended: child_exit (status 0 while it should
// have served), child_stop (an error status: a crash, node's out-of-memory abort is a signal),
// child_died (killed by a signal). A child that dies within a second of its start is started
// again after a growing pause (up to 10 s), so a child that cannot live does not spin.

import { type ChildProcess, fork } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type AdminServer, CLIS, type CliEventSink, type CliReply, type CommandContext, fail, jsonReply, ok } from './admin.ts';
import { writeRandomSecret } from './admin-auth.ts';
import { AdminClient } from './admin-client.ts';
import { ReplayLog } from './manager-replay.ts';

/** A listener the child bound, as `debug.listen_address` tells it. */
export interface BoundListener {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly path?: string;
}

export interface ManagerOptions {
  /** The module that runs `shellac serve` (src/cli/main.ts) and the arguments for a child. */
  readonly childModule: string;
  readonly childArgs: readonly string[];
  /** Node/V8 flags for the child besides the manager's own (the cache's heap flags). */
  readonly childExecArgv?: readonly string[];
  /** Environment for the child besides the manager's own, which wins (the cache's malloc setting). */
  readonly childEnv?: Readonly<Record<string, string>>;
  /** Where the child's admin secret (and the compiled boot VCL) is written. */
  readonly workdir: string;
  /**
   * The boot VCL (-b or -f) compiled here, as JSON: written to the work dir, where every child
   * loads it at its start (a restarted child gets the same VCL, not the file as it is now).
   */
  readonly bootVcl?: string;
  readonly logger: Logger;
  /** How long a forwarded command waits for a child being (re)started. */
  readonly waitChildMs?: number;
}

/**
 * What the manager tells a child over the IPC channel: a `cli` event of a command the manager's
 * admin listener received (answered by the manager, refused before auth, or handed on), for the
 * child's VMODs. The child's own admin listener, which only the manager uses, raises none.
 */
export type ManagerMessage = { readonly type: 'cli'; readonly payload: Readonly<Record<string, unknown>> };

/** MGT counters, as the manager counts them (the child reports them: ChildInfo.mgt). */
export interface MgtCounters {
  child_start: number;
  child_exit: number;
  child_stop: number;
  child_died: number;
}

interface Child {
  readonly proc: ChildProcess;
  readonly startedAt: number;
  /** Set once the child said ready and took the replayed state. */
  client: AdminClient | null;
  adminPort: number;
}

/** How much of a dead child's stderr panic.show keeps. */
const STDERR_TAIL = 4096;
const MAX_BACKOFF_MS = 10_000;

export class Manager {
  readonly counters: MgtCounters = { child_start: 0, child_exit: 0, child_stop: 0, child_died: 0 };
  readonly replay = new ReplayLog();
  readonly #opts: ManagerOptions;
  readonly #secretFile: string;
  readonly #bootFile: string | undefined;
  #child: Child | null = null;
  /** Waiters for the next child to be ready (or for the manager to give up). */
  #waiters: ((c: Child | null) => void)[] = [];
  /** The operator wants the listeners open (start), or not (stop, -d). */
  wantRunning = false;
  #listen: readonly BoundListener[] | undefined;
  #panic: string | null = null;
  #stderrTail = '';
  #backoffMs = 0;
  #stopping = false;
  #restartTimer: NodeJS.Timeout | undefined;
  readonly #startedAt = Date.now();

  /**
   * The `cli` events of the manager's admin server: sent to the child, which hands them to its
   * VMODs when one listens. A command costs one IPC message; while no child runs, it is lost.
   */
  readonly cliEvents: CliEventSink = {
    listening: { cli: true },
    emit: (_name, payload) => {
      const proc = this.#child?.proc;
      if (proc?.connected !== true) return;
      const message: ManagerMessage = { type: 'cli', payload };
      proc.send(message, (e: Error | null) => {
        if (e) this.#opts.logger.debug({ err: e }, 'cli event not sent to the child');
      });
    },
  };

  constructor(opts: ManagerOptions) {
    this.#opts = opts;
    // One per manager: several instances may share a work dir (the default one).
    this.#secretFile = writeRandomSecret(opts.workdir, `_.child_secret.${process.pid}`);
    if (opts.bootVcl !== undefined) {
      this.#bootFile = join(opts.workdir, `_.vcl_boot.${process.pid}.json`);
      writeFileSync(this.#bootFile, opts.bootVcl, { mode: 0o600 });
    }
  }

  /** Passes a signal on to the running child (SIGUSR1 for logrotate); false without one. */
  signalChild(signal: NodeJS.Signals): boolean {
    return this.#child?.proc.kill(signal) ?? false;
  }

  get childPid(): number | undefined {
    return this.#child?.proc.pid;
  }

  /**
   * Starts the first child and waits until it is ready; resolves with its exit status when it
   * ends before that (a VCL that does not compile: 1), else null.
   */
  async startFirst(): Promise<number | null> {
    const outcome = await this.#spawn();
    if (typeof outcome !== 'number') return null;
    this.#removeFiles();
    return outcome;
  }

  /** Hands a command to the child and returns its answer; records what a new child must replay. */
  async forward(argv: readonly string[]): Promise<CliReply> {
    const child = await this.#ready();
    if (child?.client == null) return fail(CLIS.CANT, 'Child is not running\n');
    let reply: CliReply;
    try {
      reply = await child.client.command(argv);
    } catch (e) {
      return fail(CLIS.COMMS, `Child did not answer: ${(e as Error).message}\n`);
    }
    if (reply.status === CLIS.OK && ReplayLog.records(argv[0])) this.replay.record(argv);
    return reply;
  }

  /** log.stream: a connection of its own to the child, whose frames are passed on. */
  async forwardStream(argv: readonly string[], ctx: CommandContext): Promise<CliReply> {
    const child = await this.#ready();
    if (child === null) return fail(CLIS.CANT, 'Child is not running\n');
    let client: AdminClient;
    try {
      client = await AdminClient.connect({ host: '127.0.0.1', port: child.adminPort, secretFile: this.#secretFile, timeoutMs: 10_000 });
    } catch (e) {
      return fail(CLIS.COMMS, `Child did not answer: ${(e as Error).message}\n`);
    }
    const reply = await client.command(argv).catch((e: Error) => fail(CLIS.COMMS, `${e.message}\n`));
    if (reply.status !== CLIS.OK) {
      client.close();
      return reply;
    }
    ctx.stream((sink) => {
      (async () => {
        for await (const f of client.frames()) sink.send(f.status, f.body);
      })()
        .catch(() => {})
        .finally(() => sink.close());
      return () => client.close();
    });
    return reply;
  }

  /** `start`: open the child's listeners, and those of every child after it. */
  async start(): Promise<void> {
    const r = await this.forward(['start']);
    if (r.status !== CLIS.OK) throw new Error(r.body.trim() || `start failed (${r.status})`);
    this.wantRunning = true;
    await this.#learnListeners();
  }

  async stop(): Promise<void> {
    const r = await this.forward(['stop']);
    if (r.status !== CLIS.OK) throw new Error(r.body.trim() || `stop failed (${r.status})`);
    this.wantRunning = false;
  }

  panicShow(): CliReply {
    return this.#panic === null ? fail(CLIS.CANT, 'Child has not panicked or panic has been cleared\n') : ok(this.#panic);
  }

  panicClear(): CliReply {
    if (this.#panic === null) return fail(CLIS.CANT, 'No panic to clear\n');
    this.#panic = null;
    return ok();
  }

  /** Stops the child (SIGTERM: it finishes the requests in flight) and starts no other. */
  async shutdown(graceMs: number): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    this.#wake(null);
    this.#removeFiles();
    const child = this.#child;
    if (child === null || child.proc.exitCode !== null || child.proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.proc.once('exit', () => r()));
    child.proc.kill('SIGTERM');
    const timer = setTimeout(() => child.proc.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
    child.client?.close();
  }

  #removeFiles(): void {
    rmSync(this.#secretFile, { force: true });
    if (this.#bootFile !== undefined) rmSync(this.#bootFile, { force: true });
  }

  /** Forks a child and brings it up to the state it must have; resolves with the child, or its exit status. */
  #spawn(): Promise<Child | number> {
    this.counters.child_start++;
    const info = { secretFile: this.#secretFile, listen: this.#listen, mgt: { ...this.counters }, mgtStarted: this.#startedAt, bootVcl: this.#bootFile };
    const proc = fork(this.#opts.childModule, [...this.#opts.childArgs], {
      execArgv: [...process.execArgv, ...(this.#opts.childExecArgv ?? [])],
      // Node's compile cache in the work dir: a restarted child skips most of its start-up
      // (measured on a loaded machine: 2.7 s without, 0.6-1.0 s with).
      env: {
        NODE_COMPILE_CACHE: join(this.#opts.workdir, '_.compile_cache'),
        ...this.#opts.childEnv,
        ...process.env,
        SHELLAC_SERVE_CHILD: JSON.stringify(info),
      },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    const child: Child = { proc, startedAt: Date.now(), client: null, adminPort: 0 };
    this.#child = child;
    this.#stderrTail = '';
    proc.stderr?.on('data', (b: Buffer) => {
      process.stderr.write(b);
      this.#stderrTail = (this.#stderrTail + b.toString('utf8')).slice(-STDERR_TAIL);
    });
    return new Promise((resolve) => {
      let settled = false;
      proc.on('message', (m: { type?: string; adminPort?: number }) => {
        if (settled || m?.type !== 'ready' || typeof m.adminPort !== 'number') return;
        child.adminPort = m.adminPort;
        this.#bringUp(child).then(
          () => {
            settled = true;
            resolve(child);
          },
          (e: Error) => {
            this.#opts.logger.error({ err: e, pid: proc.pid }, 'child did not come up; stopping it');
            proc.kill('SIGKILL');
          },
        );
      });
      proc.once('exit', (code, signal) => {
        child.client?.close();
        if (this.#child === child) this.#child = null;
        if (!settled) {
          settled = true;
          resolve(code ?? 1);
        }
        this.#ended(child, code, signal);
      });
    });
  }

  /** Connects to a new child, replays the state, opens its listeners if they should be. */
  async #bringUp(child: Child): Promise<void> {
    const client = await AdminClient.connect({ host: '127.0.0.1', port: child.adminPort, secretFile: this.#secretFile, timeoutMs: 60_000 });
    // In replay order, then again what failed while that makes progress: a VCL whose
    // `return (vcl(label))` names a label loads only once the label exists, and labels replay
    // after the loads of their targets.
    let pending = this.replay.forChild();
    let refused: { argv: readonly string[]; reply: CliReply }[] = [];
    while (pending.length > 0) {
      refused = [];
      for (const argv of pending) {
        const reply = await client.command(argv);
        if (reply.status !== CLIS.OK) refused.push({ argv, reply });
      }
      if (refused.length === pending.length) break;
      pending = refused.map((f) => f.argv);
    }
    for (const { argv, reply } of refused) {
      this.#opts.logger.warn({ command: argv[0], status: reply.status }, `replaying into the new child: ${argv.slice(0, 2).join(' ')}: ${reply.body.trim()}`);
    }
    if (this.wantRunning) {
      const r = await client.command(['start']);
      if (r.status !== CLIS.OK) this.#opts.logger.error({ status: r.status }, `the new child could not listen: ${r.body.trim()}`);
    }
    child.client = client;
    this.#wake(child);
  }

  /** A child ended: count it, keep how, and start the next one unless we are stopping. */
  #ended(child: Child, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#stopping) return;
    const how = signal !== null ? `killed by signal ${signal}` : `exited with status ${code}`;
    if (signal !== null) this.counters.child_died++;
    else if (code === 0) this.counters.child_exit++;
    else this.counters.child_stop++;
    if (child.client === null && this.counters.child_start === 1) return; // the first start failed: the caller reports it
    const when = new Date().toISOString();
    this.#panic = `Child (${child.proc.pid}) ${how} at ${when}, after ${((Date.now() - child.startedAt) / 1000).toFixed(1)} s\n${this.#stderrTail ? `Last output:\n${this.#stderrTail}\n` : ''}`;
    const lived = Date.now() - child.startedAt;
    this.#backoffMs = lived < 1000 ? Math.min(MAX_BACKOFF_MS, Math.max(250, this.#backoffMs * 2)) : 0;
    this.#opts.logger.error({ pid: child.proc.pid, code, signal }, `child ${how}; starting a new one${this.#backoffMs ? ` in ${this.#backoffMs} ms` : ''}`);
    this.#restartTimer = setTimeout(() => {
      if (!this.#stopping) void this.#spawn();
    }, this.#backoffMs);
  }

  /** The child when it is ready; waits (bounded) while one is being started. */
  #ready(): Promise<Child | null> {
    const c = this.#child;
    if (c?.client != null) return Promise.resolve(c);
    if (this.#stopping) return Promise.resolve(null);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        resolve(null);
      }, this.#opts.waitChildMs ?? 10_000);
      const waiter = (child: Child | null): void => {
        clearTimeout(timer);
        resolve(child);
      };
      this.#waiters.push(waiter);
    });
  }

  #wake(child: Child | null): void {
    const ws = this.#waiters;
    this.#waiters = [];
    for (const w of ws) w(child);
  }

  /** Notes the addresses the child bound (ports picked with :0 included), for the next child. */
  async #learnListeners(): Promise<void> {
    const r = await this.forward(['debug.listen_address']);
    if (r.status !== CLIS.OK) return;
    const out: BoundListener[] = [];
    for (const line of r.body.split('\n')) {
      const [name, where, port] = line.split(' ');
      if (name === undefined || where === undefined || port === undefined) continue;
      out.push(port === '-' ? { name, host: '', port: 0, path: where } : { name, host: where, port: Number(port) });
    }
    if (out.length > 0) this.#listen = out;
  }
}

/**
 * Registers the manager's own commands on its admin server and sends the rest to the child:
 * parameters live in the child (the manager replays them), as do VCLs, bans and counters.
 */
export function registerManagerCommands(admin: AdminServer, mgr: Manager): void {
  for (const name of ['param.show', 'param.set', 'param.reset', 'pid', 'help']) admin.unregister(name);
  admin.events = mgr.cliEvents;
  admin.setFallback((argv, ctx) => (argv[0] === 'log.stream' ? mgr.forwardStream(argv, ctx) : mgr.forward(argv)));
  admin.setLifecycle({ state: () => (mgr.wantRunning ? 'running' : 'stopped'), start: () => mgr.start(), stop: () => mgr.stop() });
  admin.register('pid', {
    syntax: 'pid [-j]',
    help: 'Show the process ids of the manager (master) and of the child that serves (worker).',
    min: 0,
    max: 0,
    json: true,
    run: (_a, ctx) => {
      const worker = mgr.childPid ?? 0;
      return ctx.json ? jsonReply(ctx.argv, { master: process.pid, worker }) : ok(`Master: ${process.pid}\nWorker: ${worker}\n`);
    },
  });
  admin.register('panic.show', {
    syntax: 'panic.show',
    help: 'Show how the last child ended, when it ended other than asked to, with its last output.',
    min: 0,
    max: 0,
    run: () => mgr.panicShow(),
  });
  admin.register('panic.clear', {
    syntax: 'panic.clear',
    help: 'Forget the last child panic.',
    min: 0,
    max: 0,
    run: () => mgr.panicClear(),
  });
  admin.register('help', {
    syntax: 'help [-j|<command>]',
    help: 'List the commands, or show how to use one.',
    min: 0,
    max: 1,
    preAuth: true,
    run: async (args, ctx) => {
      const own = admin.command(args[0] ?? '');
      if (own !== undefined) return ok(`${own.syntax}\n${own.help}\n`);
      if (args[0] === '-j') return helpJson(admin, mgr, ctx);
      if (args.length === 1 && ctx.authed) return mgr.forward(['help', ...args]);
      if (args.length === 1) return fail(CLIS.UNKNOWN, "Unknown request.\nType 'help' for more info.\n");
      // The child's list and ours, one line per command, by name.
      const lines = new Map<string, string>();
      if (ctx.authed) {
        const child = await mgr.forward(['help']);
        if (child.status === CLIS.OK) for (const l of child.body.split('\n')) if (l !== '') lines.set(l.split(' ')[0], l);
      }
      for (const name of admin.commandNames()) if (!admin.command(name)!.hidden) lines.set(name, admin.command(name)!.syntax);
      return ok(`${[...lines.keys()].sort().map((n) => lines.get(n)).join('\n')}\n`);
    },
  });
}

/** help -j: the child's entries (when authenticated) and the manager's own, by name. */
async function helpJson(admin: AdminServer, mgr: Manager, ctx: CommandContext): Promise<CliReply> {
  const items = new Map<string, unknown>();
  if (ctx.authed) {
    const child = await mgr.forward(['help', '-j']);
    if (child.status === CLIS.OK) {
      const parsed = JSON.parse(child.body) as unknown[];
      for (const it of parsed.slice(3)) items.set(String((it as { request?: unknown }).request), it);
    }
  }
  for (const name of admin.commandNames()) {
    const c = admin.command(name)!;
    items.set(name, { request: name, syntax: c.syntax, help: c.help, minarg: c.min, maxarg: c.max, flags: c.preAuth ? 'i' : '', json: c.json === true });
  }
  return jsonReply(ctx.argv, ...[...items.keys()].sort().map((k) => items.get(k)));
}
