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

import { byteStringToBuffer } from '../common/byte-string.ts';
import { Readable } from 'node:stream';
import type { BusySlot, CacheObject, ObjectKind } from '../cache/index.ts';
import { buildVary, mergeNotModified, rfcTtl, validatorsOf } from '../cache/index.ts';
import { type ConnectionMarks, copyHeaders, dropHeaders, markConnectionNamed, NOT_FETCHED, NOT_PASSED, NOT_STORED, NOT_STORED_ON_PASS } from '../common/http-headers.ts';
import { type BodyInfo, newBodyInfo } from '../filters/body-info.ts';
import { weakenEtag } from '../filters/http-edits.ts';
import { openBodyFilters } from './body-filters.ts';
import type { Stage } from '../filters/stage.ts';
import type { TxLog } from '../common/log.ts';
import type { VclAction } from '../runtime/actions.ts';
import { VclHttp } from '../runtime/http.ts';
import type { LoadedVcl } from '../runtime/loaded-vcl.ts';
import { VclTask } from '../runtime/task.ts';
import type { SubName } from '../vcl/spec.ts';
import type { Director } from '../vmod/api.ts';
import type { Backend, FetchResult } from './backend/backend.ts';
import { BackendBody } from './backend/body.ts';
import { saysClose } from './backend/request.ts';
import type { RequestBody } from './request-body.ts';
import { afterSub, runSub } from './run-sub.ts';
import type { Shellac } from './server.ts';
import type { VclEntry } from './vcls.ts';
import { emitFetchEvent } from './server-events.ts';
import { watchConnection } from './fetch-connection.ts';
import { StepTimes } from '../common/step-times.ts';

export type FetchMode = 'miss' | 'pass' | 'bgfetch';

type Step = 'fetch' | 'send' | 'response' | 'error' | 'commit' | 'fail' | 'done';

/**
 * What a fetch is started with. Everything it needs from the client is copied or referenced
 * here when it starts, as Varnish's busyobj copies from its req: a background fetch outlives
 * the client that started it, and runs on its own reference to the VCL.
 */
export interface FetchOrder {
  readonly mode: FetchMode;
  readonly slot: BusySlot | null;
  /** An expired object to revalidate (a miss or a background refresh). */
  readonly stale: CacheObject | null;
  /** The client task the fetch is for: read once, now. */
  readonly client: VclTask;
  /** The VCL the client runs on; the fetch holds a reference of its own until it ends. */
  readonly entry: VclEntry;
  /** The client's body, which a pass streams to the backend (null when there is none). */
  readonly body: RequestBody | null;
  /** The request lines its Connection header named on arrival: not sent on. */
  readonly marks: ConnectionMarks | null;
}

export class Fetch {
  readonly srv: Shellac;
  readonly mode: FetchMode;
  readonly slot: BusySlot | null;
  readonly stale: CacheObject | null;
  readonly task: VclTask;
  readonly entry: VclEntry;
  readonly vcl: LoadedVcl;
  readonly body: RequestBody | null;
  response: Extract<FetchResult, { ok: true }> | null = null;
  /** For the latency histograms: a fetch is a miss or a pass, so it always takes the time. */
  readonly startedAt = performance.now();
  origin = 0;
  /**
   * When VCL's view of the timers was taken (the response's arrival): beresp.ttl is what is
   * left of the ttl then, so the object's ttl from its origin is beresp.ttl + (this - origin).
   */
  timersAt = 0;
  /** An error(status, reason) action, or a failure to reach the backend: 503. */
  errorStatus = 503;
  errorReason = 'Backend fetch failed';
  obj: CacheObject | null = null;
  /** return (pass(ttl)) in vcl_backend_response: a hit-for-pass object that long. */
  passTtl: number | undefined = undefined;
  /** vcl_backend_error ran (and counted the failure). */
  errored = false;
  /** The error step comes from VCL's return (error), not from a failure. */
  vclError = false;
  /** Without do_stream: the whole body, read before the object is made. */
  wholeBody: Buffer[] | null = null;
  resolveObject!: (obj: CacheObject | null) => void;
  /** req as it was when the fetch began (Varnish's bereq0): what Vary is recorded against. */
  readonly req0: VclHttp;
  /** Its transaction record, when somebody reads them. */
  readonly tx: TxLog | null;
  /** The times of its steps (Timestamp records), when its record or a `fetch` subscriber wants them. */
  readonly times: StepTimes | null;
  /** The xid of the client request that started it. */
  readonly clientXid: number;
  /** The response lines its Connection header named on arrival: the object keeps none. */
  berespMarks: ConnectionMarks | null = null;
  /** The fetch filters once opened (null: the body is stored as it comes), and what they found. */
  filters: Stage | null | undefined = undefined;
  info: BodyInfo = newBodyInfo();

