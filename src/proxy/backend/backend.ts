// A backend: one origin server declared in VCL, with its pool of kept-alive connections, its
// timeouts, its health (a probe, overridden by backend.set_health) and its counters. It is a
// Director that resolves to itself, so directors can hold backends and other directors alike.
//
// Timeouts, as Varnish picks them: the value set on bereq for this fetch, else the backend's,
// else the parameter. max_connections is a hard limit, as in Varnish 7.1: a fetch that finds
// them all in use fails at once ('busy') instead of queueing. The HTTP/1 client is our own
// (fetch.ts, connection.ts, pool.ts), as Varnish's backend side behaves: see docs/proxy.md.

import { type ParamValues, Params } from '../../common/params.ts';
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type { Director, VmodContext } from '../../vmod/api.ts';
import type { TBackend, TProbe } from '../../vcl/tir.ts';
import type { BackendFactory, VclBackend } from '../../runtime/backends.ts';
import { type BackendAddress, addressText, literalAddress, resolveBackendAddress } from './address.ts';
import { type BackendCounters, type BackendGlobalCounters, newBackendCounters, newBackendGlobalCounters } from './counters.ts';
import { type BackendFailure, classifyError, errorCode, errorMessage } from './failure.ts';
import { type ConnectCallback, connectBackend } from './connect.ts';
import { BackendConnection } from './connection.ts';
import { type ExchangeResult, type FetchResult, type HeadLimits, runExchange } from './fetch.ts';
import { ConnectionPool } from './pool.ts';
import { type ProxyAddresses, proxyPreamble } from './proxy-header.ts';
import { prepareHeaders, type RequestHeaders } from './request.ts';
import { type HealthLogger, Probe, type ProbeStatus, probeSettings } from './probe.ts';

export type { BackendResponse, FetchResult } from './fetch.ts';
export type { BackendFailure, BackendFailureKind } from './failure.ts';
export { BackendBodyError } from './failure.ts';

/** Defaults from the parameters, in seconds. */
export interface BackendDefaults {
  readonly connectTimeout: number;
  readonly firstByteTimeout: number;
  readonly betweenBytesTimeout: number;
  /** backend_idle_timeout: how long an unused connection is kept open. */
  readonly idleTimeout: number;
  /** http_resp_size: the largest response head accepted, in bytes. */
  readonly maxHeaderSize: number;
  /** backend_remote_error_holddown: no new connection for this long after a refused or unreachable one. */
  readonly remoteErrorHolddown: number;
  /** backend_local_error_holddown: the same after a local failure (no free address, permission). */
  readonly localErrorHolddown: number;
}

/** Which connect failures start which holddown, as Varnish's connection pools sort errno. */
const HOLDDOWN: Readonly<Record<string, 'remoteErrorHolddown' | 'localErrorHolddown'>> = {
  ECONNREFUSED: 'remoteErrorHolddown',
  ENETUNREACH: 'remoteErrorHolddown',
  EACCES: 'localErrorHolddown',
  EPERM: 'localErrorHolddown',
  EADDRNOTAVAIL: 'localErrorHolddown',
};

/** The parameter each backend default comes from. */
const BACKEND_PARAMS = {
  connectTimeout: 'connect_timeout',
  firstByteTimeout: 'first_byte_timeout',
  betweenBytesTimeout: 'between_bytes_timeout',
  idleTimeout: 'backend_idle_timeout',
  maxHeaderSize: 'http_resp_size',
  remoteErrorHolddown: 'backend_remote_error_holddown',
  localErrorHolddown: 'backend_local_error_holddown',
} as const satisfies Record<keyof BackendDefaults, keyof ParamValues>;

/**
 * Backend defaults that read the parameters each time (getters): a backend copies them when its
 * VCL is loaded, so param.set applies to VCLs loaded after it, as in Varnish; the holddowns are
 * read at each failure.
 */
export function liveBackendDefaults(values: ParamValues): BackendDefaults {
  const out = {};
  for (const [key, param] of Object.entries(BACKEND_PARAMS)) Object.defineProperty(out, key, { get: () => values[param], enumerable: true });
  return out as BackendDefaults;
}

/** The parameter table's defaults, for a backend made without a server (tests, tools). */
export const BACKEND_DEFAULTS: BackendDefaults = { ...liveBackendDefaults(new Params().values) };

