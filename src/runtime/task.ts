// The task context compiled VCL runs against: one per client request and one per backend fetch
// (plus one for vcl_init / vcl_fini), as Varnish's req and busyobj. It holds the HTTP objects,
// the addresses, the per-side fields VCL variables read and write (their accessors live in
// variables.ts, derived from the spec table), the hash being built, the synthetic body, the
// PRIV_TASK / PRIV_TOP stores, and it is the VmodContext every VMOD call receives.
//
// Fields are public and plain so that the proxy's state machines and the generated code reach
// them directly; what a field means is the VCL variable named beside it.

import { byteStringToBuffer } from '../common/byte-string.ts';
import { hashKeyOf } from './hash-key.ts';
import { Params } from '../common/params.ts';
import type { BackendSpec, CacheObjects, Director, HeaderRef, HttpWhere, ParamReading, PeerCredentials, PrivHolder, PurgeOptions, VmodContext, VmodFilter, VmodHousekeeping } from '../vmod/api.ts';
import { readHeaderRef, VmodFailure, writeHeaderRef } from '../vmod/api.ts';
import type { SubName } from '../vcl/spec.ts';
import type { VclHttp } from './http.ts';
import type { VclIp } from '../common/ip.ts';

/** The parameter table's defaults, for a task made outside a server. */
const PARAM_DEFAULTS = new Params().values;

export type TaskSide = 'client' | 'backend' | 'housekeeping';

/** A storage backend as VCL sees it: `storage.NAME.*`, `req.storage`, `beresp.storage`. */
export interface StorageInfo {
  readonly name: string;
  readonly freeSpace: number;
  readonly usedSpace: number;
  readonly happy: boolean;
}

/** What `obj.*` reads besides the stored headers: the cache provides it on a hit. */
export interface CachedObjectInfo {
  readonly hits: number;
  /** When the object was made, seconds since the epoch (Varnish's t_origin). */
  readonly origin: number;
  readonly ttl: number;
  readonly grace: number;
  readonly keep: number;
  readonly uncacheable: boolean;
  readonly canEsi: boolean;
  readonly storage: StorageInfo | null;
}

/**
 * Services a task reaches outside itself. One object shared by every task of a process (so a
 * task costs no allocation for them); each member is optional and has a harmless default.
 */
export interface TaskServices {
  /** std.log and friends (Varnish's VCL_Log). */
  log?(task: VclTask, message: string): void;
  /** Adds a ban; null when accepted, else the reason it was refused. */
  ban?(expression: string): string | null;
  purge?(task: VclTask, options: PurgeOptions): number;
  cacheReqBody?(task: VclTask, max: number): Promise<boolean> | boolean;
  /** Restores an HTTP object to what it was when received (std.rollback). */
  rollback?(task: VclTask, where: HttpWhere): void;
  setIpTos?(task: VclTask, tos: number): boolean;
  /** The cache's objects, for a VMOD that indexes them (xkey). */
  readonly objects?: CacheObjects;
  /** The credentials of the client process on a Unix socket (the unix VMOD). */
  peerCredentials?(task: VclTask): PeerCredentials | Promise<PeerCredentials>;
  /** A PROXY v2 TLV of the client connection (the proxy VMOD). */
  proxyTlv?(task: VclTask, type: number): Uint8Array | null;
  /** resp.filters as the delivery would choose them (when VCL has not set the list). */
  respFilters?(task: VclTask): string;
  /** The live parameter values (Params.values), for VMODs that read one. */
  readonly params?: Readonly<Record<string, ParamReading>>;
  /** server.hostname and server.identity (`-i`); the host name by default. */
  readonly hostname?: string;
  readonly identity?: string;
}

/** What a task needs from the VCL running it; LoadedVcl provides it. */
export interface TaskVcl {
  readonly name: string;
  backend(name: string): Director | null;
  /** A backend a VMOD makes at run time, owned by this VCL (see VmodContext.newBackend). */
  newBackend?(spec: BackendSpec): Director;
  deleteBackend?(backend: Director): void;
  /** The platform handle of an imported VMOD (see VmodContext.vmod). */
  vmodHandle?(name: string): VmodHousekeeping | null;
  /** A body filter a VMOD added to this VCL (beresp.filters, resp.filters name it). */
  filter?(name: string): VmodFilter | undefined;
}