  constructor(srv: Shellac, order: FetchOrder) {
    const { mode, client } = order;
    this.srv = srv;
    this.mode = mode;
    this.slot = order.slot;
    this.stale = mode === 'pass' ? null : order.stale;
    this.entry = srv.vcls.hold(order.entry);
    this.vcl = order.entry.vcl;
    this.body = mode === 'pass' ? order.body : null;
    const req = client.req!;
    // A pass never stores a variant; the others keep req as it is now.
    this.req0 = mode === 'pass' ? req : req.clone();
    const t = new VclTask('backend', srv.backendServices);
    t.xid = srv.nextXid();
    t.vcl = this.vcl;
    t.bereq = makeBereq(req, order.marks, mode, this.stale, t.xid, srv.params.values.http_gzip_support);
    t.setHashDigest(client.hashDigest());
    t.uncacheable = mode === 'pass';
    t.isBgfetch = mode === 'bgfetch';
    t.clientIp = client.clientIp;
    t.serverIp = client.serverIp;
    t.localIp = client.localIp;
    t.remoteIp = client.remoteIp;
    // Unset (undefined) means the VCL's default; NULL set by VCL (vtc.no_backend()) stays none.
    t.bereqBackend = client.backendHint === undefined ? this.vcl.defaultBackend : client.backendHint;
    t.backendHint = t.bereqBackend;
    t.reqBody = client.reqBody;
    const p = srv.params.values;
    t.connectTimeout = p.connect_timeout;
    t.firstByteTimeout = p.first_byte_timeout;
    t.betweenBytesTimeout = p.between_bytes_timeout;
    t.gzipSupport = p.http_gzip_support;
    this.task = t;
    this.clientXid = client.xid;
    const tx = srv.txLog?.begin('backend', t.xid, client.xid) ?? null;
    this.tx = tx;
    this.times = tx !== null || srv.events.listening.fetch ? new StepTimes() : null;
    if (tx !== null) {
      srv.txOf.set(t, tx);
      tx.set('vcl', this.vcl.name);
    }
  }

  call(sub: SubName): VclAction | Promise<VclAction> {
    return runSub(this.vcl, sub, this.task, this.tx);
  }
}

/** Starts a fetch; resolves with the object to deliver (still streaming) or null on failure. */
export function startFetch(srv: Shellac, order: FetchOrder): Promise<CacheObject | null> {
  const f = new Fetch(srv, order);
  // The stale object is this fetch's to read (a 304 keeps its body) until the fetch ends: a
  // lend of its own, given back in run()'s finally, whoever else gives theirs back first.
  f.stale?.lend(Date.now() / 1000);
  const counters = srv.counters;
  counters.s_fetch++;
  if (order.mode === 'bgfetch') counters.s_bgfetch++;
  const done = new Promise<CacheObject | null>((resolve) => {
    f.resolveObject = resolve;
  });
  void run(f);
  return done;
}

