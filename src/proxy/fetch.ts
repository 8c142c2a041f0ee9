// The backend side: one fetch for a miss, a pass or a background refresh, driven through
// Varnish's backend state machine. As on the client side, STEPS is the machine:
//
//   fetch ─► (vcl_backend_fetch) ─► send ─► (vcl_backend_response) ─► commit ─► body
//                 │                   │              │  retry ─► fetch
//                 └─► error ◄─────────┴──────────────┘
//   error ─► (vcl_backend_error) ─► commit (a synthetic object) | retry | fail
//
// startFetch resolves as soon as the client can start delivering (the object's headers are in),
// or with null when the fetch failed; the body goes on streaming into the object.

import { Readable } from 'node:stream';
import type { BusySlot, CacheObject, ObjectKind } from '../cache/index.ts';
import { buildVary, CacheObject as Obj, rfcTtl } from '../cache/index.ts';
import type { VclAction } from '../runtime/actions.ts';
import { VclHttp } from '../runtime/http.ts';
import { VclTask } from '../runtime/task.ts';
import type { TxLog } from '../mgmt/log.ts';
import type { SubName } from '../vcl/spec.ts';
import type { Director } from '../vmod/api.ts';
import type { Backend, FetchResult } from './backend.ts';
import { type ClientRequest, runSub } from './client.ts';
import { HOP_BY_HOP } from './hop-by-hop.ts';

export type FetchMode = 'miss' | 'pass' | 'bgfetch';

type Step = 'fetch' | 'send' | 'response' | 'error' | 'commit' | 'fail' | 'done';

/**
 * Headers never copied from req to bereq (Varnish's HTTPH_R_PASS and HTTPH_R_FETCH flags, checked
 * with varnishtest): hop-by-hop ones for every fetch; also, for a fetch into the cache, the
 * conditions and ranges (the cache answers those itself) and proxy credentials. Headers named in
 * Connection are hop-by-hop too.
 */
