// A VmodContext for calling VMOD implementations directly in tests, without a compiled VCL: it
// holds the HTTP objects a test gives it, records what the VMOD asks of the runtime (log lines,
// bans, rollbacks, purges, TOS changes) and answers with what the test configured. Every VMOD
// test can share it; tests that need the real thing run VCL text through the runtime instead.

import type {
  BackendSpec,
  Director,
  HeaderRef,
  HttpWhere,
  ParamReading,
  PeerCredentials,
  PrivHolder,
  PurgeOptions,
  VclHttp,
  VclIp,
  VmodContext,
} from '../../src/vmod/api.ts';
import { readHeaderRef, VmodFailure, writeHeaderRef } from '../../src/vmod/api.ts';
import type { SubName } from '../../src/vcl/spec.ts';

export interface TestContextOptions {
  method?: SubName | null;
  vclName?: string;
  xid?: number;
  now?: number;
  http?: Partial<Record<HttpWhere, VclHttp>>;
  clientIp?: VclIp | null;
  /** What ctx.ban answers: null accepts, a string is the refusal; a function sees the expression. */
  ban?: string | null | ((expression: string) => string | null);
  /** The request body std.cache_req_body may cache (as bytes); null when there is none. */
  body?: Uint8Array | null;
  /** What ctx.setIpTos answers. */
  ipTos?: boolean;
  /** What ctx.peerCredentials answers; not a Unix socket by default. */
  peer?: PeerCredentials;
  /** What ctx.proxyTlv answers, by TLV type; none by default. */
  proxyTlvs?: Record<number, Uint8Array>;
  backends?: Record<string, Director>;
  /** What ctx.param answers, by parameter name. */
  params?: Record<string, ParamReading>;
}

export class TestContext implements VmodContext {
  method: SubName | null;
  readonly vclName: string;
  readonly xid: number;
  now: number;
  readonly clientIp: VclIp | null;
  readonly serverIp: VclIp | null = null;
  readonly localIp: VclIp | null = null;
  readonly remoteIp: VclIp | null = null;
  reqBody: Uint8Array | null = null;

  /** Everything passed to log(), in order. */
  readonly logs: string[] = [];
  /** Every ban expression the VMOD added. */
  readonly bans: string[] = [];
  readonly rollbacks: HttpWhere[] = [];
  readonly purges: PurgeOptions[] = [];
  readonly tosValues: number[] = [];
  /** Backends made with newBackend and not deleted, in order. */
  readonly madeBackends: TestBackend[] = [];

  /** No VCL runs a test context: no VMOD has a platform handle here. */
  vmod(): null {
    return null;
  }

  readonly #privs = new Map<object, PrivHolder>();

  /** One holder per key for the life of the context (one task; top and task are the same here). */
  privTask(key: object): PrivHolder {
    let h = this.#privs.get(key);
    if (h === undefined) {
      h = { priv: undefined };
      this.#privs.set(key, h);
    }
    return h;
  }

  privTop(key: object): PrivHolder {
    return this.privTask(key);
  }

  readonly #http: Partial<Record<HttpWhere, VclHttp>>;
  readonly #ban: TestContextOptions['ban'];
  readonly #body: Uint8Array | null;
  readonly #ipTos: boolean;
  readonly #peer: PeerCredentials;
  readonly #proxyTlvs: Record<number, Uint8Array>;
  readonly #backends: Record<string, Director>;
  readonly #params: Record<string, ParamReading>;

  constructor(options: TestContextOptions = {}) {
    this.method = options.method === undefined ? 'vcl_recv' : options.method;
    this.vclName = options.vclName ?? 'test';
    this.xid = options.xid ?? 1001;
    this.now = options.now ?? 1_700_000_000;
    this.#http = { ...options.http };
    this.clientIp = options.clientIp ?? null;
    this.#ban = options.ban ?? null;
    this.#body = options.body ?? null;
    this.#ipTos = options.ipTos ?? true;
    this.#peer = options.peer ?? { error: 'not a Unix domain socket' };
    this.#proxyTlvs = options.proxyTlvs ?? {};
    this.#backends = options.backends ?? {};
    this.#params = options.params ?? {};
  }

  http(where: HttpWhere): VclHttp | null {
    return this.#http[where] ?? null;
  }

  getHeader(ref: HeaderRef): string | null {
    return readHeaderRef(this, ref);
  }

  setHeader(ref: HeaderRef, value: string | null): void {
    writeHeaderRef(this, ref, value);
  }

  log(message: string): void {
    this.logs.push(message);
  }

  fail(message: string): never {
    throw new VmodFailure(message);
  }

  cacheReqBody(max: number): boolean {
    const body = this.#body;
    if (body === null || body.length > max) return false;
    this.reqBody = body;
    return true;
  }

  rollback(where: HttpWhere): void {
    this.rollbacks.push(where);
  }

  ban(expression: string): string | null {
    const answer = typeof this.#ban === 'function' ? this.#ban(expression) : this.#ban;
    if (answer === null) this.bans.push(expression);
    return answer ?? null;
  }

  purge(options: PurgeOptions): number {
    this.purges.push(options);
    return 1;
  }

  setIpTos(tos: number): boolean {
    if (this.#ipTos) this.tosValues.push(tos);
    return this.#ipTos;
  }

  backend(name: string): Director | null {
    return this.#backends[name] ?? null;
  }

  peerCredentials(): PeerCredentials {
    return this.#peer;
  }

  proxyTlv(type: number): Uint8Array | null {
    return this.#proxyTlvs[type] ?? null;
  }

  param(name: string): ParamReading | undefined {
    return this.#params[name];
  }

  newBackend(spec: BackendSpec): Director {
    const b = new TestBackend(spec.name);
    this.madeBackends.push(b);
    return b;
  }

  deleteBackend(backend: Director): void {
    const i = this.madeBackends.indexOf(backend as TestBackend);
    if (i >= 0) this.madeBackends.splice(i, 1);
  }
}

/** A backend whose health a test flips. */
export class TestBackend implements Director {
  readonly name: string;
  readonly type = 'backend';
  sick = false;

  constructor(name: string) {
    this.name = name;
  }

  healthy(): boolean {
    return !this.sick;
  }

  resolve(): Director | null {
    return this;
  }
}