async function run(f: Fetch): Promise<void> {
  let step: Step = 'fetch';
  try {
    // A step whose sub is synchronous hands over the next at once; only a promise is awaited.
    while (step !== 'done') {
      const next = STEPS[step](f);
      step = typeof next === 'string' ? next : await next;
    }
  } catch (e) {
    f.srv.logger.error({ err: e, xid: f.task.xid }, 'fetch failed');
    fail(f);
  } finally {
    f.srv.vcls.leave(f.entry);
    f.stale?.giveBack();
    if (f.obj !== null && !f.errored) f.times?.mark('BerespBody');
    const tx = f.tx;
    if (tx !== null) {
      const t = f.task;
      const bereq = t.bereq;
      if (bereq) tx.bereq(bereq.method, bereq.url, bereq.proto, bereq);
      const beresp = t.beresp;
      if (beresp) tx.beresp(beresp.status, beresp.reason, beresp.proto, beresp);
      if (t.berespBackend) tx.set('backend', t.berespBackend.name);
      tx.set('handling', f.errored ? 'error' : f.obj !== null ? 'fetch' : 'abandon');
      if (f.times !== null) tx.steps(f.times);
      tx.end();
    }
    const backend = f.task.berespBackend;
    if (backend) f.srv.latency?.fetch.observe(backend.name, (performance.now() - f.startedAt) / 1000);
    if (f.times !== null && f.srv.events.listening.fetch) emitFetchEvent(f, f.times);
    f.task.end();
  }
}

function fail(f: Fetch): void {
  // Varnish counts a failed fetch once: in vcl_backend_error's step if it got there.
  if (!f.errored) f.srv.counters.fetch_failed++;
  if (f.slot !== null && f.slot.state === 'busy') f.srv.cache.release(f.slot);
  f.response?.body.abort();
  f.response = null;
  f.resolveObject(null);
}

