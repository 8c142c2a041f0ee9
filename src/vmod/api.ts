// The VMOD API: what an implementation in vmods/<name>/index.ts sees and must provide. This file
// is the contract between VMODs and the rest of Shellac; VMODs import from here and from nothing
// else in src/ (types from src/common/ip.ts and src/runtime/http.ts are re-exported below).
//
// Calling convention (bound from the manifest at load, never by name at run time):
// - `$Function T f(A a, B b)`   → `export function f(ctx: VmodContext, a: A, b: B): T`
//   arguments positional in manifest order; an optional `[ ]` argument that was not given
//   arrives as `undefined`; a default is applied by the binder, so the implementation sees it.
// - PRIV_* arguments arrive at their manifest position as a `PrivHolder` whose lifetime the
//   runtime manages (PRIV_CALL: per call site and VCL; PRIV_TASK: per client or backend task;
//   PRIV_TOP: per top request, shared with ESI children; PRIV_VCL: per loaded VCL).
// - `$Object o(A a)`            → `export class o { constructor(ctx, vclName: string, a: A) }`
//   `$Method T .m(B b)`         → `m(ctx: VmodContext, b: B): T` on that class. An object that
//   must clean up defines `[Symbol.dispose]()`: called once, after vcl_fini, when its VCL goes.
//   PRIV_TASK and PRIV_TOP of a method are per instance; of a function, per VMOD.
// - An implementation may declare fewer trailing parameters than it is passed, never more (the
//   loader refuses it). A function may be `async` (std.cache_req_body): the subs that call it
//   are then awaited; every other sub stays synchronous.
// - `$Event ev`                 → `export function ev(ctx: VmodEventContext, vcl: PrivHolder, e: VclEvent): number`
//   returning 0 for success; a non-zero return (or ctx.fail) on 'load' or 'warm' fails it.
//
// Types by VCL type: STRING → string | null; STRANDS → readonly (string | null)[];
// INT, REAL, BYTES → number; DURATION → seconds; TIME → seconds since the epoch; BOOL → boolean;
// BLOB → Uint8Array | null; IP → VclIp | null; BACKEND → Director | null; HEADER → HeaderRef;
// ENUM → the value as a string; REGEX → VclRegex; HTTP → VclHttp; SUB → SubRef; PROBE → ProbeRef | null;
// ACL → AclRef | null (a PROBE or ACL argument defaulting to 0 arrives as null); VOID → void.

import type { VclHttp } from '../runtime/http.ts';
import type { VclIp } from '../common/ip.ts';
import type { VclRegex } from '../common/regex.ts';
import type { SubName } from '../vcl/spec.ts';

export type { VclHttp, VclIp, VclRegex };
/** An address from text, for VMODs that match resolved addresses against an ACL (dynamic). */
export { parseIp } from '../common/ip.ts';
/** VCL's regsub/regsuball, for VMODs that substitute as VCL does (header.regsub). */
export { regsub } from '../common/regex.ts';
export * from './api-platform.ts';
export type { EventPayload, ServerEventName } from './events.ts';
import type { VmodHousekeeping } from './api-platform.ts';

export type VclEvent = 'load' | 'warm' | 'cold' | 'discard';

/** A PRIV_* holder: the VMOD keeps its state in `priv`, and `free` runs when the scope ends. */
export interface PrivHolder<T = unknown> {
  priv: T | undefined;
  free?: ((priv: T) => void) | undefined;
}

/** Which HTTP object a HEADER argument or `ctx.http()` refers to. */
export type HttpWhere = 'req' | 'req_top' | 'bereq' | 'beresp' | 'resp' | 'obj';

/** A HEADER argument: `req.http.cookie` passed by reference. */
export interface HeaderRef {
  readonly where: HttpWhere;
  /** The header name as written in VCL. */
  readonly name: string;
}

/**
 * Something requests can be sent to: a backend, or a director choosing among backends. Backends
 * and directors implement the same interface, so directors nest.
 */