export interface BackendOptions {
  /** The name of the VCL declaring it: backends are `vcl.name` to the operator. */
  readonly vclName: string;
  /** Read when a backend is made, and the holddowns at each failure (getters may follow parameters). */
  readonly defaults?: Partial<BackendDefaults>;
  /** The process-wide counters it adds to (shared by all backends). */
  readonly globalCounters?: BackendGlobalCounters;
  readonly logger?: HealthLogger;
  /** Told when the health VCL sees changes (a probe's verdict or backend.set_health). */
  readonly onHealthChange?: (backend: Backend, healthy: boolean) => void;
}

export interface FetchRequest {
  readonly method: string;
  /** The request target: path and query. */
  readonly url: string;
  /** bereq.proto; HTTP/1.1 when not given. */
  readonly proto?: string;
  readonly headers: RequestHeaders;
  readonly body?: Readable | Uint8Array | null;
}

/** Per-fetch overrides (bereq.first_byte_timeout...), in seconds, and a way to give up. */
export interface FetchOptions {
  readonly firstByteTimeout?: number;
  readonly betweenBytesTimeout?: number;
  readonly signal?: AbortSignal;
  /** client.ip and server.ip, for backends with .proxy_header. */
  readonly proxy?: ProxyAddresses;
  /** http_resp_hdr_len and http_resp_size; when not given, http_resp_size as the backend was made and no line limit. */
  readonly headLimits?: HeadLimits;
}

/** backend.set_health: 'auto' follows the probe. */
export type AdminHealth = 'auto' | 'healthy' | 'sick';

/** A line of backend.list, with the probe's detail for `backend.list -p`. */
export interface BackendDescription {
  /** `vcl.name`. */
  readonly name: string;
  /** As Varnish shows it: 'probe' when following a probe, else 'healthy' or 'sick'. */
  readonly admin: 'probe' | 'healthy' | 'sick';
  /** Good probes out of the window: '5/8', or '0/0' without a probe. */
  readonly probe: string;
  /** The probe's verdict ('healthy' without a probe). */
  readonly health: 'healthy' | 'sick';
  /** Seconds since the epoch of the last change of health or of admin state. */
  readonly lastChange: number;
  readonly probeStatus?: ProbeStatus;
}

/** Resolves the backend's host and makes it; rejects when the host cannot be resolved. */
export async function createBackend(decl: TBackend, probe: TProbe | undefined, options: BackendOptions): Promise<Backend> {
  if (decl.none) throw new Error(`Backend ${decl.name} is 'none': there is nothing to fetch from`);
  const address = await resolveBackendAddress(decl.name, decl);
  return new Backend(decl, address, probe, options);
}

/**
 * The runtime's synchronous BackendFactory (src/runtime/backends.ts): IP literals and socket
 * paths are used at once; a host name is resolved in the background, connections wait for it,
 * and a name that does not resolve fails each fetch (and is logged) instead of the VCL load.
 * Prefer createBackend where the caller can await.
 */
export function backendFactory(
  options: Omit<BackendOptions, 'vclName'>,
): (decl: TBackend, probe: TProbe | undefined, vclName: string) => Backend | NoneBackend {
  const factory: BackendFactory & ((decl: TBackend, probe: TProbe | undefined, vclName: string) => Backend | NoneBackend) = (
    decl,
    probe,
    vclName,
  ) => {
    if (decl.none) return new NoneBackend(decl.name);
    const address = literalAddress(decl.name, decl) ?? resolveBackendAddress(decl.name, decl);
    return new Backend(decl, address, probe, { ...options, vclName });
  };
  return factory;
}

/** `backend x none;`: a name for no backend. It never resolves, so a fetch through it fails. */
export class NoneBackend implements VclBackend {
  readonly name: string;
  readonly type = 'backend';
  readonly changed = 0;

  constructor(name: string) {
    this.name = name;
  }

  healthy(_ctx: VmodContext | null): boolean {
    return false;
  }

  resolve(_ctx: VmodContext): Director | null {
    return null;
  }
}