const STEPS: Readonly<Record<Exclude<Step, 'done'>, (f: Fetch) => Step | Promise<Step>>> = {
  fetch(f) {
    // beresp.storage's first value, chosen per attempt as varnishd's STV_next does.
    const cache = f.srv.cache;
    f.task.berespStorage = f.task.uncacheable ? cache.transient : cache.nextStorage();
    return afterSub(f, f.call('vcl_backend_fetch'), afterFetchSub);
  },

  async send(f) {
    const t = f.task;
    const director: Director | null = t.bereqBackend;
    const backend = director?.resolve(t) ?? null;
    if (backend === null || !isFetchable(backend)) {
      f.srv.logger.warn({ xid: t.xid, backend: director?.name ?? null }, 'no backend to fetch from');
      return 'error';
    }
    t.berespBackend = backend;
    const bereq = t.bereq!;
    // A cached body (std.cache_req_body) can be sent again on retries; a streamed one once.
    let body: Uint8Array | Readable | null = null;
    if (!t.bereqBodyUnset) {
      if (t.reqBody !== null) body = t.reqBody;
      else if (f.body?.present) {
        if (f.body.taken) {
          f.srv.logger.warn({ xid: t.xid }, 'Retry not possible, req.body not cached');
          return 'error';
        }
        body = Readable.from(countBody(f.body.take(), f.srv.counters));
      }
    }
    t.bereqTime = Date.now() / 1000;
    const p = f.srv.params.values;
    // Bereq (the request is written) and the connection it went on are seen as the backend
    // client writes it, found by the X-Varnish it carries (a retry sends the first one's, as VCL
    // left bereq).
    const times = f.times;
    const sentXid = Number(bereq.get('x-varnish'));
    const unwatch =
      times === null || !(sentXid > 0)
        ? undefined
        : watchConnection(sentXid, (c) => {
            // The client has a connection and writes the head at once: both of Varnish's steps.
            times.mark('Connected');
            times.mark('Bereq');
            f.tx?.set('backendOpen', c);
          });
    const r = await backend.fetch(
      { method: bereq.method, url: bereq.url, proto: bereq.proto, headers: bereq, body },
      // bereq.*_timeout start as the parameters; only a value VCL changed overrides the backend's.
      {
        firstByteTimeout: t.firstByteTimeout !== p.first_byte_timeout ? t.firstByteTimeout : undefined,
        betweenBytesTimeout: t.betweenBytesTimeout !== p.between_bytes_timeout ? t.betweenBytesTimeout : undefined,
        headLimits: { lineBytes: p.http_resp_hdr_len, headBytes: p.http_resp_size },
      },
    );
    unwatch?.();
    if (!r.ok) {
      f.srv.logger.warn({ xid: t.xid, backend: backend.name, error: r.message }, 'backend fetch failed');
      return 'error';
    }
    f.response = r;
    f.times?.mark('Beresp');
    f.srv.latency?.firstByte.observe(backend.name, (performance.now() - f.startedAt) / 1000);
    const now = Date.now() / 1000;
    t.berespTime = now;
    let beresp = VclHttp.response(r.status, r.reason);
    beresp.appendRaw(r.headers);
    const marks = markConnectionNamed(beresp);
    if (marks === 'refused') {
      // Connection names a header that must not be dropped: Varnish fails the fetch.
      f.srv.logger.warn({ xid: t.xid, backend: backend.name }, 'backend response Connection header names a well-known header');
      r.body.abort();
      return 'error';
    }
    f.berespMarks = marks;
    t.was304 = false;
    // As Varnish: a response without Date gets the time it arrived (kept with the object).
    if (!beresp.has('Date')) beresp.append('Date', f.srv.httpDate());
    if (r.status === 304 && f.mode !== 'pass') {
      if (f.stale === null || !f.stale.revalidatable) {
        // A 304 to a fetch that had nothing to revalidate: Varnish takes it as bogus.
        f.srv.logger.warn({ xid: t.xid, backend: backend.name }, '304 response but not conditional fetch');
        r.body.abort();
        return 'error';
      }
      // The stale object is still good: its headers, updated by the 304's, and its body. If a
      // filter changed its encoding, the 304's Content-Encoding does not apply to it and its
      // new ETag is weak, as Varnish has it.
      if (f.stale.info.changedEncoding) {
        beresp.unset('Content-Encoding');
        weakenEtag(beresp);
      }
      beresp = mergeNotModified(f.stale, beresp);
      t.was304 = true;
      f.srv.counters.fetch_304++;
    }
    t.beresp = beresp;
    const ttl = rfcTtl(beresp.status, beresp, now, f.srv.params.values, t.uncacheable);
    f.origin = ttl.origin;
    f.timersAt = now;
    // VCL reads beresp.ttl as what is left of it now.
    t.ttl = ttl.ttl - (now - ttl.origin);
    t.grace = ttl.grace;
    t.keep = ttl.keep;
    t.berespUncacheable = t.uncacheable;
    return 'response';
  },

  response(f) {
    return afterSub(f, f.call('vcl_backend_response'), afterResponseSub);
  },

  error(f) {
    const t = f.task;
    f.errored = true;
    f.times?.mark('Error');
    // A failure counts; VCL's own return (error) does not, as in Varnish.
    if (!f.vclError) f.srv.counters.fetch_failed++;
    f.vclError = false;
    f.response?.body.abort();
    f.response = null;
    const beresp = VclHttp.response(f.errorStatus, f.errorReason);
    beresp.set('Date', f.srv.httpDate());
    beresp.set('Server', 'Varnish');
    t.beresp = beresp;
    t.body = '';
    // As Varnish: with requests waiting on this fetch, the error is cached a moment so they
    // do not each try the backend in turn; otherwise it is not cached unless VCL says so.
    const waited = f.slot !== null && f.slot.head.waiting > 0;
    t.ttl = waited ? 1 : 0;
    t.grace = waited ? 5 : 0;
    t.keep = waited ? 5 : 0;
    t.berespUncacheable = t.uncacheable;
    f.origin = Date.now() / 1000;
    f.timersAt = f.origin;
    return afterSub(f, f.call('vcl_backend_error'), afterErrorSub);
  },

  commit(f) {
    const t = f.task;
    const beresp = t.beresp!;
    if (f.filters === undefined && f.response !== null && !t.was304) {
      // The filters open before the object is made: they change the headers it keeps.
      const opened = emptyBody(f.response, beresp) ? { ok: true as const, stage: null } : openBodyFilters(f.srv, t, f.info, f.tx);
      if (!opened.ok) {
        f.srv.logger.warn({ xid: t.xid, error: opened.message }, 'fetch filters failed');
        f.tx?.error(opened.message);
        f.response.body.abort();
        f.response = null;
        return 'error';
      }
      f.filters = opened.stage;
    }
    if (f.filters === null && f.wholeBody === null && !t.was304 && f.response !== null) {
      // A body that came whole with its head (a small response) is stored as it is: the
      // object is complete when its reader gets it, with no body loop on either side.
      const rb = f.response.body;
      if (rb.takeComplete !== undefined) f.wholeBody = rb.takeComplete(f.slot === null || t.uncacheable ? Number.POSITIVE_INFINITY : f.srv.cache.maxBytes);
    }
    const vary = buildVary(beresp.get('Vary'), f.req0, t.gzipSupport);
    // A body known to be empty is read before the object is made (Varnish turns do_stream off
    // for it), so its backend connection is free again before the client goes on. An ESI
    // body streams like any other, its instructions parsed as it comes; with feature
    // esi_parallel_includes off it is read whole first, as Varnish does (so its includes find
    // the backend connection it came on free).
    const esiWhole = f.info.esiOpen && !f.srv.params.values.feature.has('esi_parallel_includes');
    if (f.response !== null && (!t.doStream || esiWhole || emptyBody(f.response, beresp)) && f.wholeBody === null && !t.was304) {
      // Requests for other variants need not wait while the whole body comes (predictive Vary).
      if (f.slot !== null && 'spec' in vary) f.srv.cache.setBusyVary(f.slot, vary.spec);
      // Without do_stream the body comes whole before the object is made; one that breaks off
      // goes to vcl_backend_error, as in Varnish.
      return readWhole(f).then((ok) => (ok && fitsStorage(f) ? STEPS.commit(f) : 'error'));
    }
    const stale = f.stale;
    if (t.was304 && stale !== null && stale.state === 'streaming') {
      // The 304 keeps the stale body, which is still arriving: wait for it. If it breaks off,
      // this fetch fails too ("Template object failed"), as in Varnish.
      return whenEnded(stale).then(() => {
        if (stale.state === 'done') return STEPS.commit(f);
        f.srv.logger.warn({ xid: t.xid }, 'Template object failed');
        return 'fail';
      });
    }
    const cache = f.srv.cache;
    const now = Date.now() / 1000;
    const synthetic = f.response === null;
    const body: Buffer[] | undefined = synthetic
      ? [typeof t.body === 'string' ? byteStringToBuffer(t.body) : Buffer.from(t.body)]
      : f.wholeBody !== null
        ? f.wholeBody
        : t.was304 && f.stale !== null && f.stale.state === 'done'
        ? f.stale.chunks
        : undefined;
    if (synthetic) {
      beresp.unset('Content-Length');
      beresp.set('Content-Length', String(body![0].length));
    }
    const uncacheable = t.berespUncacheable || t.uncacheable || 'error' in vary;
    // What the header table says an object does not keep, and what Connection named:
    // vcl_backend_response still saw them, vcl_deliver does not.
    dropHeaders(beresp, uncacheable || synthetic ? NOT_STORED_ON_PASS : NOT_STORED, synthetic ? null : f.berespMarks);
    const ttl = t.ttl + (f.timersAt - f.origin);
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
      // What the filters know of the body travels with it; a 304 keeps the stale body's.
      info: synthetic ? undefined : t.was304 && f.stale !== null ? f.stale.info : f.info,
    };

    // Where Varnish would allocate the object: Transient for the uncacheable and short-lived.
    const counters = f.srv.counters;
    let storage = t.berespStorage;
    if (uncacheable) counters.beresp_uncacheable++;
    else if (ttl + t.grace + t.keep < f.srv.params.values.shortlived) {
      counters.beresp_shortlived++;
      storage = cache.transient;
    }

    // A pass's object has no lifetime (obj.ttl reads 0 in vcl_deliver, as in Varnish).
    const own = t.uncacheable ? { ...init, kind: 'private' as const, ttl: 0, grace: 0, keep: 0 } : uncacheable ? { ...init, kind: 'private' as const } : init;
    let obj: CacheObject;
    if (f.slot === null || t.uncacheable || (synthetic && (uncacheable || t.ttl <= 0))) {
      // Pass, or an error object VCL gave no ttl: private to this request.
      if (f.slot !== null) cache.release(f.slot);
      obj = cache.newPrivate(own);
    } else if (uncacheable) {
      // A marker in the cache (hit-for-miss or hit-for-pass), and a private object to deliver.
      const passTtl = f.passTtl;
      const kind: ObjectKind = passTtl !== undefined ? 'hit_for_pass' : 'hit_for_miss';
      const markerTtl = passTtl ?? ttl;
      if (markerTtl > 0) {
        // A hit-for-miss marker keeps beresp's grace and keep, as Varnish's objcore does, so a
        // request after its ttl still finds it (and fetches) rather than waiting on a fetch.
        const grace = kind === 'hit_for_miss' ? t.grace : 0;
        const keep = kind === 'hit_for_miss' ? t.keep : 0;
        // return (pass(ttl)) counts from now; a hit-for-miss keeps the response's own timers.
        const origin = kind === 'hit_for_pass' ? now : f.origin;
        cache.commit(f.slot, { xid: t.xid, http: beresp.clone(), origin, ttl: markerTtl, grace, keep, kind, body: [] }, now, cache.transient);
      } else {
        cache.release(f.slot);
      }
      obj = cache.newPrivate(own);
    } else {
      obj = cache.commit(f.slot, init, now, storage);
    }
    // No room in storage for a whole body (nuke_limit): the fetch fails, as varnishd's does.
    if (obj.state === 'failed') return 'fail';
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

function afterFetchSub(f: Fetch, a: VclAction): Step {
  switch (a.action) {
    case 'fetch':
      f.times?.mark('Fetch');
      return 'send';
    case 'error':
      return vclError(f, a);
    default:
      return 'fail';
  }
}

/** VCL's return (error(status, reason)): vcl_backend_error, not counted as a failure. */
function vclError(f: Fetch, a: { readonly status: number; readonly reason: string }): Step {
  f.errorStatus = a.status;
  f.errorReason = a.reason;
  f.vclError = true;
  return 'error';
}

function afterResponseSub(f: Fetch, a: VclAction): Step {
  const t = f.task;
  // As Varnish: the connection is not reused when beresp says Connection: close as VCL left
  // it, nor after abandon, fail or error, nor after a retry that leaves a body unread. (A
  // VMOD's backend that answers by itself, compute's programs, has no connection to decide.)
  const body = f.response?.body;
  const unread = a.action === 'retry' && body instanceof BackendBody && (body.bytes > 0 || !body.complete);
  if (body instanceof BackendBody) body.decideConnection(saysClose(t.beresp?.get('Connection')) || unread || (a.action !== 'deliver' && a.action !== 'pass' && a.action !== 'retry'));
  if (a.action === 'deliver' || a.action === 'pass') f.times?.mark('Process');
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
      return vclError(f, a);
    default:
      return 'fail';
  }
}