const NOT_FORWARDED = new Set(['connection', 'keep-alive', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const NOT_FETCHED = new Set([
  ...NOT_FORWARDED,
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'proxy-authenticate',
  'proxy-authorization',
  'range',
]);

class Fetch {
  readonly cr: ClientRequest;
  readonly mode: FetchMode;
  readonly slot: BusySlot | null;
  readonly stale: CacheObject | null;
  readonly task: VclTask;
  response: Extract<FetchResult, { ok: true }> | null = null;
  origin = 0;
  /** An error(status, reason) action, or a failure to reach the backend: 503. */
  errorStatus = 503;
  errorReason = 'Backend fetch failed';
  obj: CacheObject | null = null;
  /** return (pass(ttl)) in vcl_backend_response: a hit-for-pass object that long. */
  passTtl: number | undefined = undefined;
  /** vcl_backend_error ran (and counted the failure). */
  errored = false;
  /** Without do_stream: the whole body, read before the object is made. */
  wholeBody: Buffer[] | null = null;
  resolveObject!: (obj: CacheObject | null) => void;
  /** req as it was when the fetch began (Varnish's bereq0): what Vary is recorded against. */
  readonly req0: VclHttp;

  constructor(cr: ClientRequest, mode: FetchMode, slot: BusySlot | null, stale: CacheObject | null) {
    this.cr = cr;
    this.mode = mode;
    this.slot = slot;
    this.stale = mode === 'pass' ? null : stale;
    // A pass never stores a variant; a background fetch outlives its client's req.
    this.req0 = mode === 'pass' ? cr.task.req! : cr.task.req!.clone();
    const srv = cr.srv;
    const t = new VclTask('backend', srv.backendServices);
    t.xid = srv.nextXid();
    t.vcl = cr.vcl;
    t.bereq = makeBereq(cr, mode, this.stale, t.xid);
    t.setHashDigest(cr.task.hashDigest());
    t.uncacheable = mode === 'pass';
    t.isBgfetch = mode === 'bgfetch';
    t.clientIp = cr.task.clientIp;
    t.serverIp = cr.task.serverIp;
    t.localIp = cr.task.localIp;
    t.remoteIp = cr.task.remoteIp;
    t.bereqBackend = cr.task.backendHint ?? cr.vcl.defaultBackend;
    t.backendHint = t.bereqBackend;
    t.reqBody = cr.task.reqBody;
    const p = srv.params.values;
    t.connectTimeout = p.connect_timeout;
    t.firstByteTimeout = p.first_byte_timeout;
    t.betweenBytesTimeout = p.between_bytes_timeout;
    this.task = t;
    const tx = srv.txLog?.begin('backend', t.xid, cr.task.xid) ?? null;
    if (tx !== null) {
      srv.txOf.set(t, tx);
      tx.set('vcl', cr.vcl.name);
    }
  }

  call(sub: SubName): VclAction | Promise<VclAction> {
    return runSub(this.cr.vcl, sub, this.task, this.tx);
  }

  /** Its transaction record, when somebody reads them. */
  get tx(): TxLog | null {
    return this.cr.srv.txOf.get(this.task) ?? null;
  }
}

/** Starts a fetch; resolves with the object to deliver (still streaming) or null on failure. */
export function startFetch(cr: ClientRequest, mode: FetchMode, slot: BusySlot | null, stale: CacheObject | null): Promise<CacheObject | null> {
  const f = new Fetch(cr, mode, slot, stale);
  const counters = cr.srv.counters;
  counters.s_fetch++;
  if (mode === 'bgfetch') counters.s_bgfetch++;
  const done = new Promise<CacheObject | null>((resolve) => {
    f.resolveObject = resolve;
  });
  void run(f);
  return done;
}

async function run(f: Fetch): Promise<void> {
  let step: Step = 'fetch';
  try {
    while (step !== 'done') step = await STEPS[step](f);
  } catch (e) {
    f.cr.srv.logger.error({ err: e, xid: f.task.xid }, 'fetch failed');
    fail(f);
  } finally {
    const tx = f.tx;
    if (tx !== null) {
      const t = f.task;
      const bereq = t.bereq;
      if (bereq) tx.bereq(bereq.method, bereq.url, bereq.proto, bereq);
      const beresp = t.beresp;
      if (beresp) tx.beresp(beresp.status, beresp.reason, beresp.proto, beresp);
      if (t.berespBackend) tx.set('backend', t.berespBackend.name);
      tx.set('handling', f.errored ? 'error' : f.obj !== null ? 'fetch' : 'abandon');
      tx.time('BerespBody');
      tx.end();
    }
    f.task.end();
  }
}

function fail(f: Fetch): void {
  // Varnish counts a failed fetch once: in vcl_backend_error's step if it got there.
  if (!f.errored) f.cr.srv.counters.fetch_failed++;
  if (f.slot !== null && f.slot.state === 'busy') f.cr.srv.cache.release(f.slot);
  f.response?.body.abort();
  f.response = null;
  f.resolveObject(null);
}

const STEPS: Readonly<Record<Exclude<Step, 'done'>, (f: Fetch) => Step | Promise<Step>>> = {
  async fetch(f) {
    const a = await f.call('vcl_backend_fetch');
    switch (a.action) {
      case 'fetch':
        return 'send';
      case 'error':
        f.errorStatus = a.status;
        f.errorReason = a.reason;
        return 'error';
      default:
        return 'fail';
    }
  },

  async send(f) {
    const t = f.task;
    const director: Director | null = t.bereqBackend;
    const backend = director?.resolve(t) ?? null;
    if (backend === null || !isFetchable(backend)) {
      f.cr.srv.logger.warn({ xid: t.xid, backend: director?.name ?? null }, 'no backend to fetch from');
      return 'error';
    }
    t.berespBackend = backend;
    const bereq = t.bereq!;
    // A cached body (std.cache_req_body) can be sent again on retries; a streamed one once.
    let body: Uint8Array | Readable | null = null;
    if (!t.bereqBodyUnset) {
      if (t.reqBody !== null) body = t.reqBody;
      else if (f.mode === 'pass' && hasBody(f.cr)) {
        if (f.cr.bodyTaken) {
          f.cr.srv.logger.warn({ xid: t.xid }, 'Retry not possible, req.body not cached');
          return 'error';
        }
        f.cr.bodyTaken = true;
        body = Readable.from(countBody(f.cr.in.body(), f.cr.srv.counters));
      }
    }
    t.bereqTime = Date.now() / 1000;
    const p = f.cr.srv.params.values;
    const r = await backend.fetch(
      { method: bereq.method, url: bereq.url, headers: bereq, body },
      // bereq.*_timeout start as the parameters; only a value VCL changed overrides the backend's.
      {
        firstByteTimeout: t.firstByteTimeout !== p.first_byte_timeout ? t.firstByteTimeout : undefined,
        betweenBytesTimeout: t.betweenBytesTimeout !== p.between_bytes_timeout ? t.betweenBytesTimeout : undefined,
      },
    );
    if (!r.ok) {
      f.cr.srv.logger.warn({ xid: t.xid, backend: backend.name, error: r.message }, 'backend fetch failed');
      return 'error';
    }
    f.response = r;
    const now = Date.now() / 1000;
    t.berespTime = now;
    let beresp = VclHttp.response(r.status, r.reason);
    beresp.appendRaw(r.headers);
    t.was304 = false;
    if (r.status === 304 && f.stale !== null && f.mode !== 'pass') {
      // The stale object is still good: its headers, updated by the 304's, and its body.
      beresp = refreshed(f.stale.http, beresp);
      t.was304 = true;
      f.cr.srv.counters.fetch_304++;
    }
    // As Varnish: a response without Date gets the time it arrived (kept with the object).
    if (!beresp.has('Date')) beresp.append('Date', f.cr.srv.httpDate());
    t.beresp = beresp;
    const ttl = rfcTtl(beresp.status, beresp, now, f.cr.srv.params.values, t.uncacheable);
    f.origin = ttl.origin;
    // VCL reads beresp.ttl as what is left of it now.
    t.ttl = ttl.ttl - (now - ttl.origin);
    t.grace = ttl.grace;
    t.keep = ttl.keep;
    t.berespUncacheable = t.uncacheable;
    return 'response';
  },

  async response(f) {
    const t = f.task;
    const a = await f.call('vcl_backend_response');
    switch (a.action) {
      case 'deliver':
        return 'commit';
      case 'pass':
        // return (pass(ttl)): hit-for-pass.
        t.berespUncacheable = true;
        t.ttl = a.ttl ?? t.ttl;
        f.passTtl = a.ttl ?? t.ttl;
        return 'commit';
      case 'retry':
        return retry(f, 'response');
      case 'error':
        f.response?.body.abort();
        f.response = null;
        f.errorStatus = a.status;
        f.errorReason = a.reason;
        return 'error';
      default:
        return 'fail';
    }
  },

  async error(f) {
    const t = f.task;
    f.errored = true;
    f.cr.srv.counters.fetch_failed++;
    f.response?.body.abort();
    f.response = null;
    const beresp = VclHttp.response(f.errorStatus, f.errorReason);
    beresp.set('Date', f.cr.srv.httpDate());
    beresp.set('Server', 'Varnish');
    t.beresp = beresp;
    t.body = '';
    t.ttl = 0;
    t.grace = 0;
    t.keep = 0;
    t.berespUncacheable = true;
    f.origin = Date.now() / 1000;
    const a = await f.call('vcl_backend_error');
    switch (a.action) {
      case 'deliver':
        return 'commit';
      case 'retry':
        return retry(f, 'error');
      default:
        return 'fail';
    }
  },

  commit(f) {
    const t = f.task;
    if (f.response !== null && !t.doStream && f.wholeBody === null && !t.was304) {
      // Without do_stream the body comes whole before the object is made; one that breaks off
      // goes to vcl_backend_error, as in Varnish.
      return readWhole(f).then((ok) => (ok ? STEPS.commit(f) : 'error'));
    }
    const cache = f.cr.srv.cache;
    const now = Date.now() / 1000;
    const beresp = t.beresp!;
    const synthetic = f.response === null;
    const body: Buffer[] | undefined = synthetic
      ? [Buffer.from(t.body)]
      : f.wholeBody !== null
        ? f.wholeBody
        : t.was304 && f.stale !== null && f.stale.state === 'done'
        ? f.stale.chunks
        : undefined;
    if (synthetic) {
      beresp.unset('Content-Length');
      beresp.set('Content-Length', String(body![0].length));
    }
    // The object keeps no hop-by-hop headers: vcl_deliver sees none (Varnish drops them when
    // it makes the object; vcl_backend_response still saw them).
    for (const name of HOP_BY_HOP) beresp.unset(name);
    const ttl = t.ttl + (now - f.origin);
    const vary = buildVary(beresp.get('Vary'), f.req0);
    const uncacheable = t.berespUncacheable || t.uncacheable || 'error' in vary;
    const init = {
      xid: t.xid,
      http: beresp,
      origin: f.origin,
      ttl,
      grace: t.grace,
      keep: t.keep,
      vary: 'spec' in vary ? vary.spec : null,
      body,
      fetchedAt: now,
    };

    let obj: CacheObject;
    if (f.slot === null || t.uncacheable || synthetic) {
      // Pass, or an error object: private to this request.
      if (f.slot !== null) cache.release(f.slot);
      obj = new Obj(init);
    } else if (uncacheable) {
      // A marker in the cache (hit-for-miss or hit-for-pass), and a private object to deliver.
      const passTtl = f.passTtl;
      const kind: ObjectKind = passTtl !== undefined ? 'hit_for_pass' : 'hit_for_miss';
      const markerTtl = passTtl ?? ttl;
      if (markerTtl > 0) {
        cache.commit(f.slot, { xid: t.xid, http: beresp.clone(), origin: now, ttl: markerTtl, grace: 0, keep: 0, kind, body: [] }, now);
      } else {
        cache.release(f.slot);
      }
      obj = new Obj(init);
    } else {
      obj = cache.commit(f.slot, init, now);
    }
    f.obj = obj;
    f.resolveObject(obj);
    if (obj.state !== 'streaming') return 'done';
    return pump(f, obj);
  },

  fail(f) {
    fail(f);
    return 'done';
  },
};

function retry(f: Fetch, from: 'response' | 'error'): Step {
  const t = f.task;
  f.response?.body.abort();
  f.response = null;
  t.retries++;
  if (t.retries > f.cr.srv.params.values.max_retries) {
    f.errorStatus = 503;
    f.errorReason = 'Backend fetch failed';
    // Varnish 7.1: too many retries from vcl_backend_response delivers vcl_backend_error's
    // answer; from vcl_backend_error itself, the fetch fails.
    f.cr.srv.logger.info({ xid: t.xid }, from === 'error' ? 'Too many retries, failing' : 'Too many retries, delivering 503');
    return from === 'error' ? 'fail' : 'error';
  }
  // A retry is a new transaction (a new xid) with the same bereq, as VCL left it.
  t.xid = f.cr.srv.nextXid();
  t.was304 = false;
  f.wholeBody = null;
  return 'fetch';
}

/** Reads the whole backend body into the fetch; false when it broke off. */
async function readWhole(f: Fetch): Promise<boolean> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of f.response!.body) chunks.push(chunk);
  } catch (e) {
    f.cr.srv.logger.warn({ xid: f.task.xid, error: (e as Error).message }, 'backend body failed');
    return false;
  }
  f.wholeBody = chunks;
  return true;
}

