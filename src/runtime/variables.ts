// How each VCL variable of the spec table (src/vcl/spec.ts VARIABLES) is read, set and unset at
// run time, over the task context. The code generator calls these functions, so a variable's
// run-time meaning is written here once; a test checks every spec entry has what its scope
// masks promise. Rules checked against Varnish 7.1 with varnishtest:
// - setting a status checks its range and resets the reason to the status's default;
// - setting a first-line field (url, method, proto, reason) to an empty or unset string fails;
// - negative ttl, grace and keep become 0; req.ttl and req.grace read -1 until set;
// - req.can_gzip is true when Accept-Encoding lists gzip (or x-gzip) with a q above 0.

import { defaultFetchFilters } from './filter-defaults.ts';
import type { Director } from '../vmod/api.ts';
import type { HttpObjectName } from '../vcl/spec.ts';
import { VclRuntimeError } from './errors.ts';
import type { VclHttp } from './http.ts';
import { checkStatus, statusReason } from './status.ts';
import type { StorageInfo, VclTask } from './task.ts';

export interface VarAccessor {
  readonly get?: (t: VclTask) => unknown;
  /** The value has the variable's run-time type (see src/vmod/api.ts for the mapping). */
  readonly set?: (t: VclTask, value: never) => void;
  readonly unset?: (t: VclTask) => void;
}

/** The HTTP object behind `<obj>.http.<name>` for each object VCL can name. */
export const HEADER_OBJECTS: Readonly<Record<HttpObjectName, (t: VclTask) => VclHttp | null>> = {
  req: (t) => t.req,
  req_top: (t) => t.top?.req ?? null,
  bereq: (t) => t.bereq,
  beresp: (t) => t.beresp,
  obj: (t) => t.obj,
  resp: (t) => t.resp,
};

/** `storage.<name>.<field>`: which StorageInfo field each variable reads. */
export const STORAGE_FIELDS: Readonly<Record<string, keyof StorageInfo>> = {
  'storage.*.free_space': 'freeSpace',
  'storage.*.used_space': 'usedSpace',
  'storage.*.happy': 'happy',
};

// ---------------------------------------------------------------------------------------------
// Helpers shared by several variables

type HttpOf = (t: VclTask) => VclHttp | null;

function mustHave(http: VclHttp | null, what: string): VclHttp {
  if (http === null) throw new VclRuntimeError(`${what} is not available here`);
  return http;
}

type Field = 'method' | 'url' | 'proto' | 'reason';

/**
 * The setter of a first-line field of an HTTP object: a string that may not be set empty. The
 * getters are written out one by one below, so that each stays monomorphic on the hit path.
 */
function setField(obj: string, of: HttpOf, field: Field): (t: VclTask, v: string | null) => void {
  const name = `${obj}.${field}`;
  return (t, v) => {
    if (v === null || v === '') throw new VclRuntimeError(`Setting ${name} to empty string`);
    const http = mustHave(of(t), obj);
    if (field === 'method') http.method = v;
    else if (field === 'url') http.url = v;
    else if (field === 'proto') http.proto = v;
    else http.reason = v;
  };
}

function status(obj: string, of: HttpOf, writable: boolean): VarAccessor {
  const name = `${obj}.status`;
  const get = (t: VclTask) => of(t)?.status ?? 0;
  if (!writable) return { get };
  return {
    get,
    set: (t: VclTask, v: number) => {
      const http = mustHave(of(t), obj);
      http.status = checkStatus(name, v);
      http.reason = statusReason(v);
    },
  };
}

const nonNegative = (v: number) => Math.max(v, 0);

/** Once VCL has named beresp.filters, the do_* switches that make the default list are moot. */
function filtersNotSet(t: VclTask, name: string): void {
  if (t.berespFilters !== null) throw new VclRuntimeError(`beresp.filters are already set, ${name} cannot be modified`);
}

