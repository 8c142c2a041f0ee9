// `shellac serve`: varnishd's job, in two processes as varnishd's. This process is the manager
// (src/mgmt/manager.ts): it checks the flags, forks the child that holds the cache and serves
// (serve-child.ts, the same command with SHELLAC_SERVE_CHILD set), holds the admin CLI, and
// starts a new child when one dies. It compiles every VCL, the boot one first, and hands the
// child the result (src/mgmt/vcl-compile-commands.ts): the child loads no compiler. A bad flag
// exits 2 and a VCL that does not compile exits 1 (so does a boot VCL the child cannot load:
// its vcl_init fails), both before any port opens. Signals
// reach the manager: SIGTERM and SIGINT stop the child (requests in flight finish, bounded)
// and exit 0; SIGHUP reloads the -f file through the child's CLI.

import { enableCompileCache, flushCompileCache } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type pino from 'pino';
import type { CliReply } from '../mgmt/cli-protocol.ts';
import { childEnv, childHeapFlags } from '../cache/heap-flags.ts';
import { childCodeDir, prepareChildCode } from '../mgmt/child-code.ts';
import type { Manager } from '../mgmt/manager.ts';
import type { Params } from '../common/params.ts';
import { UsageError } from '../common/args.ts';
import { parseServeArgs, SERVE_USAGE, type ServeConfig } from './serve-args.ts';

export { SERVE_USAGE };

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

export async function runServe(argv: readonly string[]): Promise<number> {
  const config = parseServeArgs(argv);
  const childInfo = process.env.SHELLAC_SERVE_CHILD;
  if (childInfo !== undefined) {
    const child = await import('./serve-child.ts');
    return child.runChild(config, JSON.parse(childInfo));
  }
  return runManager(config, argv);
}