/** Copies the backend body into the object, chunk by chunk, as it arrives. */
async function pump(f: Fetch, obj: CacheObject): Promise<Step> {
  const r = f.response!;
  try {
    for await (const chunk of r.body) obj.append(chunk);
    // The connection goes back to the pool a turn after the body ends (undici resumes a client
    // in setImmediate); Varnish recycles it before the object is finished, so a pipelined
    // request that follows reuses it instead of opening a second one.
    await new Promise((resolve) => setImmediate(resolve));
    obj.finish();
  } catch (e) {
    f.cr.srv.counters.fetch_failed++;
    f.cr.srv.logger.warn({ xid: f.task.xid, error: (e as Error).message }, 'backend body failed');
    obj.fail();
  }
  return 'done';
}

/** The client's body on its way to the backend, counted as it passes (s_req_bodybytes). */
async function* countBody(body: AsyncIterable<Buffer>, counters: { s_req_bodybytes: number }): AsyncGenerator<Buffer> {
  for await (const chunk of body) {
    counters.s_req_bodybytes += chunk.length;
    yield chunk;
  }
}

function isFetchable(d: Director): d is Backend {
  return typeof (d as Partial<Backend>).fetch === 'function';
}

function hasBody(cr: ClientRequest): boolean {
  return cr.in.hasBody;
}