export class Backend implements VclBackend {
  readonly name: string;
  readonly type = 'backend';
  readonly vclName: string;
  /** The Host header sent when a request has none: .host_header, else .host, else 0.0.0.0 (as Varnish does for .path). */
  readonly hostHeader: string;
  readonly maxConnections: number | undefined;
  /** PROXY protocol version sent on each connection (1 or 2), if any. */
  readonly proxyHeader: number | undefined;
  /** `.preamble`: bytes every new connection sends first (after a PROXY header, if any). */
  readonly preamble: Buffer | undefined;
  readonly connectTimeout: number;
  readonly firstByteTimeout: number;
  readonly betweenBytesTimeout: number;
  readonly counters: BackendCounters = newBackendCounters();
  readonly #global: BackendGlobalCounters;
  readonly #defaults: Partial<BackendDefaults> | undefined;
  /** Until when (ms since the epoch) no new connection is tried, after a failure. */
  #heldUntil = 0;
  readonly #pool: ConnectionPool;
  /** Connections carrying a request now (closed with the backend). */
  readonly #busy = new Set<BackendConnection>();
  /** Retired or closed: connections are not kept any more. */
  #retired = false;
  readonly #probe: Probe | null;
  readonly #onHealthChange: BackendOptions['onHealthChange'];
  #admin: AdminHealth = 'auto';
  #changed = Date.now() / 1000;
  /** Fetches and pipes using a connection now, for max_connections. */
  #active = 0;

  #address: BackendAddress | null = null;
  readonly #maxHeaderSize: number;
  /** While a host name is being resolved: connections wait on it. */
  #resolving: Promise<BackendAddress> | null = null;