const NO_SERVICES: TaskServices = {};

/** Makes a task's resp on first read (see VclTask.respMaker). */
export interface RespMaker {
  makeResp(): VclHttp;
}

/**
 * The backend side's variables, apart from the task so that a client task (one per request,
 * a hit's included) does not carry some 25 fields it never uses. VclTask reads and writes them
 * through accessors (one pair per field): a client task reads the defaults.
 */
export class BackendVars {
  /** bereq.backend. */
  bereqBackend: Director | null = null;
  /** bereq.*_timeout: 0 until VCL sets them, meaning "the backend's or the parameter's". */
  connectTimeout = 0;
  firstByteTimeout = 0;
  betweenBytesTimeout = 0;
  /** `unset bereq.body` was run: send no body. */
  bereqBodyUnset = false;
  isBgfetch = false;
  retries = 0;
  bereqTime = 0;
  /** bereq.uncacheable: a pass, or a fetch after hit-for-pass. */
  uncacheable = false;
  berespAge = 0;
  berespBackend: Director | null = null;
  berespBackendIp: VclIp | null = null;
  doEsi = false;
  doGunzip = false;
  doGzip = false;
  doStream = true;
  /** beresp.filters as VCL set it; null: the default list, made when read. */
  berespFilters: string | null = null;
  ttl = 0;
  grace = 0;
  keep = 0;
  berespUncacheable = false;
  was304 = false;
  berespStorage: StorageInfo | null = null;
  storageHint: string | null = null;
  berespTime = 0;
}

/** What a client task reads of the backend side's variables. */
const BACKEND_DEFAULTS: Readonly<BackendVars> = Object.freeze(new BackendVars());

export class VclTask implements VmodContext {
  readonly side: TaskSide;
  readonly services: TaskServices;
  /** The VCL running this task (set by LoadedVcl.run). */
  vcl: TaskVcl | null = null;
  /** The sub being run. */
  method: SubName | null = null;
  /** The transaction id: req.xid, bereq.xid. */
  xid = 0;
  /** Index into the running VCL's position table: the VCL expression being evaluated. */
  at = 0;
  #now = 0;
  #nowKnown = false;

  // The HTTP objects: req, bereq, beresp, obj (stored headers), resp.
  req: VclHttp | null = null;
  bereq: VclHttp | null = null;
  beresp: VclHttp | null = null;
  #obj: VclHttp | null = null;
  /**
   * Where obj comes from until it is first read: a hit's object, whose stored head is decoded
   * only when VCL (or the delivery) asks for obj.http. Setting obj drops it.
   */
  objFrom: { readonly http: VclHttp } | null = null;
  #resp: VclHttp | null = null;
  /**
   * What makes resp when it is first read, while it has not been made: a hit's deliver step
   * leaves it so (client.ts), and a hit that nothing asks resp of is written from the object's
   * stored head without one. Setting resp drops it.
   */
  respMaker: RespMaker | null = null;

  get obj(): VclHttp | null {
    if (this.objFrom !== null) {
      this.#obj = this.objFrom.http;
      this.objFrom = null;
    }
    return this.#obj;
  }

  set obj(http: VclHttp | null) {
    this.#obj = http;
    this.objFrom = null;
  }

  /** A hit's object becomes VCL's obj: its numbers at once, its headers when first read. */
  useObject(obj: CachedObjectInfo & { readonly http: VclHttp }): void {
    this.objInfo = obj;
    this.objFrom = obj;
  }

  /** The task of the top request (this one unless ESI); null on the backend side. */
  top: VclTask | null;