export interface Director {
  readonly name: string;
  /** 'backend' for a backend; the director's kind ('round_robin', 'shard'...) otherwise. */
  readonly type: string;
  /** Whether it can take requests now (a director: whether any of its backends can). */
  healthy(ctx: VmodContext | null): boolean;
  /** The backend a fetch goes to, or null when none is usable. A backend returns itself. */
  resolve(ctx: VmodContext): Director | null;
  /** When the health last changed (seconds since the epoch), for std.healthy-like reporting. */
  readonly changed?: number;
}

/**
 * A backend a VMOD implements itself, answering without a connection (compute's programs): the
 * fetch calls its fetch() as it calls an HTTP backend's, and treats the answer the same way
 * (vcl_backend_response, streaming into the cache; a failure leads to vcl_backend_error).
 */
export interface FetchingBackend extends Director {
  fetch(req: BackendFetchRequest): Promise<BackendFetchResponse | BackendFetchFailure>;
}

/** What the fetch hands a FetchingBackend: bereq as it is after vcl_backend_fetch. */
export interface BackendFetchRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Iterable<readonly [string, string]>;
  /** The request body: whole, streamed, or none. */
  readonly body?: Uint8Array | AsyncIterable<Buffer> | null;
}

export interface BackendFetchResponse {
  readonly ok: true;
  readonly status: number;
  readonly reason: string;
  /** Flat: name, value, name, value... */
  readonly headers: string[];
  /**
   * Read to its end, or abort() it. A body that may be whole already can say so: takeComplete
   * gives all of it at once (then it counts as read to its end) when it has all come, is not
   * empty and is at most `max` bytes, else null and nothing is taken; the fetch then stores it
   * whole, with no body loop.
   */
  readonly body: AsyncIterable<Buffer> & { abort(): void; takeComplete?(max: number): Buffer[] | null };
}

export interface BackendFetchFailure {
  readonly ok: false;
  readonly kind: 'other';
  /** For logs, naming the backend. */
  readonly message: string;
  readonly code: undefined;
}

export interface SubRef {
  readonly name: string;
}
export interface ProbeRef {
  readonly name: string;
}
export interface AclRef {
  readonly name: string;
  match(ip: VclIp | null): boolean;
}

/** Hard or soft purge of the object being looked up (from vcl_hit or vcl_miss). */
export interface PurgeOptions {
  readonly soft: boolean;
  readonly ttl?: number;
  readonly grace?: number;
  readonly keep?: number;
}

/** A parameter's value as a VMOD reads it: seconds, bytes and counts are numbers. */
export type ParamReading = number | string | boolean | readonly string[] | ReadonlySet<string>;

/**
 * A backend a VMOD makes at run time (Varnish's dynamic backends): the fields of a `backend`
 * declaration. It belongs to the VCL that made it, counts and lists with the declared ones,
 * and lives until the VMOD deletes it or the VCL is discarded.
 */
export interface BackendSpec {
  /** Its name; the operator sees `vcl.name`. */
  readonly name: string;
  readonly host?: string;
  readonly port?: string;
  /** A Unix socket path, instead of host and port. */
  readonly path?: string;
  readonly hostHeader?: string;
  readonly connectTimeout?: number;
  readonly firstByteTimeout?: number;
  readonly betweenBytesTimeout?: number;
  readonly maxConnections?: number;
  /** A probe declared in the same VCL (a PROBE argument), or none. */
  readonly probe?: ProbeRef | null;
}

/** An object in the cache as a VMOD that indexes objects sees it (xkey): its stored headers. */
export interface CachedObjectRef {
  readonly http: Pick<VclHttp, 'count' | 'nameAt' | 'valueAt'>;
}

/**
 * The cache's objects, for a VMOD that keeps an index of them (xkey): it hears every object
 * committed from the time it subscribes and every removal, and purges the ones it finds.
 */
