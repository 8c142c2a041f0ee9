// The child of `shellac serve`: the process that holds the cache and serves, as varnishd's
// cache process. The manager (src/mgmt/manager.ts) forks it with the same flags and tells it,
// in SHELLAC_SERVE_CHILD, where its private admin listener's secret is, which addresses to
// listen on (the ports the first child bound, so a new child takes them back) and the MGT
// counters. The child loads the boot VCL, opens its admin listener on loopback, says `ready`
// over the IPC channel, and from then on does what the manager's commands say: replayed state,
// then `start`. Its listeners stay closed until then. It ends on SIGTERM (gracefully) or when
// the manager goes away.

import { lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { flushCompileCache } from 'node:module';
import { connect } from 'node:net';
import type { Logger } from 'pino';
import { collectDeadBuffers } from '../cache/dead-buffers.ts';
import { openLogger, reopenOnUsr1 } from '../common/log.ts';
import { Params } from '../common/params.ts';
import type { ManagerMessage } from '../mgmt/manager.ts';
import { type Ops, startOps } from '../mgmt/serve-admin.ts';
import { LOAD_COMPILED, loadCompiledCommand } from '../mgmt/vcl-load-commands.ts';
import { installLastDefence } from '../proxy/last-defence.ts';
import { type ListenAddress, Shellac } from '../proxy/server.ts';
import { parseCompiledVcl } from '../runtime/compiled-vcl.ts';
import { UsageError } from '../common/args.ts';
import type { ServeConfig } from './serve-args.ts';

/** What the manager hands a child, as JSON in SHELLAC_SERVE_CHILD. */
export interface ChildInfo {
  /** The secret of the child's own admin listener (only the manager connects). */
  readonly secretFile: string;
  /** Listen here instead of the -a flags: the addresses the first child bound. */
  readonly listen?: readonly ListenAddress[];
  /** MGT counters as the manager counts them, for counters.show and /metrics. */
  readonly mgt: Readonly<Record<string, number>>;
  /** When the manager started (ms since the epoch), for MGT.uptime. */
  readonly mgtStarted: number;
  /** The boot VCL (-b or -f) as the manager compiled it: a file of JSON in the work dir. */
  readonly bootVcl?: string;
}

/** What a child tells its manager over the IPC channel. */
export type ChildMessage = { readonly type: 'ready'; readonly adminPort: number };

/** The process log: --log-level, else SHELLAC_LOG_LEVEL, else warn; to --log-file or stderr. */
export function openServeLogger(config: ServeConfig, level?: string): ReturnType<typeof openLogger> {
  return openLogger({ level: level ?? config.logLevel ?? process.env.SHELLAC_LOG_LEVEL ?? 'warn', destination: config.logFile });
}

/** The boot VCL the flags give: -b's one backend, or the -f file. */
export function bootVclInput(config: ServeConfig): { source: string } | { file: string } | undefined {
  const b = config.backend;
  if (b) {
    const where = b.path ? `.path = "${b.path}";` : `.host = "${b.host}";\n  .port = "${b.port}";`;
    return { source: `vcl 4.1;\nbackend default {\n  ${where}\n}\n` };
  }
  return config.vclFile === undefined ? undefined : { file: config.vclFile };
}

/**
 * Builds the server from flags and loads its VCL (if any): the one `compiledBoot` names (a
 * CompiledVcl's JSON, which the manager made), else the flags' compiled here. Throws
 * UsageError, ParamError or the load error.
 */
export async function startFromConfig(
  config: ServeConfig,
  extra: { backendOverride?: { host: string; port: number }; logLevel?: string; logger?: Logger; compiledBoot?: string } = {},
): Promise<Shellac> {
  if (!config.debug && config.vclFile === undefined && config.backend === undefined) throw new UsageError('one of -b or -f is needed');
  const params = new Params(config.params);
  params.protect(config.readOnlyParams);
  const logger = extra.logger ?? openServeLogger(config, extra.logLevel).logger;
  const srv = new Shellac({
    params,
    storageBytes: config.storage.bytes,
    storageName: config.storage.name,
    storageNames: config.storageNames,
    storages: config.storages,
    vclPath: config.vclPath,
    vmodPath: config.vmodPath,
    logger,
    backendOverride: extra.backendOverride,
  });
  if (extra.compiledBoot !== undefined) {
    await srv.vcls.loadCompiled('boot', parseCompiledVcl(readFileSync(extra.compiledBoot, 'utf8')));
    return srv;
  }
  const boot = bootVclInput(config);
  if (boot !== undefined) await srv.vcls.load('boot', boot);
  return srv;
}

/** Runs the child; start-up failures exit 1 (the VCL) or 2 (anything else) with a message. */
export async function runChild(config: ServeConfig, info: ChildInfo): Promise<number> {
  // Signals are the manager's: a terminal's Ctrl-C or hangup reaches the whole process group.
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});
  // The channel to the manager does not keep us alive by itself: we end when serving ends.
  process.channel?.unref();
  let srv: Shellac;
  let reopenLog = (): void => {};
  try {
    const log = openServeLogger(config);
    reopenLog = log.reopen;
    srv = await startFromConfig(config, { logger: log.logger, compiledBoot: info.bootVcl });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
  let ops: Ops;
  try {
    ops = await startOps(srv, { admin: { host: '127.0.0.1', port: 0 }, secretFile: info.secretFile, mgtStarted: info.mgtStarted, logger: srv.logger });
  } catch (e) {
    process.stderr.write(`Error: could not open the admin or metrics listener: ${(e as Error).message}\n`);
    await srv.close(0);
    return 2;
  }
  ops.counters.add('MGT', info.mgt);
  // Only the manager talks to this admin listener: the operator's commands reach the VMODs as
  // the manager's `cli` events, with the operator's peer, and the manager's own (replay, the
  // commands it hands on) raise none.
  ops.admin.events = null;
  process.on('message', (m: unknown) => relayFromManager(srv, m));
  // From here on an error that escapes a request ends that request, not the cache.
  const defence = installLastDefence(
    {
      abortRequest: (xid) => {
        for (const cr of srv.requests.values()) {
          if (cr.task.xid !== xid) continue;
          cr.abort();
          return true;
        }
        return false;
      },
    },
    srv.logger,
  );
  ops.counters.add('MAIN', defence.counters);
  // Body Buffers the backend's reads left are collected before they pile up (dead-buffers.ts).
  const deadBuffers = collectDeadBuffers(() => {
    let slabs = 0;
    for (const st of srv.cache.stevedores) slabs += st.space?.resident ?? 0;
    return slabs;
  });

  // Serving is a state the CLI flips (start/stop), as varnishd's child is.
  // A restarted child takes back the addresses the first one bound (ports picked with :0), and
  // keeps what only -a says of each listener (PROXY, a socket's mode and owner).
  const listen = config.listen.map((a) => {
    const b = info.listen?.find((x) => x.name === a.name);
    return b === undefined ? a : { ...a, host: b.host, port: b.port };
  });
  let running = false;
  ops.admin.setLifecycle({
    state: () => (running ? 'running' : 'stopped'),
    start: async () => {
      if (srv.vcls.active === null) throw new Error('No VCL available');
      for (const a of listen) if (a.path) await removeStaleSocket(a.path);
      const bound = await srv.listen(listen);
      running = true;
      for (const a of bound) process.stdout.write(`Listening on ${a.name} ${a.path ?? (a.host.includes(':') ? `[${a.host}]` : a.host)} ${a.path ? '-' : a.port}\n`);
    },
    stop: async () => {
      running = false;
      await srv.unlisten(2000);
    },
  });
  // The manager compiles every VCL; this is how it hands one over (this process has no compiler).
  ops.admin.register(LOAD_COMPILED, loadCompiledCommand(srv));
  ops.admin.register('debug.listen_address', {
    syntax: 'debug.listen_address',
    help: 'Show where each listener is bound: name, address and port (or socket path and -).',
    min: 0,
    max: 0,
    run: () => ({ status: 200, body: srv.addresses.map((a) => (a.path ? `${a.name} ${a.path} -\n` : `${a.name} ${a.host} ${a.port}\n`)).join('') }),
  });
  const ready: ChildMessage = { type: 'ready', adminPort: ops.adminAddress.port };
  process.send?.(ready);
  // A child is ended by SIGKILL more often than it exits: the compile cache (NODE_COMPILE_CACHE,
  // set by the manager) is written now, so that the next child starts from it.
  flushCompileCache();
  if (ops.metrics) process.stdout.write(`Metrics on ${ops.metrics.host} ${ops.metrics.port}\n`);

  // SIGUSR1 from the manager (logrotate): open the log file again.
  const stopReopen = reopenOnUsr1(reopenLog);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    // The manager is gone (killed): nobody will restart or stop us, so we stop.
    process.once('disconnect', resolve);
  });
  stopReopen();
  deadBuffers.stop();
  await ops.close();
  await srv.close(config.debug ? 500 : 5000);
  defence.uninstall();
  if (process.connected) process.disconnect();
  return 0;
}

/** A message from the manager: a `cli` event goes to the VMODs that listen. */
function relayFromManager(srv: Shellac, m: unknown): void {
  const msg = m as Partial<ManagerMessage> | null;
  if (msg?.type !== 'cli' || typeof msg.payload !== 'object' || msg.payload === null) return;
  if (srv.events.listening.cli) srv.events.emit('cli', msg.payload);
}

/**
 * A Unix socket a killed child left behind would make the next one's listen fail: a socket file
 * nobody accepts on goes. One that answers stays (listen then reports it in use), and so does
 * anything that is not a socket.
 */
async function removeStaleSocket(path: string): Promise<void> {
  try {
    if (!lstatSync(path).isSocket()) return;
  } catch {
    return;
  }
  const refused = await new Promise<boolean>((resolve) => {
    const s = connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
  if (refused) unlinkSync(path);
}
