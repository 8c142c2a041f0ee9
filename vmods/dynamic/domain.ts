// One name a dynamic director was asked for (upstream's "domain"): a director over one backend
// per address the name resolves to, chosen in turn among the healthy ones, and refreshed every
// ttl by a platform job that runs while the VCL is warm. A failed lookup leaves the backends as they
// are, as upstream's does.

import type { Director, JobHandle, VmodContext } from '../../src/vmod/api.ts';
import { lookupWithin } from './lookup.ts';

/** What a domain needs from its director: backends by address, shared as `share` says. */
export interface BackendPool {
  readonly name: string;
  readonly ttl: number;
  readonly firstLookupTimeout: number;
  /** Addresses the whitelist keeps. */
  allowed(address: string): boolean;
  acquire(domain: Domain, address: string): Director;
  release(domain: Domain, address: string): void;
  /** Drops the domain when it went unused for domain_usage_timeout; true when it did. */
  dropIfUnused(domain: Domain, now: number): boolean;
  log(message: string): void;
  /** Runs `fn` every `seconds` as a platform job (cancelled with the VCL going cold). */
  every(seconds: number, fn: () => void): JobHandle;
}

export class Domain implements Director {
  readonly name: string;
  readonly type = 'dynamic';
  readonly host: string;
  readonly port: string;
  readonly #pool: BackendPool;
  /** Backends by address, in the order of the last answer. */
  #backends = new Map<string, Director>();
  #next = 0;
  #job: JobHandle | null = null;
  /** The first lookup, which the first requests wait for. */
  readonly ready: Promise<void>;
  lastUsed: number;

  constructor(pool: BackendPool, host: string, port: string, now: number) {
    this.#pool = pool;
    this.host = host;
    this.port = port;
    this.name = `${pool.name}(${host}:${port})`;
    this.lastUsed = now;
    this.ready = this.refresh();
  }

  get addresses(): string[] {
    return [...this.#backends.keys()];
  }

  healthy(ctx: VmodContext | null): boolean {
    for (const b of this.#backends.values()) if (b.healthy(ctx)) return true;
    return false;
  }

  resolve(ctx: VmodContext): Director | null {
    const list = [...this.#backends.values()];
    for (let i = 0; i < list.length; i++) {
      const b = list[(this.#next + i) % list.length];
      if (b.healthy(ctx)) {
        this.#next = (this.#next + i + 1) % list.length;
        return b.resolve(ctx);
      }
    }
    return null;
  }

  /**
   * Looks the name up and follows the answer: new addresses get backends, gone ones lose them.
   * Never rejects: it runs from a timer, where a rejection would be nobody's to catch.
   */
  async refresh(): Promise<void> {
    let answer: string[];
    try {
      answer = await lookupWithin(this.host, this.#pool.firstLookupTimeout);
    } catch (e) {
      this.#pool.log(`vmod-dynamic: ${this.name} getaddrinfo failed (${(e as Error).message})`);
      return;
    }
    try {
      this.#follow([...new Set(answer)].filter((a) => this.#pool.allowed(a)));
    } catch (e) {
      // A backend that cannot be made (the VCL was discarded meanwhile): keep what there is.
      this.#pool.log(`vmod-dynamic: ${this.name} update failed (${(e as Error).message})`);
    }
  }

  #follow(wanted: string[]): void {
    const fresh = new Map<string, Director>();
    for (const address of wanted) fresh.set(address, this.#backends.get(address) ?? this.#pool.acquire(this, address));
    for (const address of this.#backends.keys()) if (!fresh.has(address)) this.#pool.release(this, address);
    if (wanted.length !== this.#backends.size || wanted.some((a) => !this.#backends.has(a))) {
      this.#pool.log(`vmod-dynamic: ${this.name} addresses ${wanted.join(' ') || 'none'}`);
    }
    this.#backends = fresh;
  }

  /** Starts the refresh job (the VCL is warm). */
  start(): void {
    if (this.#job !== null && !this.#job.cancelled) return;
    this.#job = this.#pool.every(Math.max(this.#pool.ttl, 0.01), () => {
      if (!this.#pool.dropIfUnused(this, Date.now() / 1000)) void this.refresh();
    });
  }

  stop(): void {
    this.#job?.cancel();
    this.#job = null;
  }

  /** Stops and gives every backend back. */
  drop(): void {
    this.stop();
    for (const address of this.#backends.keys()) this.#pool.release(this, address);
    this.#backends.clear();
  }
}
