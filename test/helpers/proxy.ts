// Test helpers for end-to-end tests: a scriptable origin and a Shellac in front of it, both on
// 127.0.0.1 with ports the kernel picks, and a small HTTP client that returns everything.
import type { StorageSpec } from '../../src/cache/index.ts';

import { afterEach } from 'vitest';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Params } from '../../src/common/params.ts';
import { Shellac } from '../../src/proxy/server.ts';

export interface Origin {
  readonly port: number;
  readonly server: Server;
  /** Requests seen, in order. */
  readonly seen: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  close(): Promise<void>;
}

export type OriginHandler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export async function startOrigin(handler: OriginHandler): Promise<Origin> {
  const seen: Origin['seen'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    server,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface ProxyHandle {
  readonly srv: Shellac;
  readonly port: number;
  close(): Promise<void>;
}

/** Starts Shellac with this VCL; `ORIGIN_PORT` in it becomes the origin's port. */
export async function startProxy(
  vcl: string,
  opts: { origin?: Origin; params?: [string, string][]; storageBytes?: number; storages?: readonly StorageSpec[] } = {},
): Promise<ProxyHandle> {
  const srv = new Shellac({ params: new Params(opts.params ?? []), storageBytes: opts.storageBytes ?? 64 * 1024 * 1024, storages: opts.storages });
  await srv.vcls.load('boot', { source: vcl.replaceAll('ORIGIN_PORT', String(opts.origin?.port ?? 9)) });
  const [a] = await srv.listen([{ name: 'a0', host: '127.0.0.1', port: 0 }]);
  return { srv, port: a.port, close: () => srv.close(500) };
}

export interface Reply {
  readonly status: number;
  readonly reason: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export function get(port: number, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A port nothing listens on now (for a process the test starts itself). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A VCL with one backend pointing at the test origin. */
export const BACKEND = 'vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "ORIGIN_PORT"; }\n';

/** A counter by its Varnish name, wherever the proxy keeps it (client, cache or backends). */
export function stat(p: ProxyHandle, name: string): number {
  const srv = p.srv;
  for (const table of [srv.counters, srv.cache.counters, srv.backendCounters] as Record<string, number>[]) {
    if (name in table) return table[name];
  }
  throw new Error(`no counter named ${name}`);
}

export interface RawReply {
  /** Everything the server sent until it closed (or until `waitMs` passed). */
  readonly text: string;
  /** Whether the server closed the connection. */
  readonly closed: boolean;
}

/** Writes bytes on a fresh connection and collects the answer until close or `waitMs`. */
export async function raw(port: number, bytes: string | Buffer, waitMs = 2000): Promise<RawReply> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(bytes));
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text, closed: false });
    }, waitMs);
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
  });
}

/**
 * What a test starts, closed after each test (call once per file): wrap each start in
 * `started.origin(...)` or `started.proxy(...)`, which hand it back.
 */
export function closedAfterEach(): { origin(o: Origin): Origin; proxy(p: ProxyHandle): ProxyHandle } {
  let origin: Origin | undefined;
  let proxy: ProxyHandle | undefined;
  afterEach(async () => {
    await proxy?.close();
    await origin?.close();
    proxy = origin = undefined;
  });
  return {
    origin: (o) => (origin = o),
    proxy: (p) => (proxy = p),
  };
}
