// `GET /metrics`: every counter in the Prometheus text format (names as prometheus.ts maps
// them), plus the families `extra` gives (latency histograms, VCL and backend state), on its own
// HTTP listener (the metrics_listen parameter; off by default). Anything else is 404.
// It needs no authentication, so it belongs on loopback or behind a firewall.

import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { CounterRegistry } from './counters.ts';
import { counterFamilies, type MetricFamily, renderExposition } from './prometheus.ts';

export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  close(): Promise<void>;
}

export async function startMetricsServer(
  registry: CounterRegistry,
  host: string,
  port: number,
  opts: { readonly extra?: () => readonly MetricFamily[]; readonly logger?: Logger } = {},
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
      return;
    }
    let body: string;
    try {
      body = renderExposition([...counterFamilies(registry.snapshot()), ...(opts.extra?.() ?? [])]);
    } catch (e) {
      // A part that fails to say its state (a VMOD's backend, say) fails this scrape, not the process.
      opts.logger?.error({ err: e }, 'GET /metrics failed');
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${(e as Error).message}\n`);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host === '' ? '127.0.0.1' : host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  const bound = typeof addr === 'object' && addr ? addr : { address: host, port };
  return {
    host: bound.address,
    port: bound.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** `host:port` of metrics_listen; undefined when empty. */
export function parseMetricsListen(text: string): { host: string; port: number } | undefined {
  if (text.trim() === '') return undefined;
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(text.trim());
  if (!m || Number(m[3]) > 65535) throw new Error(`metrics_listen ${text}: expected host:port`);
  return { host: m[1] ?? m[2] ?? '', port: Number(m[3]) };
}
