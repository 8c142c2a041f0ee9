// A running Shellac: listeners, the cache, the loaded VCLs, parameters and counters, and the
// services VCL tasks reach (bans, purges, request bodies, logs). Requests come in through
// Shellac's own HTTP/1.1 layer (src/http1) and each runs as a ClientRequest (src/proxy/client.ts).

import { chmod, chown } from 'node:fs/promises';
import type { AddressInfo, Server, Socket } from 'node:net';
import pino, { type Logger } from 'pino';
import { createHttp1Server, Http1Connection, type Http1Context, type Http1Request, proxyTlv } from '../http1/index.ts';
import { Cache, digestKey, keyOfText, type StorageSpec } from '../cache/index.ts';
import { formatHttpDate, setHttpDatePostel } from '../runtime/httpdate.ts';
import type { TaskServices, VclTask } from '../runtime/task.ts';
import type { LatencyMetrics } from './latency.ts';
import type { LogHub, TxLog } from '../common/log.ts';
import type { Params } from '../common/params.ts';
import { ServerEvents } from '../vmod/events.ts';
import { VmodPlatform } from '../vmod/platform.ts';
import { backendFactory, liveBackendDefaults } from './backend/backend.ts';
import { type BackendGlobalCounters, newBackendGlobalCounters } from './backend/counters.ts';
import { defaultRespFilters } from './deliver-filters.ts';
import { ClientRequest } from './client.ts';
import { newProxyCounters, type ProxyCounters } from './counters.ts';
import { InFlight } from './in-flight.ts';
import { peerCredentials } from './peer-credentials.ts';
import { VclRegistry } from './vcls.ts';

