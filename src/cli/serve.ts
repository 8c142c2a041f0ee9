// `shellac serve`: varnishd's job. Flags are read and the VCL compiled before any port opens;
// a bad flag exits 2, a bad VCL exits 1 with the compiler's message. SIGTERM and SIGINT stop
// accepting, let requests in flight finish (bounded) and exit 0.

import pino from 'pino';
import { ParamError, Params } from '../mgmt/params.ts';
import { Shellac } from '../proxy/server.ts';
import { UsageError } from './args.ts';
import { parseServeArgs, SERVE_USAGE, type ServeConfig } from './serve-args.ts';

export { SERVE_USAGE };

export interface Started {
  readonly srv: Shellac;
  readonly config: ServeConfig;
}

/** Builds the server from flags and loads its VCL; throws UsageError, ParamError or the load error. */
export async function startFromConfig(config: ServeConfig, extra: { backendOverride?: { host: string; port: number }; logLevel?: string } = {}): Promise<Shellac> {
  if (config.vclFile === undefined && config.backend === undefined) throw new UsageError('one of -b or -f is needed');
  const params = new Params(config.params);
  const logger = pino({ level: extra.logLevel ?? process.env.SHELLAC_LOG_LEVEL ?? 'warn' }, pino.destination(2));
  const srv = new Shellac({
    params,
    storageBytes: config.storage.bytes,
    storageName: config.storage.name,
    vclPath: config.vclPath,
    vmodPath: config.vmodPath,
    logger,
    backendOverride: extra.backendOverride,
  });
  const b = config.backend;
  const input = b ? { source: `vcl 4.1;\nbackend default {\n  .host = "${b.host}";\n  .port = "${b.port}";\n}\n` } : { file: config.vclFile! };
  await srv.vcls.load('boot', input);
  return srv;
}

export async function runServe(argv: readonly string[]): Promise<number> {
  const config = parseServeArgs(argv);
  let srv: Shellac;
  try {
    srv = await startFromConfig(config);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    if (e instanceof ParamError) {
      process.stderr.write(`Error: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
  let bound: Awaited<ReturnType<Shellac['listen']>>;
  try {
    bound = await srv.listen(config.listen);
  } catch (e) {
    process.stderr.write(`Error: could not listen: ${(e as Error).message}\n`);
    await srv.close(0);
    return 2;
  }
  for (const a of bound) process.stdout.write(`Listening on ${a.name} ${a.host.includes(':') ? `[${a.host}]` : a.host} ${a.port}\n`);
  await untilSignal();
  await srv.close(5000);
  return 0;
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