function afterErrorSub(f: Fetch, a: VclAction): Step {
  switch (a.action) {
    case 'deliver':
      return 'commit';
    case 'retry':
      return retry(f, 'error');
    default:
      return 'fail';
  }
}

function retry(f: Fetch, from: 'response' | 'error'): Step {
  const t = f.task;
  f.response?.body.abort();
  f.response = null;
  t.retries++;
  if (t.retries > f.srv.params.values.max_retries) {
    f.errorStatus = 503;
    f.errorReason = 'Backend fetch failed';
    // Varnish 7.1: too many retries from vcl_backend_response delivers vcl_backend_error's
    // answer; from vcl_backend_error itself, the fetch fails.
    f.srv.logger.info({ xid: t.xid }, from === 'error' ? 'Too many retries, failing' : 'Too many retries, delivering 503');
    return from === 'error' ? 'fail' : 'error';
  }
  // A retry is a new transaction (a new xid) with the same bereq, as VCL left it.
  f.times?.mark('Retry');
  t.xid = f.srv.nextXid();
  t.was304 = false;
  f.wholeBody = null;
  f.filters = undefined;
  f.info = newBodyInfo();
  return 'fetch';
}

/** The backend body through the fetch filters. */
function bodyOf(f: Fetch): AsyncIterable<Buffer> {
  const body = f.response!.body;
  return f.filters ? f.filters(body) : body;
}