/** The backend request: a copy of req, filtered and adjusted as Varnish does for each mode. */
function makeBereq(cr: ClientRequest, mode: FetchMode, stale: CacheObject | null, xid: number): VclHttp {
  const req = cr.task.req!;
  const pass = mode === 'pass';
  // A fetch into the cache is always a GET: the cache answers HEAD (and the rest) from it.
  const bereq = VclHttp.request(pass ? req.method : 'GET', req.url, 'HTTP/1.1');
  copyHeaders(req, bereq, pass ? NOT_FORWARDED : NOT_FETCHED);
  if (!pass) {
    // A fetch into the cache has no body to send (builtin vcl_backend_fetch unsets it for GET).
    bereq.unset('Content-Length');
    if (stale?.revalidatable) {
      const lm = stale.http.get('Last-Modified');
      if (lm !== null) bereq.set('If-Modified-Since', lm);
      const etag = stale.etag;
      if (etag !== null) bereq.set('If-None-Match', etag);
    }
  }
  bereq.set('X-Varnish', String(xid));
  return bereq;
}

/** Copies the headers of `from` but those in `drop` and those its Connection header names. */
export function copyHeaders(from: VclHttp, to: VclHttp, drop: ReadonlySet<string>): void {
  let named: Set<string> | null = null;
  for (const v of from.getAll('Connection')) {
    for (const token of v.split(',')) {
      const t = token.trim().toLowerCase();
      if (t === '') continue;
      named ??= new Set();
      named.add(t);
    }
  }
  for (let i = 0; i < from.count; i++) {
    const name = from.nameAt(i);
    const lower = name.toLowerCase();
    if (drop.has(lower) || named?.has(lower)) continue;
    to.append(name, from.valueAt(i));
  }
}

/** A stale object's headers updated by a 304's (RFC 9111 4.3.4), as status 200. */
function refreshed(stale: VclHttp, r304: VclHttp): VclHttp {
  const out = VclHttp.response(stale.status, stale.reason);
  for (let i = 0; i < stale.count; i++) out.append(stale.nameAt(i), stale.valueAt(i));
  const skip = new Set(['content-length', 'transfer-encoding', 'content-encoding', 'etag']);
  for (let i = 0; i < r304.count; i++) {
    const name = r304.nameAt(i);
    if (skip.has(name.toLowerCase())) continue;
    out.set(name, r304.valueAt(i));
  }
  return out;
}