  // Connection: client.ip, server.ip, remote.ip, local.ip, local.endpoint, local.socket.
  clientIp: VclIp | null = null;
  serverIp: VclIp | null = null;
  remoteIp: VclIp | null = null;
  localIp: VclIp | null = null;
  localEndpoint: string | null = null;
  localSocket: string | null = null;
  /** client.identity as set by VCL; null reads as client.ip. */
  clientIdentity: string | null = null;
  /** sess.xid. */
  sessXid = 0;

  // Client side.
  /**
   * req.backend_hint. `undefined` means "not chosen yet": LoadedVcl.run puts the VCL's default
   * backend there, and a switch to another VCL should reset it to undefined.
   */
  backendHint: Director | null | undefined = undefined;
  esi = true;
  esiLevel = 0;
  /** req.ttl and req.grace; -1 until VCL sets them (no limit). */
  reqTtl = -1;
  reqGrace = -1;
  hashAlwaysMiss = false;
  hashIgnoreBusy = false;
  hashIgnoreVary = false;
  isHitmiss = false;
  isHitpass = false;
  restarts = 0;
  reqStorage: StorageInfo | null = null;
  reqTime = 0;
  transport = 'HTTP/1';
  /** sess.* timeouts, seconds; the proxy fills them from its live parameters. */
  sendTimeout = PARAM_DEFAULTS.send_timeout;
  idleSendTimeout = PARAM_DEFAULTS.idle_send_timeout;
  timeoutIdle = PARAM_DEFAULTS.timeout_idle;
  timeoutLinger = PARAM_DEFAULTS.timeout_linger;
  /** The request body, once cached by std.cache_req_body. */
  reqBody: Uint8Array | null = null;