async function runManager(config: ServeConfig, argv: readonly string[]): Promise<number> {
  if (!config.debug && config.vclFile === undefined && config.backend === undefined) throw new UsageError('one of -b or -f is needed');
  // The manager loads the child's modules too (serve-child.ts imports the server): loaded
  // through the compile cache the child reads (NODE_COMPILE_CACHE, manager.ts), they leave it
  // warm, and even a first child in a fresh work dir starts without stripping their types
  // again (Node's TypeScript stripper keeps about 25 MB once it has run: docs/storage.md).
  enableCompileCache(join(config.workdir, '_.compile_cache'));
  const [
    { AdminServer },
    { registerBuiltins },
    { reopenOnUsr1 },
    { Manager, registerManagerCommands },
    { ParamError, Params },
    { openServeLogger, bootVclInput },
    { compileVcl },
    { VclLoadError },
    { managerVclLoader, registerVclCompile },
    { loadReply },
  ] = await Promise.all([
    import('../mgmt/admin.ts'),
    import('../mgmt/admin-builtins.ts'),
    import('../common/log.ts'),
    import('../mgmt/manager.ts'),
    import('../common/params.ts'),
    import('./serve-child.ts'),
    import('../runtime/compile-vcl.ts'),
    import('../runtime/compiled-vcl.ts'),
    import('../mgmt/vcl-compile-commands.ts'),
    import('../mgmt/vcl-load-commands.ts'),
  ]);
  // Written now: the cache is otherwise written when this process exits.
  flushCompileCache();
  let params: Params;
  try {
    params = new Params(config.params);
    params.protect(config.readOnlyParams);
  } catch (e) {
    if (!(e instanceof ParamError)) throw e;
    process.stderr.write(`Error: ${e.message}\n`);
    return 2;
  }
  let log: ReturnType<typeof openServeLogger>;
  try {
    log = openServeLogger(config);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { logger, reopen: reopenLog } = log;
  const compileSettings = { vclPath: config.vclPath, vmodPath: config.vmodPath, storages: config.storageNames };
  const boot = bootVclInput(config);
  let bootVcl: string | undefined;
  if (boot !== undefined) {
    try {
      bootVcl = JSON.stringify(await compileVcl({ name: 'boot', ...boot, ...compileSettings }));
    } catch (e) {
      if (!(e instanceof VclLoadError)) throw e;
      process.stderr.write(`${e.message}\n`);
      return 1;
    }
  }
  // The cache's heap flags and malloc setting (src/cache/heap-flags.ts), unless given their own,
  // and its code stripped of types here (src/mgmt/child-code.ts: the child loads no stripper).
  const code = prepareChildCode(childCodeDir(config.workdir));
  const childExecArgv = [...childHeapFlags([...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]), ...(code?.execArgv ?? [])];
  const env = { ...childEnv(process.env), ...code?.env };
  const mgr = new Manager({ childModule: MAIN, childArgs: ['serve', ...argv], childExecArgv, childEnv: env, workdir: config.workdir, logger, bootVcl });
  const failed = await mgr.startFirst();
  if (failed !== null) return failed;

  const admin = new AdminServer({ params, logger, secretFile: config.secretFile, workdir: config.workdir });
  registerBuiltins(admin);
  registerManagerCommands(admin, mgr);
  const loadVcl = managerVclLoader(mgr, compileSettings);
  registerVclCompile(admin, loadVcl);
  let adminAddress: { host: string; port: number };
  try {
    adminAddress = await admin.listen(config.admin?.host || '127.0.0.1', config.admin?.port ?? 0);
  } catch (e) {
    process.stderr.write(`Error: could not open the admin listener: ${(e as Error).message}\n`);
    await mgr.shutdown(0);
    return 2;
  }
  process.stdout.write(`Admin on ${adminAddress.host} ${adminAddress.port}\n`);

  if (!config.debug) {
    try {
      await mgr.start();
    } catch (e) {
      process.stderr.write(`Error: could not listen: ${(e as Error).message}\n`);
      await admin.close();
      await mgr.shutdown(0);
      return 2;
    }
  }
  const stopReload = config.vclFile === undefined ? () => {} : reloadOnHup(mgr, (name, file) => loadReply(() => loadVcl(name, { file }, 'auto')), config.vclFile, logger);
  // SIGUSR1 (logrotate): both processes open their log file again.
  const stopReopen = reopenOnUsr1(() => {
    reopenLog();
    mgr.signalChild('SIGUSR1');
  });
  // -d: the controlling process (varnishtest) ends us by closing our stdin.
  await (config.debug ? Promise.race([untilSignal(), untilStdinEnds()]) : untilSignal());
  stopReload();
  stopReopen();
  if (config.debug) process.stdin.destroy();
  await admin.close();
  await mgr.shutdown(config.debug ? 2000 : 10_000);
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
 * replaces (which finishes its requests in flight first), all as the admin commands do, so that
 * the manager replays it into a later child. A VCL that does not compile is reported and
 * changes nothing.
 */
function reloadOnHup(mgr: Manager, load: (name: string, file: string) => Promise<CliReply>, file: string, logger: pino.Logger): () => void {
  let n = 0;
  const reload = async (): Promise<void> => {
    const old = mgr.replay.lastUsed() ?? 'boot';
    const name = `reload_${Date.now()}_${++n}`;
    const loaded = await load(name, file);
    if (loaded.status !== 200) {
      logger.error({ file }, `SIGHUP: ${file} was not loaded:\n${loaded.body}`);
      return;
    }
    const used = await mgr.forward(['vcl.use', name]);
    if (used.status !== 200) {
      logger.error({ vcl: name }, `SIGHUP: ${name} could not be made active: ${used.body}`);
      return;
    }
    logger.warn({ vcl: name }, `SIGHUP: loaded ${file} as ${name} and made it active`);
    // Requests in flight on the old VCL finish on it; it goes after the last one.
    const discarded = await mgr.forward(['vcl.discard', old]);
    if (discarded.status !== 200) logger.warn({ vcl: old }, `SIGHUP: kept ${old}: ${discarded.body.trim()}`);
  };
  const onHup = (): void => {
    reload().catch((e: Error) => logger.error({ err: e }, 'SIGHUP: reload failed'));
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