export interface ListenAddress {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** A Unix socket path instead of host and port. */
  readonly path?: string;
  /** `,PROXY`: each connection starts with a PROXY protocol header (v1 or v2). */
  readonly proxy?: boolean;
  /** A Unix socket's mode and owner, set once it is bound (`-a /path,mode=0660,user=...`). */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export interface ShellacOptions {
  readonly params: Params;
  /** The cache's byte bound. */
  readonly storageBytes: number;
  readonly storageName?: string;
  /** Every storage VCL may name (storage.NAME); the cache's is one of them. */
  readonly storageNames?: readonly string[];
  /** Every storage (-s), in order; overrides storageBytes and storageName. */
  readonly storages?: readonly StorageSpec[];
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
  readonly requests = new InFlight<VclTask, ClientRequest>();
  /** Transaction records (shellac log, ncsa, pino at debug): set by the operations side. */
  txLog: LogHub | null = null;
  /** Latency histograms (/metrics): set by the operations side when metrics are served. */
  latency: LatencyMetrics | null = null;
  /** The record being built for a task, when somebody reads records. */
  readonly txOf = new WeakMap<VclTask, TxLog>();
  readonly via: string;
  /** Server events for VMOD subscribers: a part tests `events.listening.<name>` before it builds one. */
  readonly events: ServerEvents;
  /** The VMOD platform: VMOD counters, parameters, commands, jobs and the worker pool. */
  readonly platform: VmodPlatform;
  readonly startedAt = Date.now() / 1000;
  readonly #servers: { name: string; server: Server; address: AddressInfo | null; path?: string }[] = [];
  readonly #sockets = new Set<Socket>();
  /** Connections with a request being served (the others are closed at once by unlisten). */
  readonly #busy = new InFlight<Socket, true>();
  /** Per connection, the xid its session took (sess.xid). */
  readonly #sessXids = new WeakMap<Socket, number>();
  readonly #http1: Http1Context;
  /** Refused requests are logged at warn at most once a second; the rest at debug. */
  #lastRefusedLog = 0;
  #refusedSinceLog = 0;
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
    this.cache = new Cache({ maxBytes: opts.storageBytes, params: this.params.values, storageName: opts.storageName, storages: opts.storages });
    const logger = this.logger;
    const log = (task: VclTask, message: string): void => {
      this.txOf.get(task)?.log(message);
      logger.info({ xid: task.xid, vcl: task.vclName, sub: task.method }, message);
    };
    const ban = (expression: string): string | null => {
      const now = Date.now() / 1000;
      const refused = this.cache.ban(expression, now);
      if (refused === null && this.events.listening.ban) this.events.emit('ban', { expression, time: now, origin: 'vcl' });
      return refused;
    };
    this.events = new ServerEvents(logger);
    this.platform = new VmodPlatform({
      params: this.params,
      logger,
      events: this.events,
      ban,
      // The builtin vcl_hash's key: hash_data(req.url), hash_data(req.http.host), each ended by a 0.
      purge: (url, host, o) => this.cache.purge(keyOfText(`${url}\0${host}\0`), Date.now() / 1000, o === undefined ? undefined : { ttl: o.ttl, grace: o.grace, keep: o.keep }),
      activeVcl: () => this.vcls.activeName,
    });
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
      peerCredentials: (task) => peerCredentials(this.requests.get(task)?.in.socket),
      proxyTlv: (task, type) => proxyTlv(this.requests.get(task)?.in.proxied ?? null, type),
      respFilters: (task) => {
        const cr = this.requests.get(task);
        return cr?.obj ? defaultRespFilters(cr, cr.obj) : '';
      },
      identity,
      params: this.params.values,
      objects: this.cache,
    };
    this.backendServices = { log, ban, identity, params: this.params.values };
    const postel = () => setHttpDatePostel(this.params.values.feature.has('http_date_postel'));
    postel();
    this.params.onChange((name) => {
      if (name === 'feature') postel();
    });
    const pv = this.params.values;
    const factory = backendFactory({
      defaults: liveBackendDefaults(pv),
      globalCounters: this.backendCounters,
      logger,
      onHealthChange: (b, healthy) => {
        if (this.events.listening['backend.health']) this.events.emit('backend.health', { backend: b.name, vcl: b.vclName, healthy, previous: !healthy });
      },
    });
    const override = opts.backendOverride;
    this.vcls = new VclRegistry({
      env: {
        createBackend: override ? (decl, probe, vcl) => factory({ ...decl, host: override.host, port: String(override.port), path: undefined }, probe, vcl) : factory,
        services: this.clientServices,
        logger,
        storages: [...new Set([...(opts.storageNames ?? []), ...this.cache.stevedores.map((st) => st.name)])],
        storage: (name) => this.cache.storageNamed(name),
        platform: this.platform,
      },
      vclPath: () => opts.vclPath ?? [],
      vmodPath: () => opts.vmodPath ?? [],
      cooldown: () => this.params.values.vcl_cooldown,
    });
    const values = this.params.values;
    this.#http1 = {
      settings: values,
      httpsScheme: () => values.feature.has('https_scheme'),
      counters: this.counters,
      handler: {
        request: (req) => this.#onRequest(req),
        refused: (reason, status) => this.refused(reason, status),
      },
    };
  }

  /**
   * A request refused before VCL: logged with its reason, at warn at most once a second (a
   * flood of bad requests must not become a flood of log lines), at debug otherwise.
   */
  refused(reason: string, status: number, xid?: number): void {
    const now = Date.now();
    if (now - this.#lastRefusedLog >= 1000) {
      this.logger.warn({ reason, status, xid, alsoRefused: this.#refusedSinceLog }, 'request refused');
      this.#lastRefusedLog = now;
      this.#refusedSinceLog = 0;
    } else {
      this.#refusedSinceLog++;
      this.logger.debug({ reason, status, xid }, 'request refused');
    }
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
      const listener = { name: a.name, endpoint: a.path ?? '' };
      const server = this.#makeServer(a.proxy === true, listener);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(a.path ? { path: a.path } : { host: a.host || undefined, port: a.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      // Past listen, an error is a connection that failed while being accepted (EMFILE...).
      server.on('error', (err) => {
        // (varnishd splits these by errno; one reason here, the error is logged.)
        this.counters.sess_fail++;
        this.counters.sess_fail_other++;
        this.logger.warn({ err, listener: a.name }, 'accepting a connection failed');
      });
      if (a.path) {
        if (a.mode !== undefined) await chmod(a.path, a.mode);
        if (a.uid !== undefined || a.gid !== undefined) await chown(a.path, a.uid ?? -1, a.gid ?? -1);
        this.#servers.push({ name: a.name, server, address: null, path: a.path });
        bound.push({ name: a.name, host: '', port: 0, path: a.path });
        continue;
      }
      const address = server.address() as AddressInfo;
      // local.endpoint as varnishd shows it: the bound address and port.
      listener.endpoint = address.family === 'IPv6' ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
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
    this.cache.close();
    this.vcls.close();
    await this.platform.close(graceMs);
  }

  /**
   * Closes the listeners (the CLI's `stop`): requests in flight get up to `graceMs` to finish,
   * then every connection closes. The cache and the VCLs stay; `listen` opens again.
   */
  async unlisten(graceMs = 5000): Promise<void> {
    const servers = this.#servers.splice(0);
    const closed = servers.map((s) => new Promise<void>((resolve) => s.server.close(() => resolve())));
    for (const sock of this.#sockets) if (!this.#busy.has(sock)) sock.destroy();
    const deadline = Date.now() + graceMs;
    while (this.requests.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.counters.req_dropped += this.requests.size;
    for (const sock of this.#sockets) sock.destroy();
    await Promise.all(closed);
  }

  #makeServer(proxy: boolean, listener: { readonly name: string; endpoint: string }): Server {
    return createHttp1Server({ ...this.#http1, proxy, listener }, (sock) => this.#track(sock));
  }

  #track(sock: Socket): void {
    // A session takes an xid of its own, as in Varnish: a second connection's first request
    // is 1004 after 1000 (session), 1001 (request), 1002 (fetch).
    this.#sessXids.set(sock, this.nextXid());
    this.#sockets.add(sock);
    sock.once('close', () => {
      this.#sockets.delete(sock);
      this.#busy.delete(sock);
    });
  }

  /**
   * Serves a connection accepted elsewhere as a listener named `listener` would: what
   * bench/hit-path drives its stand-in socket through (bytes in, bytes out, no syscalls).
   */
  serveConnection(sock: Socket, listener: { readonly name: string; endpoint: string } = { name: 'a0', endpoint: '' }): void {
    this.#track(sock);
    new Http1Connection(sock, { ...this.#http1, listener });
  }

  #onRequest(req: Http1Request): void {
    const sock = req.socket;
    const entry = this.#closing ? null : this.vcls.enter();
    if (entry === null) {
      req.res.close = true;
      req.res.writeHead(503, 'Service Unavailable', ['Content-Length', '0']);
      req.res.end();
      req.done();
      return;
    }
    let cr: ClientRequest;
    try {
      cr = new ClientRequest(this, entry, req);
    } catch (e) {
      // The request could not become a VCL request: a client's fault, answered as Varnish
      // answers a head it cannot take.
      this.vcls.leave(entry);
      this.counters.client_req_400++;
      this.refused(e instanceof Error ? e.message : String(e), 400);
      req.res.close = true;
      req.res.writeHead(400, 'Bad Request', []);
      req.res.end();
      req.done();
      return;
    }
    this.counters.client_req++;
    // (At most one request per connection is served at a time; has() guards a stale entry.)
    if (!this.#busy.has(sock)) this.#busy.add(sock, true);
    cr.task.sessXid = this.#sessXids.get(sock) ?? 0;
    void cr.run();
  }

  /** A request on this connection is over (ClientRequest's last step). */
  requestDone(req: Http1Request): void {
    this.#busy.delete(req.socket);
    req.done();
  }

  /** std.cache_req_body: reads the request body into the task, up to `max` bytes. */
  async #cacheReqBody(task: VclTask, max: number): Promise<boolean> {
    if (task.reqBody !== null) return task.reqBody.length <= max;
    const cr = this.requests.get(task);
    if (cr === undefined) return false;
    // No body: nothing to keep (bodyaccess.len_req_body() still says -1, as in Varnish).
    if (!cr.body.present) return true;
    if (cr.body.taken) return false;
    const chunks: Buffer[] = [];
    let n = 0;
    try {
      for await (const chunk of cr.body.take()) {
        n += chunk.length;
        if (n > max) {
          this.logger.info({ xid: task.xid }, `Request body too big to cache (> ${max} bytes)`);
          return false;
        }
        chunks.push(chunk);
      }
    } catch (e) {
      // A broken body: the connection closes after this request.
      this.logger.info({ xid: task.xid, err: e instanceof Error ? e.message : String(e) }, 'Request body failed');
      return false;
    }
    this.counters.s_req_bodybytes += n;
    task.reqBody = Buffer.concat(chunks);
    return true;
  }
}
