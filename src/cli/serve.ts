// `shellac serve`: varnishd's job. Flags are read and the VCL compiled before any port opens;
// a bad flag exits 2, a bad VCL exits 1 with the compiler's message. SIGTERM and SIGINT stop
// accepting, let requests in flight finish (bounded) and exit 0.

import type { Logger } from 'pino';
import { openLogger, reopenOnUsr1 } from '../mgmt/log.ts';
import { ParamError, Params } from '../mgmt/params.ts';
import { type Ops, startOps } from '../mgmt/serve-admin.ts';
import { Shellac } from '../proxy/server.ts';
import { UsageError } from './args.ts';
import { parseServeArgs, SERVE_USAGE, type ServeConfig } from './serve-args.ts';

export { SERVE_USAGE };

export interface Started {
  readonly srv: Shellac;
  readonly config: ServeConfig;
}

/** Builds the server from flags and loads its VCL (if any); throws UsageError, ParamError or the load error. */
export async function startFromConfig(
  config: ServeConfig,
  extra: { backendOverride?: { host: string; port: number }; logLevel?: string; logger?: Logger } = {},
): Promise<Shellac> {
  if (!config.debug && config.vclFile === undefined && config.backend === undefined) throw new UsageError('one of -b or -f is needed');
  const params = new Params(config.params);
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
  const b = config.backend;
  if (b) {
    const where = b.path ? `.path = "${b.path}";` : `.host = "${b.host}";\n  .port = "${b.port}";`;
    await srv.vcls.load('boot', { source: `vcl 4.1;\nbackend default {\n  ${where}\n}\n` });
  } else if (config.vclFile !== undefined) {
    await srv.vcls.load('boot', { file: config.vclFile });
  }
  return srv;
}

/** The process log: --log-level, else SHELLAC_LOG_LEVEL, else warn; to --log-file or stderr. */
function openServeLogger(config: ServeConfig, level?: string): ReturnType<typeof openLogger> {
  return openLogger({ level: level ?? config.logLevel ?? process.env.SHELLAC_LOG_LEVEL ?? 'warn', destination: config.logFile });
}

export async function runServe(argv: readonly string[]): Promise<number> {
  const config = parseServeArgs(argv);
  let srv: Shellac;
  let reopenLog = (): void => {};
  try {
    const log = openServeLogger(config);
    reopenLog = log.reopen;
    srv = await startFromConfig(config, { logger: log.logger });
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (e instanceof ParamError) {
      process.stderr.write(`Error: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  let ops: Ops;
  try {
    ops = await startOps(srv, { admin: config.admin, secretFile: config.secretFile, workdir: config.workdir, logger: srv.logger });
  } catch (e) {
    process.stderr.write(`Error: could not open the admin or metrics listener: ${(e as Error).message}\n`);
    await srv.close(0);
    return 2;
  }
  process.stdout.write(`Admin on ${ops.adminAddress.host} ${ops.adminAddress.port}\n`);
  if (ops.metrics) process.stdout.write(`Metrics on ${ops.metrics.host} ${ops.metrics.port}\n`);

  // Serving is a state the CLI can flip (start/stop), as varnishd's child is.
  let running = false;
  const start = async (): Promise<void> => {
    if (srv.vcls.active === null) throw new Error('No VCL available');
    const bound = await srv.listen(config.listen);
    running = true;
    for (const a of bound) process.stdout.write(`Listening on ${a.name} ${a.path ?? (a.host.includes(':') ? `[${a.host}]` : a.host)} ${a.path ? '-' : a.port}\n`);
  };
  const stop = async (): Promise<void> => {
    running = false;
    await srv.unlisten(2000);
  };
  ops.admin.setLifecycle({ state: () => (running ? 'running' : 'stopped'), start, stop });
  ops.admin.register('debug.listen_address', {
    syntax: 'debug.listen_address',
    help: 'Show where each listener is bound: name, address and port (or socket path and -).',
    min: 0,
    max: 0,
    run: () => ({ status: 200, body: srv.addresses.map((a) => (a.path ? `${a.name} ${a.path} -\n` : `${a.name} ${a.host} ${a.port}\n`)).join('') }),
  });
  ops.admin.register('panic.show', {
    syntax: 'panic.show [-j]',
    help: 'Show the last panic: Shellac does not panic, so there is none.',
    min: 0,
    max: 0,
    run: () => ({ status: 300, body: 'Child has not panicked or panic has been cleared' }),
  });

  if (!config.debug) {
    try {
      await start();
    } catch (e) {
      process.stderr.write(`Error: could not listen: ${(e as Error).message}\n`);
      await ops.close();
      await srv.close(0);
      return 2;
    }
  }
  const stopReload = config.vclFile === undefined ? () => {} : reloadOnHup(srv, config.vclFile);
  const stopReopen = reopenOnUsr1(reopenLog);
  // -d: the controlling process (varnishtest) ends us by closing our stdin.
  await (config.debug ? Promise.race([untilSignal(), untilStdinEnds()]) : untilSignal());
  stopReload();
  stopReopen();
  await ops.close();
  await srv.close(config.debug ? 500 : 5000);
  return 0;
}

function untilStdinEnds(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.on('end', resolve);
    process.stdin.on('close', resolve);
    process.stdin.on('error', () => resolve());
    process.stdin.resume();
  });
}

/**
 * SIGHUP: compile the -f file again, load it under a new name, use it, and discard the VCL it
 * replaces (which finishes its requests in flight first). A VCL that does not compile is
 * reported and changes nothing.
 */
function reloadOnHup(srv: Shellac, file: string): () => void {
  let n = 0;
  const onHup = (): void => {
    const old = srv.vcls.activeName;
    const name = `reload_${Date.now()}_${++n}`;
    srv.vcls
      .load(name, { file })
      .then(() => {
        srv.vcls.use(name);
        srv.logger.warn({ vcl: name }, `SIGHUP: loaded ${file} as ${name} and made it active`);
        try {
          // Requests in flight on the old VCL finish on it; it goes after the last one.
          if (old !== null) srv.vcls.discard(old);
        } catch (e) {
          srv.logger.warn({ vcl: old }, `SIGHUP: kept ${old}: ${(e as Error).message}`);
        }
      })
      .catch((e: Error) => srv.logger.error({ file }, `SIGHUP: ${file} was not loaded:\n${e.message}`));
  };
  process.on('SIGHUP', onHup);
  return () => process.off('SIGHUP', onHup);
}

/** Resolves on the first SIGTERM or SIGINT. */
export function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGTERM', done);
      process.off('SIGINT', done);
      resolve();
    };
    process.on('SIGTERM', done);
    process.on('SIGINT', done);
  });
}