export interface CacheObjects {
  /** Returns the function that ends the subscription. The listener must not throw. */
  subscribe(listener: { inserted(obj: CachedObjectRef): void; removed(obj: CachedObjectRef): void }): () => void;
  /** Removes one object, or (soft) makes it stale now keeping grace and keep; false if untouched. */
  purgeObject(obj: CachedObjectRef, now: number, soft: boolean): boolean;
}

/**
 * Who the client is when it connected over a Unix socket: the effective user and group of its
 * process when it connected. Otherwise why that is not known; `unsupported` when this platform
 * has no way to tell at all.
 */
export type PeerCredentials = { readonly uid: number; readonly gid: number } | { readonly error: string; readonly unsupported?: boolean };

/** What every VMOD function gets as its first argument. */
export interface VmodContext {
  /** The sub being run ('vcl_recv'...), or null outside one. */
  readonly method: SubName | null;
  /** The name of the VCL being run. */
  readonly vclName: string;
  /** The transaction id (vxid) of this task. */
  readonly xid: number;
  /** The current time as VCL's `now` sees it (fixed during one sub call). */
  readonly now: number;
  /** An HTTP object of this task, or null where it does not exist (no bereq on the client side). */
  http(where: HttpWhere): VclHttp | null;
  /** Reads a HEADER argument: the first value, or null. */
  getHeader(ref: HeaderRef): string | null;
  /** Writes a HEADER argument (null unsets it). */
  setHeader(ref: HeaderRef, value: string | null): void;
  readonly clientIp: VclIp | null;
  readonly serverIp: VclIp | null;
  readonly localIp: VclIp | null;
  readonly remoteIp: VclIp | null;
  /** A log record for this task (VCL_Log in Varnish). */
  log(message: string): void;
  /** Fails the task: the VCL stops and the task ends as for `return (fail)`. Never returns. */
  fail(message: string): never;
  /** req.hash or bereq.hash: the digest of what vcl_hash fed (saintmode's per-object list). */
  hashDigest?(): Uint8Array;
  /** beresp.backend: the backend that answered this fetch, on the backend side. */
  readonly berespBackend?: Director | null;
  /** Appends to the synthetic body (resp.body in vcl_synth, beresp.body in vcl_backend_error). */
  synthetic?(body: string | Uint8Array | null): void;
  /** Feeds the request hash as hash_data() does, without its separator (vcl_hash only). */
  hashPart?(s: string | null): void;
  /** The task's request body when cached with std.cache_req_body, else null. */
  readonly reqBody: Uint8Array | null;
  /** Caches the request body up to `max` bytes; false when it is bigger or cannot be read. */
  cacheReqBody(max: number): Promise<boolean> | boolean;
  /** Restores req to what it was when the client sent it (std.rollback on req). */
  rollback(where: HttpWhere): void;
  /** Adds a ban; returns null, or the reason it was refused. */
  ban(expression: string): string | null;
  /** Purges the current object and its variants; returns how many objects it hit. */
  purge(options: PurgeOptions): number;
  /** Sets the IP TOS of the client connection; false where the platform cannot. */
  setIpTos(tos: number): boolean;
  /** The credentials of the client's process, when it came over a Unix socket (vmod unix). */
  peerCredentials(): PeerCredentials | Promise<PeerCredentials>;
  /**
   * The value of the first PROXY v2 TLV of `type` the client connection's header carried (the
   * SSL TLV's sub-TLVs included, as Varnish's VPX_tlv), or null: no such TLV, no PROXY v2
   * header, or not a client task (vmod proxy).
   */
  proxyTlv(type: number): Uint8Array | null;
  /** A backend of this VCL by name (for VMODs that take backend names), or null. */
  backend(name: string): Director | null;
  /** The current value of a run-time parameter (`pcre2_match_limit`...), or undefined. */
  param(name: string): ParamReading | undefined;
  /** Makes a backend owned by the running VCL; it goes warm and cold with it. */
  newBackend(spec: BackendSpec): Director;
  /**
   * Retires a backend made by newBackend: nothing new is sent to it, fetches and pipes in
   * flight on it finish, then it is released. Other directors are left alone.
   */
  deleteBackend(backend: Director): void;
  /** The cache's objects (xkey's index), where the task runs against a cache. */
  readonly objects?: CacheObjects | undefined;
  /**
   * The platform handle of VMOD `name` in the running VCL (counters, parameters, jobs...), or
   * null when the VCL does not import it. Generated interfaces name the handle's type:
   * `ctx.vmod<VmodRatelimitHandle>('ratelimit')`.
   */
  vmod<H extends VmodHousekeeping<object, object> = VmodHousekeeping>(name: string): H | null;
  /**
   * The PRIV_TASK holder of `key` in this task (Varnish's VRT_priv_task): with the VMOD's
   * `handle.privKey`, the holder its functions get for PRIV_TASK; with an object instance, the
   * holder that object's methods get. Reachable from any function or method.
   */
  privTask(key: object): PrivHolder;
  /** The same for PRIV_TOP (shared with ESI children); null on the backend side. */
  privTop(key: object): PrivHolder | null;
}

