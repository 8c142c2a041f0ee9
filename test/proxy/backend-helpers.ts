// Helpers for the backend, probe and pipe tests: backends made from real VCL text, loopback
// origins (node:http, raw TCP for misbehaving ones, a listener that never accepts), and a
// logger that keeps what it was told.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, createServer as createNetServer, connect, type Server as NetServer, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';
import { type Backend, type BackendOptions, createBackend } from '../../src/proxy/backend/backend.ts';
import { newBackendGlobalCounters } from '../../src/proxy/backend/counters.ts';
import type { HealthLogger } from '../../src/proxy/backend/probe.ts';
import { checkSource } from '../../src/vcl/compile.ts';

const cleanups: (() => Promise<void> | void)[] = [];

/** Runs everything the helpers opened; call it in afterEach. */
export async function cleanup(): Promise<void> {
  while (cleanups.length > 0) await cleanups.pop()!();
}

/** Compiles the VCL (backends and probes only matter) and makes each backend. */
export async function backendsFrom(vcl: string, options: Partial<BackendOptions> = {}): Promise<Map<string, Backend>> {
  const result = checkSource({ name: 'test.vcl', text: `vcl 4.1;\n${vcl}` }, { errUnref: false });
  if (!result.checked) throw new Error(result.diagnostics.list.map((d) => d.message).join('\n'));
  const probes = new Map(result.checked.probes.map((p) => [p.name, p]));
  const out = new Map<string, Backend>();
  const globalCounters = options.globalCounters ?? newBackendGlobalCounters();
  for (const decl of result.checked.backends) {
    const backend = await createBackend(decl, decl.probe ? probes.get(decl.probe) : undefined, { vclName: 'test', ...options, globalCounters });
    cleanups.push(() => backend.close());
    out.set(decl.name, backend);
  }
  return out;
}

/** One backend from its body: `backendFrom('.host = "127.0.0.1"; .port = "80";')`. */
export async function backendFrom(body: string, options: Partial<BackendOptions> = {}, extra = ''): Promise<Backend> {
  const map = await backendsFrom(`${extra}\nbackend b { ${body} }`, options);
  return map.get('b')!;
}

export interface HttpOrigin {
  readonly port: number;
  readonly server: Server;
  /** Every request's method, url and raw headers, in arrival order. */
  readonly seen: { method: string; url: string; headers: string[]; body: Buffer }[];
}

/** A node:http origin on 127.0.0.1 (or on a Unix socket path); requests' bodies are read first. */
export async function httpOrigin(handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void, path?: string): Promise<HttpOrigin> {
  const seen: HttpOrigin['seen'] = [];
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.rawHeaders, body });
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => (path ? server.listen(path, resolve) : server.listen(0, '127.0.0.1', resolve)));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  return { port: path ? 0 : (server.address() as AddressInfo).port, server, seen };
}

/**
 * A raw TCP origin: the handler gets each connection, its request head, and any bytes that came
 * after the head in the same reads.
 */
export async function rawOrigin(onRequest: (socket: Socket, head: string, rest: Buffer) => void): Promise<{ port: number; server: NetServer }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.removeListener('data', onData);
      onRequest(socket, text.slice(0, end + 4), Buffer.from(text.slice(end + 4), 'latin1'));
    };
    socket.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as AddressInfo).port, server };
}

/** A loopback port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A port whose connections hang: a listener in a worker whose event loop is blocked, with its
 * accept queue already full, so the kernel drops new connection attempts and they time out.
 */
export async function blackholePort(): Promise<number> {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const server = require('node:net').createServer(() => {});
     server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       Atomics.wait(workerData, 0, 0);
     });`,
    { eval: true, workerData: gate },
  );
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  const fillers: Socket[] = [];
  for (;;) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => {});
    fillers.push(s);
    const connected = await new Promise<boolean>((resolve) => {
      s.once('connect', () => resolve(true));
      setTimeout(() => resolve(false), 200);
    });
    if (!connected || fillers.length > 8) break;
  }
  cleanups.push(async () => {
    for (const s of fillers) s.destroy();
    Atomics.store(gate, 0, 1);
    Atomics.notify(gate, 0);
    await worker.terminate();
  });
  return port;
}

/** A pino-shaped logger that keeps its records. */
export function recordingLogger(): HealthLogger & { records: { level: string; obj: Record<string, unknown>; msg: string }[] } {
  const records: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  return {
    records,
    info: (obj, msg) => records.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
    warn: (obj, msg) => records.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
  };
}

/** Waits until `cond` holds, checking every 10 ms, failing after `ms`. */
export async function until(cond: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
