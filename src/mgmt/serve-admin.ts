// The operations side of a running server: the admin listener (-T, -S) with the built-in and
// server commands, the counter registry fed by each part's own counter objects, and the
// transaction log hub, and the /metrics listener when metrics_listen is set. `shellac serve`
// starts it beside the proxy.

import type { Logger } from 'pino';
import { NoneBackend } from '../proxy/backend/backend.ts';
import type { Shellac } from '../proxy/server.ts';
import { AdminServer } from './admin.ts';
import { COUNTER_TABLE, type StorageCounterName, type StorageCounterSource } from './counter-table.ts';
import { registerBuiltins } from './admin-builtins.ts';
import { CounterRegistry } from './counters.ts';
import { LatencyMetrics } from '../proxy/latency.ts';
import { LogHub } from '../common/log.ts';
import type { MetricsServer } from './metrics-http.ts';
import { stateFamilies } from './metrics-state.ts';
import { registerServerCommands, trackBackends } from './server-commands.ts';
import { attachVmodPlatform } from './vmod-admin.ts';

export interface OpsOptions {
  readonly admin?: { readonly host: string; readonly port: number };
  readonly secretFile?: string;
  /** Where the admin address is written for `shellac adm -n` (and a secret when none is given). */
  readonly workdir?: string;
  readonly logger: Logger;
  /** When the manager started (ms): MGT.uptime counts from there. */
  readonly mgtStarted?: number;
}

export interface Ops {
  readonly admin: AdminServer;
  readonly counters: CounterRegistry;
  readonly logHub: LogHub;
  /** Where the admin listener ended up. */
  readonly adminAddress: { host: string; port: number };
  /** The /metrics listener, when metrics_listen is set. */
  readonly metrics: MetricsServer | null;
  close(): Promise<void>;
}

export async function startOps(srv: Shellac, opts: OpsOptions): Promise<Ops> {
  const counters = new CounterRegistry({ mgtStarted: opts.mgtStarted });
  counters.add('MAIN', srv.counters);
  counters.add('MAIN', srv.cache.counters);
  counters.add('MAIN', srv.backendCounters);
  // n_backend: every backend of every loaded VCL (cold ones too, and those VMODs made), as
  // Varnish counts them until their VCL is discarded.
  const vcls = srv.vcls;
  counters.add('MAIN', {
    get n_backend() {
      let n = 0;
      // A `none` backend is no backend to Varnish: not counted.
      for (const e of [...vcls.entries(), ...vcls.retiring()]) {
        if (e.target === null) for (const b of e.vcl.allBackends()) if (!(b instanceof NoneBackend)) n++;
      }
      return n;
    },
    // VCLs by name (labels are not VCLs), those warm, and those discarded but still busy.
    get n_vcl() {
      return vcls.entries().filter((e) => e.target === null).length + vcls.retiring().length;
    },
    get n_vcl_avail() {
      return vcls.entries().filter((e) => e.target === null && e.vcl.temperature === 'warm').length;
    },
    get n_vcl_discard() {
      return vcls.retiring().length;
    },
  });
  // SMA.<name>.* (SMF for a file storage): each storage counts in its own fields, named as
  // varnishstat names them.
  for (const st of srv.cache.stevedores) {
    const group = st.kind === 'file' ? 'SMF' : 'SMA';
    counters.add(group, storageView(st, group), st.name);
  }
  // VBE.<vcl>.<backend>.* follow the VCLs, whoever loads them (the CLI, SIGHUP, a test).
  const removers = new Map<string, (() => void)[]>();
  for (const e of srv.vcls.entries()) if (e.target === null) removers.set(e.name, trackBackends(counters, srv, e.name));
  const unwatch = srv.vcls.watch({
    loaded: (e) => removers.set(e.name, trackBackends(counters, srv, e.name)),
    discarded: (e) => {
      for (const remove of removers.get(e.name) ?? []) remove();
      removers.delete(e.name);
    },
  });
  const logHub = new LogHub({ logger: opts.logger });
  srv.txLog = logHub;
  const admin = new AdminServer({ params: srv.params, logger: opts.logger, secretFile: opts.secretFile, workdir: opts.workdir });
  registerBuiltins(admin, { counters, logHub });
  registerServerCommands(admin, srv);
  const detachVmods = attachVmodPlatform(admin, counters, srv);
  // The HTTP server is loaded only when /metrics is served: node:http brings tls and http2 with
  // it, about 10 MB of a cache process's memory at start (docs/storage.md).
  const metricsListen = String(srv.params.values.metrics_listen ?? '');
  const metricsHttp = metricsListen.trim() === '' ? undefined : await import('./metrics-http.ts');
  const metricsAt = metricsHttp?.parseMetricsListen(metricsListen);
  // Latency is measured only while /metrics is served: without it a request pays a null check.
  if (metricsAt !== undefined) srv.latency = new LatencyMetrics();
  const metrics =
    metricsHttp === undefined || metricsAt === undefined
      ? null
      : await metricsHttp.startMetricsServer(counters, metricsAt.host, metricsAt.port, { extra: () => stateFamilies(srv), logger: opts.logger });
  let adminAddress: { host: string; port: number };
  try {
    adminAddress = await admin.listen(opts.admin?.host || '127.0.0.1', opts.admin?.port ?? 0);
  } catch (e) {
    await metrics?.close();
    unwatch();
    detachVmods();
    throw e;
  }
  if (metrics) opts.logger.info({ host: metrics.host, port: metrics.port }, `metrics on http://${metrics.host}:${metrics.port}/metrics`);
  return {
    admin,
    counters,
    logHub,
    adminAddress,
    metrics,
    close: async () => {
      unwatch();
      detachVmods();
      await admin.close();
      await metrics?.close();
    },
  };
}

/** The SMA counters of a storage, and nothing else of it: the registry reads every own key. */
function storageView(st: StorageCounterSource, group: 'SMA' | 'SMF'): StorageCounterSource {
  const view: Partial<Record<StorageCounterName, number>> = {};
  for (const { name } of COUNTER_TABLE[group]) Object.defineProperty(view, name, { get: () => st[name], enumerable: true });
  return view;
}