/**
 * A body as a filter sees it: chunks in order. A filter's transform reads its input at its own
 * pace (back-pressure reaches the backend or the stored object) and yields what it makes.
 */
export type BodyTransform = (body: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>;

/**
 * What a filter's open function gets: the headers of the body it is opened on (beresp on the
 * fetch side, resp on delivery), as the filters before it in the list left them. A filter that
 * changes the body's length or encoding says so here (unset Content-Length, set
 * Content-Encoding).
 */
export interface FilterOpenContext {
  readonly http: VclHttp;
  /** A log record in the task's transaction. */
  log(message: string): void;
}

/**
 * A body filter a VMOD adds to its VCL (Varnish's VRT_AddFilter), named in `beresp.filters`
 * (the fetch side: what the backend sends becomes what is stored) or `resp.filters` (delivery:
 * what is stored becomes what the client gets). Each side is optional; open runs once per
 * fetch or delivery and returns the transform, or null to leave the body alone this time.
 */
export interface VmodFilter {
  readonly name: string;
  readonly fetch?: (c: FilterOpenContext) => BodyTransform | null;
  readonly delivery?: (c: FilterOpenContext) => BodyTransform | null;
}

/** What an event function gets: no task, but the VMOD's platform handle and a way to fail. */
export interface VmodEventContext<C extends object = Record<string, number>, P extends object = Record<string, unknown>>
  extends VmodHousekeeping<C, P> {
  /** Makes the event fail with this message (the return value must be non-zero too). */
  fail(message: string): void;
  /**
   * Takes a reference on the VCL so it cannot go cold while background work runs; `holder` is
   * what vcl.list and a refused `vcl.state cold` name. Call the returned function to release.
   */
  hold(holder: string): () => void;
  /** The cache's objects (xkey's index), where the VCL runs against a cache. */
  readonly objects?: CacheObjects | undefined;
  /**
   * Adds a body filter to this VCL (on 'load'; it goes with the VCL). Returns null, or why it
   * was refused: a name a built-in filter or another VMOD's filter already has, or no side.
   */
  addFilter(filter: VmodFilter): string | null;
}

/** Thrown by ctx.fail(): the runtime ends the task, reporting the VCL position of the call. */
export class VmodFailure extends Error {
  override readonly name = 'VmodFailure';
}

/**
 * What a VmodContext's getHeader does: the first value of the header a HEADER argument names,
 * or null (also where the task has no such HTTP object). Shared by the runtime's task and the
 * test context so both read HEADER arguments the same way.
 */
export function readHeaderRef(ctx: Pick<VmodContext, 'http'>, ref: HeaderRef): string | null {
  return ctx.http(ref.where)?.get(ref.name) ?? null;
}

/** What a VmodContext's setHeader does: null unsets; nothing happens without the HTTP object. */
export function writeHeaderRef(ctx: Pick<VmodContext, 'http'>, ref: HeaderRef, value: string | null): void {
  const http = ctx.http(ref.where);
  if (http === null) return;
  if (value === null) http.unset(ref.name);
  else http.set(ref.name, value);
}