/** Whether Accept-Encoding lists `gzip` (or `x-gzip`) with a q above 0. */
export function acceptsGzip(header: string | null): boolean {
  if (header === null) return false;
  for (const item of header.split(',')) {
    const [token, ...params] = item.split(';');
    const name = token.trim().toLowerCase();
    if (name !== 'gzip' && name !== 'x-gzip') continue;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(p);
      if (m) q = Number(m[1]);
    }
    if (q > 0) return true;
  }
  return false;
}

const xid = (t: VclTask) => String(t.xid);

// ---------------------------------------------------------------------------------------------
// The table: one entry per variable name of the spec (header and storage families apart).

const req: HttpOf = (t) => t.req;
const bereq: HttpOf = (t) => t.bereq;
const beresp: HttpOf = (t) => t.beresp;
const obj: HttpOf = (t) => t.obj;
const resp: HttpOf = (t) => t.resp;

export const VARIABLE_ACCESSORS: Readonly<Record<string, VarAccessor>> = {
  // Connection
  'client.identity': {
    get: (t) => t.clientIdentity ?? t.clientIp?.text ?? null,
    set: (t, v: string | null) => {
      t.clientIdentity = v;
    },
  },
  'client.ip': { get: (t) => t.clientIp },
  'server.hostname': { get: (t) => t.services.hostname ?? null },
  'server.identity': { get: (t) => t.services.identity ?? t.services.hostname ?? null },
  'server.ip': { get: (t) => t.serverIp },
  'remote.ip': { get: (t) => t.remoteIp },
  'local.endpoint': { get: (t) => t.localEndpoint },
  'local.ip': { get: (t) => t.localIp },
  'local.socket': { get: (t) => t.localSocket },

  // The client request
  req: { get: (t) => t.req },
  'req.backend_hint': {
    get: (t) => t.backendHint ?? null,
    set: (t, v: Director | null) => {
      t.backendHint = v;
    },
  },
  'req.can_gzip': { get: (t) => acceptsGzip(t.req?.get('accept-encoding') ?? null) },
  'req.esi': {
    get: (t) => t.esi,
    // As Varnish: VCL 4.0's req.esi switches ESI off only for the top request (an include's
    // setting is ignored); VCL 4.1's resp.do_esi works at every level.
    set: (t, v: boolean) => {
      if (t.esiLevel === 0) t.esi = v;
    },
  },
  'req.esi_level': { get: (t) => t.esiLevel },
  'req.grace': {
    get: (t) => t.reqGrace,
    set: (t, v: number) => {
      t.reqGrace = nonNegative(v);
    },
  },
  'req.hash': { get: (t) => t.hashDigest() },
  'req.hash_always_miss': {
    get: (t) => t.hashAlwaysMiss,
    set: (t, v: boolean) => {
      t.hashAlwaysMiss = v;
    },
  },
  'req.hash_ignore_busy': {
    get: (t) => t.hashIgnoreBusy,
    set: (t, v: boolean) => {
      t.hashIgnoreBusy = v;
    },
  },
  'req.hash_ignore_vary': {
    get: (t) => t.hashIgnoreVary,
    set: (t, v: boolean) => {
      t.hashIgnoreVary = v;
    },
  },
  'req.is_hitmiss': { get: (t) => t.isHitmiss },
  'req.is_hitpass': { get: (t) => t.isHitpass },
  'req.method': { get: (t) => t.req?.method ?? null, set: setField('req', req, 'method') },
  'req.proto': { get: (t) => t.req?.proto ?? null, set: setField('req', req, 'proto') },
  'req.restarts': { get: (t) => t.restarts },
  'req.storage': {
    get: (t) => t.reqStorage,
    set: (t, v: StorageInfo | null) => {
      t.reqStorage = v;
    },
  },
  'req.time': { get: (t) => t.reqTime },
  'req.transport': { get: (t) => t.transport },
  'req.ttl': {
    get: (t) => t.reqTtl,
    set: (t, v: number) => {
      t.reqTtl = nonNegative(v);
    },
  },
  'req.url': { get: (t) => t.req?.url ?? null, set: setField('req', req, 'url') },
  'req.xid': { get: xid },
  'req_top.method': { get: (t) => t.top?.req?.method ?? null },
  'req_top.proto': { get: (t) => t.top?.req?.proto ?? null },
  'req_top.time': { get: (t) => t.top?.reqTime ?? 0 },
  'req_top.url': { get: (t) => t.top?.req?.url ?? null },

  // The backend request
  bereq: { get: (t) => t.bereq },
  'bereq.backend': {
    get: (t) => t.bereqBackend,
    set: (t, v: Director | null) => {
      t.bereqBackend = v;
    },
  },
  'bereq.between_bytes_timeout': {
    get: (t) => t.betweenBytesTimeout,
    set: (t, v: number) => {
      t.betweenBytesTimeout = nonNegative(v);
    },
  },
  'bereq.body': {
    unset: (t) => {
      t.bereqBodyUnset = true;
    },
  },
  'bereq.connect_timeout': {
    get: (t) => t.connectTimeout,
    set: (t, v: number) => {
      t.connectTimeout = nonNegative(v);
    },
  },
  'bereq.first_byte_timeout': {
    get: (t) => t.firstByteTimeout,
    set: (t, v: number) => {
      t.firstByteTimeout = nonNegative(v);
    },
  },
  'bereq.hash': { get: (t) => t.hashDigest() },
  'bereq.is_bgfetch': { get: (t) => t.isBgfetch },
  'bereq.is_hitmiss': { get: (t) => t.isHitmiss },
  'bereq.is_hitpass': { get: (t) => t.isHitpass },
  'bereq.method': { get: (t) => t.bereq?.method ?? null, set: setField('bereq', bereq, 'method') },
  'bereq.proto': { get: (t) => t.bereq?.proto ?? null, set: setField('bereq', bereq, 'proto') },
  'bereq.retries': { get: (t) => t.retries },
  'bereq.time': { get: (t) => t.bereqTime },
  'bereq.uncacheable': { get: (t) => t.uncacheable },
  'bereq.url': { get: (t) => t.bereq?.url ?? null, set: setField('bereq', bereq, 'url') },
  'bereq.xid': { get: xid },

  // The backend response
  beresp: { get: (t) => t.beresp },
  'beresp.age': { get: (t) => t.berespAge },
  'beresp.backend': { get: (t) => t.berespBackend },
  'beresp.backend.ip': { get: (t) => t.berespBackendIp },
  'beresp.backend.name': { get: (t) => t.berespBackend?.name ?? null },
  'beresp.body': {
    set: (t, v: string | Uint8Array | null) => {
      t.body = v ?? '';
    },
  },
  'beresp.do_esi': {
    get: (t) => t.doEsi,
    set: (t, v: boolean) => {
      filtersNotSet(t, 'beresp.do_esi');
      t.doEsi = v;
    },
  },
  'beresp.do_gunzip': {
    get: (t) => t.doGunzip,
    set: (t, v: boolean) => {
      filtersNotSet(t, 'beresp.do_gunzip');
      t.doGunzip = v;
    },
  },
  'beresp.do_gzip': {
    get: (t) => t.doGzip,
    set: (t, v: boolean) => {
      filtersNotSet(t, 'beresp.do_gzip');
      t.doGzip = v;
    },
  },
  'beresp.do_stream': {
    get: (t) => t.doStream,
    set: (t, v: boolean) => {
      t.doStream = v;
    },
  },
  'beresp.filters': {
    get: (t) => t.berespFilters ?? defaultFetchFilters(t, t.beresp),
    set: (t, v: string | null) => {
      t.berespFilters = v ?? '';
    },
  },
  'beresp.grace': {
    get: (t) => t.grace,
    set: (t, v: number) => {
      t.grace = nonNegative(v);
    },
  },
  'beresp.keep': {
    get: (t) => t.keep,
    set: (t, v: number) => {
      t.keep = nonNegative(v);
    },
  },
  'beresp.proto': { get: (t) => t.beresp?.proto ?? null, set: setField('beresp', beresp, 'proto') },
  'beresp.reason': { get: (t) => t.beresp?.reason ?? null, set: setField('beresp', beresp, 'reason') },
  'beresp.status': status('beresp', beresp, true),
  'beresp.storage': {
    get: (t) => t.berespStorage,
    set: (t, v: StorageInfo | null) => {
      t.berespStorage = v;
    },
  },
  'beresp.storage_hint': {
    get: (t) => t.storageHint,
    set: (t, v: string | null) => {
      t.storageHint = v;
    },
  },
  'beresp.time': { get: (t) => t.berespTime },
  'beresp.ttl': {
    get: (t) => t.ttl,
    set: (t, v: number) => {
      t.ttl = nonNegative(v);
    },
  },
  'beresp.uncacheable': {
    get: (t) => t.berespUncacheable,
    // Once uncacheable, always: Varnish ignores an attempt to make it cacheable again.
    set: (t, v: boolean) => {
      if (v) t.berespUncacheable = true;
    },
  },
  'beresp.was_304': { get: (t) => t.was304 },

  // The cached object
  'obj.age': { get: (t) => (t.objInfo ? t.now - t.objInfo.origin : 0) },
  'obj.can_esi': { get: (t) => t.objInfo?.canEsi ?? false },
  'obj.grace': { get: (t) => t.objInfo?.grace ?? 0 },
  'obj.hits': { get: (t) => t.objInfo?.hits ?? 0 },
  'obj.keep': { get: (t) => t.objInfo?.keep ?? 0 },
  'obj.proto': { get: (t) => t.obj?.proto ?? null },
  'obj.reason': { get: (t) => t.obj?.reason ?? null },
  'obj.status': status('obj', obj, false),
  'obj.storage': { get: (t) => t.objInfo?.storage ?? null },
  'obj.time': { get: (t) => t.objInfo?.origin ?? 0 },
  'obj.ttl': { get: (t) => (t.objInfo ? t.objInfo.origin + t.objInfo.ttl - t.now : 0) },
  'obj.uncacheable': { get: (t) => t.objInfo?.uncacheable ?? false },

  // The response
  resp: { get: (t) => t.resp },
  'resp.body': {
    set: (t, v: string | Uint8Array | null) => {
      t.body = v ?? '';
    },
  },
  'resp.do_esi': {
    get: (t) => t.esi,
    set: (t, v: boolean) => {
      t.esi = v;
    },
  },
  'resp.filters': {
    get: (t) => t.respFilters ?? t.services.respFilters?.(t) ?? '',
    set: (t, v: string | null) => {
      t.respFilters = v ?? '';
    },
  },
  'resp.is_streaming': { get: (t) => t.isStreaming },
  'resp.proto': { get: (t) => t.resp?.proto ?? null, set: setField('resp', resp, 'proto') },
  'resp.reason': { get: (t) => t.resp?.reason ?? null, set: setField('resp', resp, 'reason') },
  'resp.status': status('resp', resp, true),
  'resp.time': { get: (t) => t.respTime },

  // Special
  now: { get: (t) => t.now },
  'sess.idle_send_timeout': {
    get: (t) => t.idleSendTimeout,
    set: (t, v: number) => {
      t.idleSendTimeout = v;
    },
  },
  'sess.send_timeout': {
    get: (t) => t.sendTimeout,
    set: (t, v: number) => {
      t.sendTimeout = v;
    },
  },
  'sess.timeout_idle': {
    get: (t) => t.timeoutIdle,
    set: (t, v: number) => {
      t.timeoutIdle = v;
    },
  },
  'sess.timeout_linger': {
    get: (t) => t.timeoutLinger,
    set: (t, v: number) => {
      t.timeoutLinger = v;
    },
  },
  'sess.xid': { get: (t) => String(t.sessXid) },
};
