// The dynamic VMOD (see vmod.vcc). A director hands out one Domain per host and port asked for;
// its backends are made with ctx.newBackend, owned by the VCL, shared per address (share =
// DIRECTOR) or per name and address (share = HOST), and retired with ctx.deleteBackend when no
// domain uses them. PRIV_VCL lists the directors, so the event function can start the lookups
// when the VCL goes warm and stop them when it goes cold.

import type { AclRef, Director, JobHandle, PrivHolder, ProbeRef, VclEvent, VmodContext, VmodEventContext } from '../../src/vmod/api.ts';
import { parseIp } from '../../src/vmod/api.ts';
import { type BackendPool, Domain } from './domain.ts';
import * as self from './index.ts';
import type { VmodDynamic } from './interface.ts';

/** Service names upstream's getaddrinfo knows that VCL uses; anything else must be a number. */
const SERVICES: Readonly<Record<string, string>> = { http: '80', https: '443' };

interface Shared {
  readonly backend: Director;
  users: number;
}

interface DirectorOptions {
  readonly hostHeader: string | null;
  readonly share: 'DIRECTOR' | 'HOST';
  readonly probe: ProbeRef | null;
  readonly whitelist: AclRef | null;
  readonly connectTimeout: number;
  readonly firstByteTimeout: number;
  readonly betweenBytesTimeout: number;
  readonly domainUsageTimeout: number;
  readonly maxConnections: number;
}

type Directors = DynamicDirector[];

class DynamicDirector implements BackendPool {
  readonly name: string;
  readonly ttl: number;
  readonly firstLookupTimeout: number;
  readonly #port: string;
  readonly #options: DirectorOptions;
  /** The context backends are made and retired with: vcl_init's, whose VCL owns them. */
  readonly #owner: VmodContext;
  readonly #domains = new Map<string, Domain>();
  readonly #backends = new Map<string, Shared>();
  #warm = true;
  #debug = false;