  /** Use createBackend (or backendFactory), which take care of the address. */
  constructor(decl: TBackend, address: BackendAddress | Promise<BackendAddress>, probe: TProbe | undefined, options: BackendOptions) {
    const d = { ...BACKEND_DEFAULTS, ...options.defaults };
    this.name = decl.name;
    this.vclName = options.vclName;
    if (address instanceof Promise) {
      this.#resolving = address.then((a) => {
        this.#address = a;
        this.#resolving = null;
        return a;
      });
      this.#resolving.catch((err: unknown) => options.logger?.warn({ backend: this.fullName, error: errorMessage(err) }, `backend ${this.fullName}: ${errorMessage(err)}`));
    } else {
      this.#address = address;
    }
    this.hostHeader = decl.hostHeader ?? decl.host ?? '0.0.0.0';
    this.maxConnections = decl.maxConnections && decl.maxConnections > 0 ? decl.maxConnections : undefined;
    this.proxyHeader = decl.proxyHeader;
    this.preamble = decl.preamble ? Buffer.from(decl.preamble, 'base64') : undefined;
    this.connectTimeout = decl.connectTimeout ?? d.connectTimeout;
    this.firstByteTimeout = decl.firstByteTimeout ?? d.firstByteTimeout;
    this.betweenBytesTimeout = decl.betweenBytesTimeout ?? d.betweenBytesTimeout;
    this.#global = options.globalCounters ?? newBackendGlobalCounters();
    this.#defaults = options.defaults;
    this.#pool = new ConnectionPool(d.idleTimeout * 1000);
    this.#maxHeaderSize = d.maxHeaderSize;
    this.#onHealthChange = options.onHealthChange;
    this.#probe = probe
      ? new Probe(
          probeSettings(probe),
          { name: this.fullName, address: () => this.#address, hostHeader: this.hostHeader },
          (changed) => this.#probed(changed),
          options.logger,
        )
      : null;
    if (this.#probe) this.counters.happy = this.#probe.happyBits;
  }

  /** Where it connects; null while its host name is still being resolved. */
  get address(): BackendAddress | null {
    return this.#address;
  }

  /** `vcl.name`, as the operator sees it. */
  get fullName(): string {
    return `${this.vclName}.${this.name}`;
  }

  /** When the health or admin state last changed, in seconds since the epoch. */
  get changed(): number {
    return this.#changed;
  }

  healthy(_ctx: VmodContext | null): boolean {
    if (this.#admin !== 'auto') return this.#admin === 'healthy';
    return this.#probe === null || this.#probe.healthy;
  }

  resolve(_ctx: VmodContext): Director {
    return this;
  }

  /** backend.set_health. */
  setHealth(admin: AdminHealth): void {
    if (admin === this.#admin) return;
    const was = this.healthy(null);
    this.#admin = admin;
    this.#changed = Date.now() / 1000;
    if (this.healthy(null) !== was) this.#onHealthChange?.(this, !was);
  }

  describe(): BackendDescription {
    const probe = this.#probe;
    const status = probe?.status();
    const admin = this.#admin === 'auto' ? (probe ? 'probe' : 'healthy') : this.#admin;
    return {
      name: this.fullName,
      admin,
      probe: status ? `${status.good}/${status.window}` : '0/0',
      health: !probe || probe.healthy ? 'healthy' : 'sick',
      lastChange: this.#changed,
      ...(status ? { probeStatus: status } : {}),
    };
  }

  // The runtime's VclBackend lifecycle (src/runtime/backends.ts).
  warm(): void {
    this.start();
  }
  cold(): void {
    this.stop();
  }
  discard(): void {
    this.close().catch(() => {});
  }

  /** The VCL went warm: probing starts. */
  start(): void {
    this.#probe?.start();
  }

  /** The VCL went cold: probing stops. */
  stop(): void {
    this.#probe?.stop();
  }

  /**
   * A VMOD deleted this backend (a dynamic one) while its VCL lives on: probing stops, fetches
   * in flight finish, then the pool closes. Pipes hold their own sockets and are not cut.
   */
  retire(): void {
    this.stop();
    this.#retired = true;
    this.#pool.closeAll();
  }

  /** The VCL is discarded: probing stops and connections close. */
  async close(): Promise<void> {
    this.stop();
    this.#retired = true;
    this.#pool.closeAll();
    for (const conn of this.#busy) conn.destroy();
  }

  /**
   * Sends a request and resolves with the response head and a streamed body, or with a failure
   * value (never rejects). The body's iterator throws a BackendBodyError if it cannot finish.
   */
  fetch(req: FetchRequest, opts: FetchOptions = {}): Promise<FetchResult> {
    const refused = this.#admit();
    if (refused) return Promise.resolve(refused);
    const body = req.body ?? null;
    const head = prepareHeaders(req.method, req.url, req.headers, this.hostHeader, body !== null && !(body instanceof Uint8Array));
    this.counters.req++;
    this.#global.backend_req++;
    this.counters.bereq_hdrbytes += head.bytes;
    // A PROXY preamble names one client: such a connection carries this request only.
    const single = this.proxyHeader ? proxyPreamble(this.proxyHeader, opts.proxy) : null;
    const plan = {
      backendName: this.fullName,
      method: req.method,
      url: req.url,
      proto: req.proto ?? 'HTTP/1.1',
      headers: head.flat,
      body,
      firstByteMs: (opts.firstByteTimeout ?? this.firstByteTimeout) * 1000,
      betweenBytesMs: (opts.betweenBytesTimeout ?? this.betweenBytesTimeout) * 1000,
      headLimits: opts.headLimits ?? { lineBytes: Number.POSITIVE_INFINITY, headBytes: this.#maxHeaderSize },
      signal: opts.signal,
      counters: this.counters,
      onDone: (conn: BackendConnection, reusable: boolean) => {
        this.#active--;
        this.#busy.delete(conn);
        if (!reusable || single !== null || this.#retired) {
          conn.destroy();
          return;
        }
        this.#global.backend_recycle++;
        this.#pool.put(conn);
      },
    };
    const attempt = async (fresh: boolean): Promise<ExchangeResult> => {
      const conn = (!fresh && single === null ? this.#pool.take() : null) ?? (await this.#open(single));
      if (!(conn instanceof BackendConnection)) {
        this.#active--;
        const kind = classifyError(conn);
        const what = kind === 'refused' ? 'connection refused' : kind === 'connect_timeout' ? 'connect timeout' : errorMessage(conn);
        return { result: { ok: false, kind, message: `backend ${this.fullName}: ${what}`, code: errorCode(conn) }, retryable: false };
      }
      if (conn.requests > 0) this.#global.backend_reuse++;
      this.#busy.add(conn);
      return runExchange(plan, conn);
    };
    // A kept-alive connection the backend closed before answering: Varnish tries once more on
    // a new one (backend_retry), when the request body can be sent again.
    const again = body === null || body instanceof Uint8Array;
    return attempt(false).then((r) => {
      if (!r.retryable || !again) return r.result;
      this.#global.backend_retry++;
      this.#active++;
      return attempt(true).then((second) => second.result);
    });
  }

  /** A new connection, its preambles written (a PROXY header first); the error when it cannot be had. */
  #open(proxy: Buffer | null): Promise<BackendConnection | Error> {
    return new Promise((resolve) => {
      this.#connect((err, socket) => {
        if (err) {
          resolve(err);
          return;
        }
        if (proxy !== null) socket!.write(proxy);
        if (this.preamble) socket!.write(this.preamble);
        resolve(new BackendConnection(socket!));
      });
    });
  }

  /**
   * Opens a raw connection for a pipe, within max_connections and connect_timeout. Call the
   * returned `release` when the tunnel is over.
   */
  openTunnel(proxy?: ProxyAddresses): Promise<{ ok: true; socket: Socket; release: () => void } | BackendFailure> {
    const refused = this.#admit();
    if (refused) return Promise.resolve(refused);
    this.counters.req++;
    this.#global.backend_req++;
    // As Varnish: an idle kept-alive connection is taken first (it never goes back).
    const pooled = this.proxyHeader ? null : this.#pool.take();
    const opened = pooled !== null ? Promise.resolve(pooled) : this.#open(this.proxyHeader ? proxyPreamble(this.proxyHeader, proxy) : null);
    return opened.then((conn) => {
      if (!(conn instanceof BackendConnection)) {
        this.#active--;
        const where = this.#address ? addressText(this.#address) : (this.hostHeader ?? '?');
        const message = `backend ${this.fullName}: pipe connect to ${where} failed (${errorMessage(conn)})`;
        return { ok: false, kind: classifyError(conn), message, code: errorCode(conn) };
      }
      if (pooled !== null) this.#global.backend_reuse++;
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        this.#active--;
      };
      return { ok: true, socket: conn.detach(), release };
    });
  }

  /** Opens a connection, counting it (and a failure, by its cause) as Varnish does. */
  #connect(done: ConnectCallback): void {
    // A holddown after a failed connection: fail at once, as Varnish's pools do (VBE.*.helddown).
    // Only new connections wait it out; idle kept-alive ones still carry requests.
    if (this.#heldUntil > 0) {
      if (Date.now() < this.#heldUntil) {
        this.counters.helddown++;
        this.counters.fail++;
        this.#global.backend_fail++;
        done(Object.assign(new Error('no connection tried: holding down after a failed one'), { code: 'EHOLDDOWN' }), null);
        return;
      }
      this.#heldUntil = 0;
    }
    if (this.#address === null) {
      const pending = this.#resolving;
      if (pending === null) {
        done(new Error('backend address unknown'), null);
        return;
      }
      pending.then(
        () => this.#connect(done),
        (err: unknown) => {
          this.#countConnectFailure(err);
          done(err instanceof Error ? err : new Error(String(err)), null);
        },
      );
      return;
    }
    // Half-open allowed: a pipe (which may take a pooled connection) passes half-closes on, and
    // the response reader ends a connection itself when the backend ends its side.
    connectBackend(this.#address, this.connectTimeout * 1000, true, (err, socket) => {
      if (err) {
        this.#countConnectFailure(err);
        done(err, null);
        return;
      }
      this.counters.conn++;
      this.#global.backend_conn++;
      socket!.once('close', () => {
        this.counters.conn--;
      });
      done(null, socket);
    });
  }

  /** Checks health and max_connections; takes a connection slot when the fetch may go. */
  #admit(): BackendFailure | null {
    if (!this.healthy(null)) {
      this.counters.unhealthy++;
      this.#global.backend_unhealthy++;
      return { ok: false, kind: 'unhealthy', message: `backend ${this.fullName}: unhealthy`, code: undefined };
    }
    if (this.maxConnections !== undefined && this.#active >= this.maxConnections) {
      this.counters.busy++;
      this.#global.backend_busy++;
      return { ok: false, kind: 'busy', message: `backend ${this.fullName}: busy (max_connections ${this.maxConnections})`, code: undefined };
    }
    this.#active++;
    return null;
  }

  #countConnectFailure(err: unknown): void {
    this.counters.fail++;
    this.#global.backend_fail++;
    const kind = classifyError(err);
    const holddown = HOLDDOWN[errorCode(err) ?? ''];
    if (holddown !== undefined) {
      const seconds = this.#defaults?.[holddown] ?? BACKEND_DEFAULTS[holddown];
      if (seconds > 0) this.#heldUntil = Date.now() + seconds * 1000;
    }
    if (kind === 'refused') this.counters.fail_econnrefused++;
    else if (kind === 'connect_timeout') this.counters.fail_etimedout++;
    else this.counters.fail_other++;
  }

  #probed(changed: boolean): void {
    if (changed) this.#changed = Date.now() / 1000;
    if (this.#probe) this.counters.happy = this.#probe.happyBits;
    if (changed && this.#admin === 'auto') this.#onHealthChange?.(this, this.healthy(null));
  }
}
