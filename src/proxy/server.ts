// A running Shellac: listeners, the cache, the loaded VCLs, parameters and counters, and the
// services VCL tasks reach (bans, purges, request bodies, logs). Requests come in through
// node:http and each runs as a ClientRequest (src/proxy/client.ts).

import { createServer, type IncomingMessage, type Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import pino, { type Logger } from 'pino';
import { Cache, digestKey } from '../cache/index.ts';
import { formatHttpDate, setHttpDatePostel } from '../runtime/httpdate.ts';
import type { TaskServices, VclTask } from '../runtime/task.ts';
import type { LatencyMetrics } from '../mgmt/latency.ts';
import type { LogHub, TxLog } from '../mgmt/log.ts';
import type { Params } from '../mgmt/params.ts';
import { backendFactory } from './backend.ts';
import { type BackendGlobalCounters, newBackendGlobalCounters } from './backend-counters.ts';
import { defaultRespFilters } from './deliver-filters.ts';
import { ClientRequest } from './client.ts';
import { newProxyCounters, type ProxyCounters } from './counters.ts';
import { type VclEntry, VclRegistry } from './vcls.ts';

export interface ListenAddress {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** A Unix socket path instead of host and port. */
  readonly path?: string;
}

export interface ShellacOptions {
  readonly params: Params;
  /** The cache's byte bound. */
  readonly storageBytes: number;
  readonly storageName?: string;
  /** Every storage VCL may name (storage.NAME); the cache's is one of them. */
  readonly storageNames?: readonly string[];
  readonly vclPath?: readonly string[];
  readonly vmodPath?: readonly string[];
  readonly logger?: Logger;
  /** Sends every backend to this address instead of the one declared (the npm start demo). */
  readonly backendOverride?: { readonly host: string; readonly port: number };
  /** The name in Via headers and server.identity. */
  readonly identity?: string;
}

export class Shellac {
  readonly params: Params;
  readonly logger: Logger;
  readonly counters: ProxyCounters = newProxyCounters();
  readonly backendCounters: BackendGlobalCounters = newBackendGlobalCounters();
  readonly cache: Cache;
  readonly vcls: VclRegistry;
  readonly clientServices: TaskServices;
  readonly backendServices: TaskServices;
  /** Client requests in flight, by task: how services find the request of a task. */
  readonly requests = new Map<VclTask, ClientRequest>();
  /** Transaction records (shellac log, ncsa, pino at debug): set by the operations side. */
  txLog: LogHub | null = null;
  /** Latency histograms (/metrics): set by the operations side when metrics are served. */
  latency: LatencyMetrics | null = null;
  /** The record being built for a task, when somebody reads records. */
  readonly txOf = new WeakMap<VclTask, TxLog>();
  readonly via: string;
  readonly startedAt = Date.now() / 1000;
  readonly #servers: { name: string; server: Server; address: AddressInfo | null; path?: string }[] = [];
  readonly #sockets = new Set<Socket>();
  /** Per connection: whether a request runs, and the pipelined ones waiting their turn. */
  /** Per connection, the xid its session took (sess.xid). */
  readonly #sessXids = new WeakMap<Socket, number>();
  readonly #conns = new WeakMap<Socket, { busy: boolean; readonly queue: (() => void)[] }>();
  // Varnish's vtc_mode starts at 999 (debug.xid); each session, request and fetch takes the next.
  #xid = 999;
  #dateSecond = 0;
  #dateText = '';
  #closing = false;

  constructor(opts: ShellacOptions) {
    this.params = opts.params;
    this.logger = opts.logger ?? pino({ level: 'silent' });
    const identity = opts.identity ?? 'shellac';
    this.via = `1.1 ${identity} (Shellac/0.1)`;
    this.cache = new Cache({ maxBytes: opts.storageBytes, params: this.params.values, storageName: opts.storageName });
    const logger = this.logger;
    const log = (task: VclTask, message: string): void => {
      this.txOf.get(task)?.log(message);
      logger.info({ xid: task.xid, vcl: task.vclName, sub: task.method }, message);
    };
    const ban = (expression: string): string | null => this.cache.ban(expression, Date.now() / 1000);
    this.clientServices = {
      log,
      ban,
      purge: (task, o) => this.cache.purge(digestKey(task.hashDigest()), Date.now() / 1000, o.soft ? { ttl: o.ttl, grace: o.grace, keep: o.keep } : undefined),
      cacheReqBody: (task, max) => this.#cacheReqBody(task, max),
      rollback: (task, where) => {
        const cr = this.requests.get(task);
        if (cr && where === 'req') task.req = cr.original.clone();
      },
      setIpTos: () => false,
      respFilters: (task) => {
        const cr = this.requests.get(task);
        return cr?.obj ? defaultRespFilters(cr, cr.obj) : '';
      },
      identity,
      params: this.params.values,
    };
    this.backendServices = { log, ban, identity, params: this.params.values };
    const postel = () => setHttpDatePostel(this.params.values.feature.has('http_date_postel'));
    postel();
    this.params.onChange((name) => {
      if (name === 'feature') postel();
    });
    const factory = backendFactory({
      defaults: {
        connectTimeout: this.params.values.connect_timeout,
        firstByteTimeout: this.params.values.first_byte_timeout,
        betweenBytesTimeout: this.params.values.between_bytes_timeout,
        idleTimeout: this.params.values.backend_idle_timeout,
      },
      globalCounters: this.backendCounters,
      logger,
    });
    const override = opts.backendOverride;
    this.vcls = new VclRegistry({
      env: {
        createBackend: override ? (decl, probe, vcl) => factory({ ...decl, host: override.host, port: String(override.port), path: undefined }, probe, vcl) : factory,
        services: this.clientServices,
        logger,
        storages: opts.storageNames ?? [this.cache.storage.name, 'Transient'],
        storage: (name) => (name === this.cache.storage.name ? this.cache.storage : undefined),
      },
      vclPath: () => opts.vclPath ?? [],
      vmodPath: () => opts.vmodPath ?? [],
      cooldown: () => this.params.values.vcl_cooldown,
    });
  }

  nextXid(): number {
    return ++this.#xid;
  }

  /** The Date header value, formatted once a second. */
  httpDate(): string {
    const now = Math.floor(Date.now() / 1000);
    if (now !== this.#dateSecond) {
      this.#dateSecond = now;
      this.#dateText = formatHttpDate(now);
    }
    return this.#dateText;
  }

  /** Opens the listeners; resolves with their bound addresses. */
  async listen(addresses: readonly ListenAddress[]): Promise<ListenAddress[]> {
    this.cache.start();
    const bound: ListenAddress[] = [];
    for (const a of addresses) {
      const server = this.#makeServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(a.path ? { path: a.path } : { host: a.host || undefined, port: a.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      if (a.path) {
        this.#servers.push({ name: a.name, server, address: null, path: a.path });
        bound.push({ name: a.name, host: '', port: 0, path: a.path });
        continue;
      }
      const address = server.address() as AddressInfo;
      this.#servers.push({ name: a.name, server, address });
      bound.push({ name: a.name, host: address.address, port: address.port });
    }
    return bound;
  }

  get addresses(): ListenAddress[] {
    return this.#servers.map((s) => ({ name: s.name, host: s.address?.address ?? '', port: s.address?.port ?? 0, ...(s.path ? { path: s.path } : {}) }));
  }

  /**
   * Stops accepting, lets requests in flight finish for up to `graceMs`, then closes every
   * connection, stops the cache's timers and discards the VCLs.
   */
  async close(graceMs = 5000): Promise<void> {
    this.#closing = true;
    await this.unlisten(graceMs);
    this.cache.stop();
    this.vcls.close();
  }

  /**
   * Closes the listeners (the CLI's `stop`): requests in flight get up to `graceMs` to finish,
   * then every connection closes. The cache and the VCLs stay; `listen` opens again.
   */
  async unlisten(graceMs = 5000): Promise<void> {
    const servers = this.#servers.splice(0);
    const closed = servers.map((s) => new Promise<void>((resolve) => s.server.close(() => resolve())));
    for (const s of servers) s.server.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (this.requests.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.counters.req_dropped += this.requests.size;
    for (const s of servers) s.server.closeAllConnections();
    for (const sock of this.#sockets) sock.destroy();
    await Promise.all(closed);
  }

  #makeServer(): Server {
    const p = this.params.values;
    // timeout_idle: a connection is idle until a request's head is complete, so it bounds both
    // the wait between requests (keepAliveTimeout) and the wait for a head (headersTimeout,
    // checked as often as the timeout is short). HTTP/1.1 without Host is served, as Varnish does.
    const idleMs = Math.max(1, p.timeout_idle * 1000);
    const server = createServer({
      maxHeaderSize: p.http_req_size,
      requestTimeout: 0,
      headersTimeout: idleMs,
      keepAliveTimeout: idleMs,
      connectionsCheckingInterval: Math.min(1000, Math.max(50, idleMs / 4)),
      noDelay: true,
      joinDuplicateHeaders: false,
      requireHostHeader: false,
      // Varnish reads heads whose lines end in a bare LF; llhttp only does so when lenient. The
      // framing checks it then skips (both Content-Length and Transfer-Encoding, duplicates)
      // are made in #malformed.
      insecureHTTPParser: true,
      // A request without Content-Length or Transfer-Encoding has no body: node skips the
      // body stream's events for it (the hit path's GETs), and reading it ends at once.
      optimizeEmptyRequests: true,
    });
    server.on('connection', (sock: Socket) => {
      this.counters.sess_conn++;
      this.counters.s_sess++;
      // A session takes an xid of its own, as in Varnish: a second connection's first request
      // is 1004 after 1000 (session), 1001 (request), 1002 (fetch).
      this.#sessXids.set(sock, this.nextXid());
      this.#sockets.add(sock);
      sock.once('close', () => {
        this.counters.sess_closed++;
        this.#sockets.delete(sock);
      });
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#onRequest(req, res, null));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const res = new ServerResponse(req);
      res.assignSocket(socket as Socket);
      this.#onRequest(req, res, head);
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      const c = this.counters;
      switch (err.code) {
        case 'ECONNRESET':
          c.sc_rem_close++;
          break;
        case 'ERR_HTTP_REQUEST_TIMEOUT':
          // timeout_idle passed before a whole request head came: closed without a word.
          c.sc_rx_timeout++;
          break;
        case 'HPE_HEADER_OVERFLOW':
          // Past http_req_size: Varnish closes without answering.
          c.sc_rx_overflow++;
          break;
        default:
          c.client_req_400++;
          c.sc_rx_bad++;
          this.logger.debug({ err: err.code }, 'malformed request');
          if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      }
      socket.destroy();
    });
    return server;
  }

  #onRequest(req: IncomingMessage, res: ServerResponse, upgradeHead: Buffer | null): void {
    this.counters.client_req++;
    // node:http would add `Keep-Alive: timeout=N` to each response; Varnish sends none. (The
    // idle timeout itself is the server's keepAliveTimeout, which this leaves alone.)
    (res as unknown as { _keepAliveTimeout: number })._keepAliveTimeout = 0;
    const problem = this.#malformed(req);
    if (problem !== null) {
      this.counters.client_req_400++;
      this.counters.sc_rx_bad++;
      this.logger.debug({ problem }, 'malformed request');
      res.shouldKeepAlive = false;
      res.writeHead(400, 'Bad Request', ['Content-Length', '0', 'Connection', 'close']);
      res.end();
      return;
    }
    const entry = this.#closing ? null : this.vcls.enter();
    if (entry === null) {
      res.writeHead(503, 'Service Unavailable', ['Content-Length', '0', 'Connection', 'close']);
      res.end();
      return;
    }
    // node:http hands over pipelined requests at once; Varnish takes a connection's requests
    // one after another, so the next one starts (and takes its xid) when the response before
    // it is done.
    // (The usual connection has one request at a time: that costs a flag, nothing more.)
    const sock = req.socket;
    let conn = this.#conns.get(sock);
    if (conn === undefined) {
      conn = { busy: false, queue: [] };
      this.#conns.set(sock, conn);
    }
    if (conn.busy) {
      // A request read while the one before it is still served (Varnish's read-ahead).
      this.counters.sess_readahead++;
      conn.queue.push(() => void this.#startRequest(entry, req, res, upgradeHead));
      return;
    }
    conn.busy = true;
    void this.#startRequest(entry, req, res, upgradeHead);
  }

  #startRequest(entry: VclEntry, req: IncomingMessage, res: ServerResponse, upgradeHead: Buffer | null): Promise<void> | undefined {
    const cr = new ClientRequest(this, entry, req, res, upgradeHead);
    cr.task.sessXid = this.#sessXids.get(req.socket) ?? 0;
    return cr.run();
  }

  /** A request on this connection is over: the next pipelined one starts. */
  requestDone(sock: Socket): void {
    const conn = this.#conns.get(sock);
    if (conn === undefined) return;
    const next = conn.queue.shift();
    if (next === undefined) conn.busy = false;
    else next();
  }

  /** Varnish's request limits and framing checks that node:http does not apply itself. */
  #malformed(req: IncomingMessage): string | null {
    const raw = req.rawHeaders;
    const p = this.params.values;
    if (raw.length / 2 > p.http_max_hdr) return `too many headers (${raw.length / 2} > http_max_hdr)`;
    const max = p.http_req_hdr_len;
    let hosts = 0;
    let lengths = 0;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      if (name.length + raw[i + 1].length + 2 > max) return `header ${name} longer than http_req_hdr_len`;
      if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
      else if (name.length === 14 && name.toLowerCase() === 'content-length') lengths++;
    }
    if (hosts > 1) return 'duplicate Host header';
    if (lengths > 1) return 'duplicate Content-Length header';
    if (lengths > 0 && req.headers['transfer-encoding'] !== undefined) return 'both Content-Length and Transfer-Encoding';
    // Only HTTP/1.0 and HTTP/1.1 (the lenient parser would let 1.2 or 0.5 pass).
    if (req.httpVersionMajor !== 1 || req.httpVersionMinor > 1) return `unsupported protocol HTTP/${req.httpVersion}`;
    return null;
  }

  /** std.cache_req_body: reads the request body into the task, up to `max` bytes. */
  async #cacheReqBody(task: VclTask, max: number): Promise<boolean> {
    if (task.reqBody !== null) return task.reqBody.length <= max;
    const cr = this.requests.get(task);
    if (cr === undefined) return false;
    if (!cr.body.present) {
      task.reqBody = Buffer.alloc(0);
      return true;
    }
    if (cr.body.taken) return false;
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const chunk of cr.body.take()) {
      n += (chunk as Buffer).length;
      if (n > max) {
        this.logger.info({ xid: task.xid }, `Request body too big to cache (> ${max} bytes)`);
        return false;
      }
      chunks.push(chunk as Buffer);
    }
    this.counters.s_req_bodybytes += n;
    task.reqBody = Buffer.concat(chunks);
    return true;
  }
}