  constructor(
    ctx: VmodContext,
    vclName: string,
    vcl: PrivHolder<Directors>,
    port: string | null,
    host_header: string | null,
    share: 'DIRECTOR' | 'HOST',
    probe: ProbeRef | null,
    whitelist: AclRef | null,
    ttl: number,
    connect_timeout: number,
    first_byte_timeout: number,
    between_bytes_timeout: number,
    domain_usage_timeout: number,
    first_lookup_timeout: number,
    max_connections: number,
    _proxy_header: number,
    _resolver: Uint8Array | null,
    _ttl_from: 'cfg' | 'dns' | 'min' | 'max',
  ) {
    this.name = vclName;
    this.#port = portNumber(ctx, port || 'http');
    this.ttl = ttl;
    this.firstLookupTimeout = first_lookup_timeout;
    this.#owner = ctx;
    this.#options = {
      hostHeader: host_header,
      share,
      probe,
      whitelist,
      connectTimeout: connect_timeout,
      firstByteTimeout: first_byte_timeout,
      betweenBytesTimeout: between_bytes_timeout,
      domainUsageTimeout: domain_usage_timeout,
      maxConnections: max_connections,
    };
    vcl.priv ??= [];
    vcl.priv.push(this);
  }

  /** The domain for a name, looked up on first use (the caller waits for that lookup). */
  async backend(ctx: VmodContext, host: string | null, port: string | null): Promise<Director | null> {
    const name = host || ctx.http('bereq')?.get('host') || ctx.http('req')?.get('host');
    if (!name) {
      ctx.log(`vmod-dynamic: ${this.name} no host to resolve`);
      return null;
    }
    const p = port ? portNumber(ctx, port) : this.#port;
    const key = `${name}:${p}`;
    let domain = this.#domains.get(key);
    if (domain === undefined) {
      domain = new Domain(this, name, p, ctx.now);
      this.#domains.set(key, domain);
      if (this.#warm) domain.start();
      await domain.ready;
      // A name that does not resolve is not kept: Host headers of any kind must not pile up
      // domains and timers. The next request for it looks it up afresh.
      if (domain.addresses.length === 0) {
        domain.drop();
        this.#domains.delete(key);
        ctx.log(`vmod-dynamic: ${this.name} ${key} did not resolve`);
      }
    }
    domain.lastUsed = ctx.now;
    await domain.ready;
    return domain;
  }

  debug(_ctx: VmodContext, on: boolean): void {
    this.#debug = on;
  }

  allowed(address: string): boolean {
    const acl = this.#options.whitelist;
    if (acl === null) return true;
    const ok = acl.match(parseIp(address, 0));
    if (!ok) this.#owner.log(`vmod-dynamic: ${this.name} whitelist mismatch ${address}`);
    return ok;
  }

  acquire(domain: Domain, address: string): Director {
    const o = this.#options;
    const id = o.share === 'HOST' ? `${domain.host}.${address}:${domain.port}` : `${address}:${domain.port}`;
    let shared = this.#backends.get(id);
    if (shared === undefined) {
      const backend = this.#owner.newBackend({
        name: `${this.name}(${id})`,
        host: address,
        port: domain.port,
        hostHeader: o.hostHeader ?? (o.share === 'HOST' ? domain.host : undefined),
        connectTimeout: o.connectTimeout > 0 ? o.connectTimeout : undefined,
        firstByteTimeout: o.firstByteTimeout > 0 ? o.firstByteTimeout : undefined,
        betweenBytesTimeout: o.betweenBytesTimeout > 0 ? o.betweenBytesTimeout : undefined,
        maxConnections: o.maxConnections > 0 ? o.maxConnections : undefined,
        probe: o.probe,
      });
      shared = { backend, users: 0 };
      this.#backends.set(id, shared);
      this.log(`vmod-dynamic: ${this.name} added backend ${backend.name}`);
    }
    shared.users++;
    return shared.backend;
  }

  release(domain: Domain, address: string): void {
    const id = this.#options.share === 'HOST' ? `${domain.host}.${address}:${domain.port}` : `${address}:${domain.port}`;
    const shared = this.#backends.get(id);
    if (shared === undefined || --shared.users > 0) return;
    this.#backends.delete(id);
    this.#owner.deleteBackend(shared.backend);
    this.log(`vmod-dynamic: ${this.name} deleted backend ${shared.backend.name}`);
  }

  log(message: string): void {
    if (this.#debug) this.#owner.log(message);
  }

  every(seconds: number, fn: () => void): JobHandle {
    // The platform's jobs run while the VCL is warm and are cancelled when it goes cold.
    const handle = this.#owner.vmod('dynamic');
    if (handle === null) throw new Error('dynamic: no platform handle');
    return handle.every(seconds, fn);
  }

  /** Drops a name nobody asked for in domain_usage_timeout, with its backends. */
  dropIfUnused(domain: Domain, now: number): boolean {
    if (now - domain.lastUsed <= this.#options.domainUsageTimeout) return false;
    domain.drop();
    this.#domains.delete(`${domain.host}:${domain.port}`);
    this.log(`vmod-dynamic: ${domain.name} unused, dropped`);
    return true;
  }

  /** Starts or stops the lookups with the VCL's temperature. */
  setWarm(warm: boolean, now: number): void {
    this.#warm = warm;
    for (const domain of this.#domains.values()) {
      if (this.dropIfUnused(domain, now)) continue;
      if (warm) domain.start();
      else domain.stop();
    }
  }

  discard(): void {
    for (const domain of this.#domains.values()) domain.stop();
    this.#domains.clear();
  }

  /** Every backend this director made, in the order they were made (tests read it). */
  get backendNames(): string[] {
    return [...this.#backends.values()].map((s) => s.backend.name);
  }
}
export { DynamicDirector as director };

function portNumber(ctx: VmodContext, port: string): string {
  const p = SERVICES[port] ?? port;
  if (!/^\d+$/.test(p) || Number(p) > 65535) ctx.fail(`dynamic: bad port '${port}'`);
  return p;
}

/** Accepted for VCL written for upstream; resolution always uses the system's resolver. */
class Resolver {
  use(_ctx: VmodContext): Uint8Array {
    return new Uint8Array(0);
  }
}
export { Resolver as resolver };

/** Lookups run while the VCL is warm; a discarded VCL's directors give their backends back. */
export function on_event(_ctx: VmodEventContext, vcl: PrivHolder<Directors>, event: VclEvent): number {
  const now = Date.now() / 1000;
  for (const d of vcl.priv ?? []) {
    if (event === 'warm') d.setWarm(true, now);
    else if (event === 'cold') d.setWarm(false, now);
    else if (event === 'discard') d.discard();
  }
  return 0;
}

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies VmodDynamic<{ vcl: Directors }>;