/** Reads the whole backend body into the fetch; false when it broke off. */
async function readWhole(f: Fetch): Promise<boolean> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of bodyOf(f)) chunks.push(chunk);
  } catch (e) {
    // A status that has no body (a 304 announcing a length, say) has nothing to lose.
    if (noBodyStatus(f.response!.status)) {
      f.wholeBody = [];
      return true;
    }
    f.srv.logger.warn({ xid: f.task.xid, error: (e as Error).message }, 'backend body failed');
    return false;
  }
  f.wholeBody = chunks;
  return true;
}

/**
 * Whether a body read whole fits the cache at all: Varnish fails a fetch whose storage cannot
 * be had ("Could not get storage"). A pass's object is not held against the cache's size.
 */
function fitsStorage(f: Fetch): boolean {
  if (f.slot === null || f.task.uncacheable) return true;
  let bytes = 0;
  for (const c of f.wholeBody!) bytes += c.length;
  if (bytes <= f.srv.cache.maxBytes) return true;
  f.srv.logger.warn({ xid: f.task.xid, bytes }, 'Could not get storage');
  f.tx?.error('Could not get storage');
  return false;
}

/** Whether a backend response has no body to read: a status without one, or a length of 0. */
function emptyBody(r: Extract<FetchResult, { ok: true }>, beresp: VclHttp): boolean {
  return noBodyStatus(r.status) || beresp.get('Content-Length')?.trim() === '0';
}