  // Backend side: bereq.* and beresp.* (BackendVars, above), read and written through
  // accessors, one pair per field (a pair made in a loop shares its property-access feedback
  // across fields, and a pass paid a megamorphic store for each write).
  /** A backend task's own variables; a client task never needs them (made if one is set). */
  be: BackendVars | null;
  get bereqBackend(): Director | null {
    return (this.be ?? BACKEND_DEFAULTS).bereqBackend;
  }
  set bereqBackend(value: Director | null) {
    this.#backendVars().bereqBackend = value;
  }
  get connectTimeout(): number {
    return (this.be ?? BACKEND_DEFAULTS).connectTimeout;
  }
  set connectTimeout(value: number) {
    this.#backendVars().connectTimeout = value;
  }
  get firstByteTimeout(): number {
    return (this.be ?? BACKEND_DEFAULTS).firstByteTimeout;
  }
  set firstByteTimeout(value: number) {
    this.#backendVars().firstByteTimeout = value;
  }
  get betweenBytesTimeout(): number {
    return (this.be ?? BACKEND_DEFAULTS).betweenBytesTimeout;
  }
  set betweenBytesTimeout(value: number) {
    this.#backendVars().betweenBytesTimeout = value;
  }
  get bereqBodyUnset(): boolean {
    return (this.be ?? BACKEND_DEFAULTS).bereqBodyUnset;
  }
  set bereqBodyUnset(value: boolean) {
    this.#backendVars().bereqBodyUnset = value;
  }
  get isBgfetch(): boolean {
    return (this.be ?? BACKEND_DEFAULTS).isBgfetch;
  }
  set isBgfetch(value: boolean) {
    this.#backendVars().isBgfetch = value;
  }
  get retries(): number {
    return (this.be ?? BACKEND_DEFAULTS).retries;
  }
  set retries(value: number) {
    this.#backendVars().retries = value;
  }
  get bereqTime(): number {
    return (this.be ?? BACKEND_DEFAULTS).bereqTime;
  }
  set bereqTime(value: number) {
    this.#backendVars().bereqTime = value;
  }
  get uncacheable(): boolean {
    return (this.be ?? BACKEND_DEFAULTS).uncacheable;
  }
  set uncacheable(value: boolean) {
    this.#backendVars().uncacheable = value;
  }
  get berespAge(): number {
    return (this.be ?? BACKEND_DEFAULTS).berespAge;
  }
  set berespAge(value: number) {
    this.#backendVars().berespAge = value;
  }
  get berespBackend(): Director | null {
    return (this.be ?? BACKEND_DEFAULTS).berespBackend;
  }
  set berespBackend(value: Director | null) {
    this.#backendVars().berespBackend = value;
  }
  get berespBackendIp(): VclIp | null {
    return (this.be ?? BACKEND_DEFAULTS).berespBackendIp;
  }
  set berespBackendIp(value: VclIp | null) {
    this.#backendVars().berespBackendIp = value;
  }
  get doEsi(): boolean {
    return (this.be ?? BACKEND_DEFAULTS).doEsi;
  }
  set doEsi(value: boolean) {
    this.#backendVars().doEsi = value;
  }
  get doGunzip(): boolean {
    return (this.be ?? BACKEND_DEFAULTS).doGunzip;
  }
  set doGunzip(value: boolean) {
    this.#backendVars().doGunzip = value;
  }
  get doGzip(): boolean {
    return (this.be ?? BACKEND_DEFAULTS).doGzip;
  }
  set doGzip(value: boolean) {
    this.#backendVars().doGzip = value;
  }
  get doStream(): boolean {
    return (this.be ?? BACKEND_DEFAULTS).doStream;
  }
  set doStream(value: boolean) {
    this.#backendVars().doStream = value;
  }
  get berespFilters(): string | null {
    return (this.be ?? BACKEND_DEFAULTS).berespFilters;
  }
  set berespFilters(value: string | null) {
    this.#backendVars().berespFilters = value;
  }
  get ttl(): number {
    return (this.be ?? BACKEND_DEFAULTS).ttl;
  }
  set ttl(value: number) {
    this.#backendVars().ttl = value;
  }
  get grace(): number {
    return (this.be ?? BACKEND_DEFAULTS).grace;
  }
  set grace(value: number) {
    this.#backendVars().grace = value;
  }
  get keep(): number {
    return (this.be ?? BACKEND_DEFAULTS).keep;
  }
  set keep(value: number) {
    this.#backendVars().keep = value;
  }
  get berespUncacheable(): boolean {
    return (this.be ?? BACKEND_DEFAULTS).berespUncacheable;
  }
  set berespUncacheable(value: boolean) {
    this.#backendVars().berespUncacheable = value;
  }
  get was304(): boolean {
    return (this.be ?? BACKEND_DEFAULTS).was304;
  }
  set was304(value: boolean) {
    this.#backendVars().was304 = value;
  }
  get berespStorage(): StorageInfo | null {
    return (this.be ?? BACKEND_DEFAULTS).berespStorage;
  }
  set berespStorage(value: StorageInfo | null) {
    this.#backendVars().berespStorage = value;
  }
  get storageHint(): string | null {
    return (this.be ?? BACKEND_DEFAULTS).storageHint;
  }
  set storageHint(value: string | null) {
    this.#backendVars().storageHint = value;
  }
  get berespTime(): number {
    return (this.be ?? BACKEND_DEFAULTS).berespTime;
  }
  set berespTime(value: number) {
    this.#backendVars().berespTime = value;
  }
  /** http_gzip_support, as the task started. */
  gzipSupport = true;

  // The object on a hit, and the response.
  objInfo: CachedObjectInfo | null = null;
  /** resp.filters as VCL set it; null: the default list, made when read. */
  respFilters: string | null = null;
  isStreaming = false;
  respTime = 0;

  /**
   * The synthetic body: resp.body in vcl_synth, beresp.body in vcl_backend_error. Text while
   * only strings are written to it; bytes once a BLOB is.
   */
  body: string | Uint8Array = '';

  /** What hash_data() fed so far, strands joined. */
  #hashInput = '';
  #key: string | null = null;
  #digest: Uint8Array | null = null;
  #privTask: Map<object, PrivHolder> | null = null;
  #privTop: Map<object, PrivHolder> | null = null;

  get resp(): VclHttp | null {
    const maker = this.respMaker;
    if (maker !== null) {
      this.respMaker = null;
      this.#resp = maker.makeResp();
    }
    return this.#resp;
  }