function noBodyStatus(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

/** Resolves when an object's body has ended, whole or failed. */
async function whenEnded(obj: CacheObject): Promise<void> {
  while (obj.state === 'streaming') await obj.whenMore(obj.chunkCount);
}

/** Copies the backend body into the object, chunk by chunk, as it arrives. */
async function pump(f: Fetch, obj: CacheObject): Promise<Step> {
  try {
    for await (const chunk of bodyOf(f)) {
      // The object failed (no storage) or its one reader left: the rest is not wanted.
      if (obj.state !== 'streaming' || obj.abandoned) {
        f.response?.body.abort();
        return 'done';
      }
      obj.append(chunk);
      // A pass holds a bounded buffer ahead of its reader: wait for the reader.
      if (obj.full) await obj.whenRoom();
    }
    // The backend client put the connection back in the pool before the body's end reached
    // here, as Varnish recycles it before the object is finished: a pipelined request that
    // follows reuses it instead of opening a second one.
    obj.finish();
  } catch (e) {
    f.srv.counters.fetch_failed++;
    f.srv.logger.warn({ xid: f.task.xid, error: (e as Error).message }, 'backend body failed');
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

// A VMOD's backend that answers by itself (FetchingBackend in src/vmod/api.ts: compute's
// programs) passes too: its fetch() answers as Backend's does, and the steps use no more of it.
function isFetchable(d: Director): d is Backend {
  return typeof (d as Partial<Backend>).fetch === 'function';
}

/** The backend request: a copy of req, filtered and adjusted as Varnish does for each mode. */
function makeBereq(req: VclHttp, marks: ConnectionMarks | null, mode: FetchMode, stale: CacheObject | null, xid: number, gzip: boolean): VclHttp {
  const pass = mode === 'pass';
  // A fetch into the cache is always a GET: the cache answers HEAD (and the rest) from it.
  const bereq = VclHttp.request(pass ? req.method : 'GET', req.url, 'HTTP/1.1');
  copyHeaders(req, bereq, pass ? NOT_PASSED : NOT_FETCHED, marks);
  if (!pass) {
    // A fetch into the cache has no body to send (builtin vcl_backend_fetch unsets it for GET).
    bereq.unset('Content-Length');
    // As Varnish: the cache asks for gzip, and unzips for the clients that do not take it.
    if (gzip) bereq.set('Accept-Encoding', 'gzip');
    const v = validatorsOf(stale);
    if (v !== null) {
      if (v.ifModifiedSince !== null) bereq.set('If-Modified-Since', v.ifModifiedSince);
      if (v.ifNoneMatch !== null) bereq.set('If-None-Match', v.ifNoneMatch);
    }
  }
  bereq.set('X-Varnish', String(xid));
  return bereq;
}