  set resp(http: VclHttp | null) {
    this.respMaker = null;
    this.#resp = http;
  }

  /** This task's BackendVars, made at its first write (a client task that sets one). */
  #backendVars(): BackendVars {
    if (this.be === null) this.be = new BackendVars();
    return this.be;
  }

  constructor(side: TaskSide, services: TaskServices = NO_SERVICES, top?: VclTask) {
    this.side = side;
    this.services = services;
    this.top = side === 'client' ? (top ?? this) : null;
    this.be = side === 'client' ? null : new BackendVars();
  }

  /**
   * VCL's `now`, seconds since the epoch: the time of the first read during one call of a
   * vcl_* sub, the same for the rest of it. Reading the clock only when VCL asks keeps it off
   * the hit path of a VCL that never does.
   */
  get now(): number {
    if (!this.#nowKnown) {
      this.#now = Date.now() / 1000;
      this.#nowKnown = true;
    }
    return this.#now;
  }

  /** Fixes `now` to a given time until the next sub call (tests, and callers that know it). */
  set now(seconds: number) {
    this.#now = seconds;
    this.#nowKnown = true;
  }

  /** Called as each vcl_* sub starts: a new `now`, no position yet. */
  enterSub(): void {
    this.#nowKnown = false;
    this.at = 0;
  }

  get vclName(): string {
    return this.vcl?.name ?? '';
  }

  // ------------------------------------------------------------------------------------------
  // The hash: vcl_hash's hash_data() calls feed it; the cache key is its SHA-256 digest.

  /** Starts a new hash (each run of vcl_hash). */
  resetHash(): void {
    this.#hashInput = '';
    this.#key = null;
    this.#digest = null;
  }

  /**
   * One strand of hash_data(): its text, or a 0 byte for an unset (null) strand; hash_data()
   * ends each call with a null strand as a separator, as Varnish does (so its digests match).
   */
  hashPart(s: string | null): void {
    this.#hashInput += s ?? '\0';
    this.#key = null;
    this.#digest = null;
  }

  /**
   * The digest as a string of 32 characters, one per byte (latin1): the cache's key. Asking
   * node:crypto for this output ('binary', i.e. latin1) is its cheapest form for inputs this small (bench/vcl-exec).
   */
  hashKey(): string {
    if (this.#key === null) {
      const d = this.#digest;
      // No hash_data() at all hashes the empty input.
      this.#key = d === null ? hashKeyOf(this.#hashInput) : Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('latin1');
    }
    return this.#key;
  }

  /** req.hash, bereq.hash: the SHA-256 of what vcl_hash fed, or the digest set for this task. */
  hashDigest(): Uint8Array {
    this.#digest ??= new Uint8Array(Buffer.from(this.hashKey(), 'latin1'));
    return this.#digest;
  }

  /** Gives a backend task the digest of the client request it fetches for. */
  setHashDigest(digest: Uint8Array): void {
    this.#digest = digest;
    this.#key = null;
  }

  // ------------------------------------------------------------------------------------------
  // PRIV_TASK and PRIV_TOP stores, keyed by VMOD (functions) or by object instance (methods).

  privTask(key: object): PrivHolder {
    this.#privTask ??= new Map();
    return holderIn(this.#privTask, key);
  }

  /** PRIV_TOP: the top request's store; null on the backend side. */
  privTop(key: object): PrivHolder | null {
    const top = this.top;
    if (top === null) return null;
    top.#privTop ??= new Map();
    return holderIn(top.#privTop, key);
  }

  /**
   * Ends the task: frees its PRIV_TASK holders (and PRIV_TOP ones when it is the top request),
   * each `free` once. Errors in a VMOD's free are reported to the log, never thrown.
   */
  end(): void {
    const task = this.#privTask;
    this.#privTask = null;
    if (task) freeAll(this, task);
    if (this.top === this) {
      const top = this.#privTop;
      this.#privTop = null;
      if (top) freeAll(this, top);
    }
  }

  // ------------------------------------------------------------------------------------------
  // VmodContext

  http(where: HttpWhere): VclHttp | null {
    switch (where) {
      case 'req':
        return this.req;
      case 'req_top':
        return this.top?.req ?? null;
      case 'bereq':
        return this.bereq;
      case 'beresp':
        return this.beresp;
      case 'resp':
        return this.resp;
      case 'obj':
        return this.obj;
    }
  }

  getHeader(ref: HeaderRef): string | null {
    return readHeaderRef(this, ref);
  }

  setHeader(ref: HeaderRef, value: string | null): void {
    writeHeaderRef(this, ref, value);
  }

  log(message: string): void {
    this.services.log?.(this, message);
  }

  fail(message: string): never {
    throw new VmodFailure(message);
  }

  cacheReqBody(max: number): Promise<boolean> | boolean {
    return this.services.cacheReqBody?.(this, max) ?? false;
  }

  rollback(where: HttpWhere): void {
    this.services.rollback?.(this, where);
  }

  ban(expression: string): string | null {
    const ban = this.services.ban;
    return ban ? ban(expression) : 'bans are not available here';
  }

  purge(options: PurgeOptions): number {
    return this.services.purge?.(this, options) ?? 0;
  }

  setIpTos(tos: number): boolean {
    return this.services.setIpTos?.(this, tos) ?? false;
  }

  peerCredentials(): PeerCredentials | Promise<PeerCredentials> {
    return this.services.peerCredentials?.(this) ?? { error: 'not a client connection' };
  }

  proxyTlv(type: number): Uint8Array | null {
    return this.services.proxyTlv?.(this, type) ?? null;
  }

  backend(name: string): Director | null {
    return this.vcl?.backend(name) ?? null;
  }

  param(name: string): ParamReading | undefined {
    const params = this.services.params;
    return params !== undefined && Object.hasOwn(params, name) ? params[name] : undefined;
  }

  newBackend(spec: BackendSpec): Director {
    const make = this.vcl?.newBackend;
    if (make === undefined) throw new VmodFailure('no VCL here can own a new backend');
    return make.call(this.vcl, spec);
  }

  vmod<H extends VmodHousekeeping<object, object> = VmodHousekeeping>(name: string): H | null {
    return (this.vcl?.vmodHandle?.(name) ?? null) as H | null;
  }

  deleteBackend(backend: Director): void {
    this.vcl?.deleteBackend?.(backend);
  }

  get objects(): CacheObjects | undefined {
    return this.services.objects;
  }

  // ------------------------------------------------------------------------------------------
  // Statements of VCL that are not variables

  /** `synthetic(s)` and `set resp.body += …`: appends to the synthetic body (text or bytes). */
  synthetic(s: string | Uint8Array | null): void {
    if (s === null) return;
    const body = this.body;
    this.body = typeof s === 'string' && typeof body === 'string' ? body + s : Buffer.concat([typeof body === 'string' ? byteStringToBuffer(body) : body, typeof s === 'string' ? byteStringToBuffer(s) : s]);
  }

  /** The builtin `ban(s)`: a refused ban is logged, and the task goes on. */
  banStatement(expression: string | null): void {
    const error = this.ban(expression ?? '');
    if (error !== null) this.log(`ban(): ${error}`);
  }
}

/** The holder of `key` in a PRIV store, made empty on first use. */
function holderIn(holders: Map<object, PrivHolder>, key: object): PrivHolder {
  let holder = holders.get(key);
  if (holder === undefined) {
    holder = { priv: undefined };
    holders.set(key, holder);
  }
  return holder;
}

function freeAll(task: VclTask, holders: Map<object, PrivHolder>): void {
  for (const holder of holders.values()) {
    const free = holder.free;
    if (free === undefined || holder.priv === undefined) continue;
    holder.free = undefined;
    try {
      free(holder.priv);
    } catch (e) {
      task.log(`PRIV free failed: ${(e as Error).message}`);
    }
  }
}
