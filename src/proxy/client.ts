// The client side: one request from a client, driven through Varnish's client state machine.
// STEPS is the whole machine: each step runs the VCL sub of its name (if any), reads the
// action, and names the next step. The loop in `run` follows the names until 'done'.
//
//   recv ─► hash ─► lookup ─► hit ─► deliver
//     │       │        ├────► miss ─► fetch ─► deliver
//     │       │        └────► pass ─► fetch ─► deliver
//     │       ├─► pass / purge / pipe (decided in recv, after hash)
//     └─► synth ◄─ (any step)          restart ─► recv
//
// A cache hit stays synchronous up to the write unless a sub awaits a VMOD.

import type { Socket } from 'node:net';
import type { Http1Request, RequestHead } from '../http1/index.ts';
import { type BusySlot, type CacheObject, hasDate, LINES_UNKNOWN, lineCount } from '../cache/index.ts';
import type { VclAction } from '../runtime/actions.ts';
import { type ConnectionMarks, markConnectionNamed } from '../common/http-headers.ts';
import { VclHttp } from '../runtime/http.ts';
import { ipFromSocket, UNIX_SOCKET_IP, type VclIp } from '../common/ip.ts';
import { statusReason } from '../runtime/status.ts';
import type { RequestHandling } from './latency.ts';
import type { TxLog } from '../common/log.ts';
import { StepTimes } from '../common/step-times.ts';
import type { LoadedVcl } from '../runtime/loaded-vcl.ts';
import { type RespMaker, VclTask } from '../runtime/task.ts';
import type { SubName } from '../vcl/spec.ts';
import { deliverObject, deliverSynth, writeMinimal } from './deliver.ts';
import { type FetchMode, startFetch } from './fetch.ts';
import { requestXid } from './last-defence.ts';
import { runPipe } from './pipe-step.ts';
import { NO_BODY, type RequestBody, requestBodyOf } from './request-body.ts';
import { normaliseAcceptEncoding } from '../filters/accept-encoding.ts';
import type { ClientResponse } from './client-response.ts';
import type { IncludeSink } from './esi-include.ts';
import { afterSub, runSub } from './run-sub.ts';
import type { Shellac } from './server.ts';
import { emitRequestEvent } from './server-events.ts';
import type { VclEntry } from './vcls.ts';

/** Slots of Varnish's http_max_hdr taken by the first line's fields, not by header lines. */
const HTTP_HDR_FIRST = 5;

/** An ESI include's request: made from its parent's, as Varnish's ved_include makes it. */
export interface EsiOrigin {
  readonly parent: ClientRequest;
  /** The include's request as it starts (Varnish's http0), which std.rollback returns to. */
  readonly req: VclHttp;
  /** Where the include's body goes: plain bytes, or gzip pieces for a gzip page. */
  readonly sink: IncludeSink;
}

type Step = 'recv' | 'hash' | 'lookup' | 'hit' | 'miss' | 'pass' | 'pipe' | 'purge' | 'synth' | 'deliver' | 'restart' | 'fail' | 'done';
type StepResult = Step | Promise<Step>;

/** What vcl_recv asked for, carried through vcl_hash. */
type RecvIntent = 'lookup' | 'pass' | 'pipe' | 'purge';

/** A record's handling, and the label the request-duration histogram counts it under (Varnish counts a hit-for-pass as a pass, a hit-for-miss as a miss). */
const HANDLING = { hit: 'hit', hitpass: 'pass', hitmiss: 'miss', pass: 'pass', pipe: 'pipe', miss: 'miss', synth: 'synth' } as const satisfies Record<string, RequestHandling>;

export class ClientRequest implements RespMaker {
  readonly srv: Shellac;
  readonly in: Http1Request;
  readonly res: ClientResponse;
  readonly task: VclTask;
  vcl: LoadedVcl;
  entry: VclEntry;
  intent: RecvIntent = 'lookup';
  key = '';
  /** The object to deliver, and the fetch slot a miss holds until its fetch commits. */
  obj: CacheObject | null = null;
  slot: BusySlot | null = null;
  stale: CacheObject | null = null;
  /** A grace hit's background refresh, started only if vcl_hit delivers. */
  bgSlot: BusySlot | null = null;
  isHit = false;
  /** The lookup found a stale object in grace. */
  graceHit = false;
  /** The status and reason the synth step starts from. */
  synthStatus = 503;
  synthReason = '';
  /** The object delivered comes from a pass (private: no ranges offered). */
  passed = false;
  /** What the deliver step's resp is made of (see makeResp): the object, Age, Date if added. */
  respFrom: CacheObject | null = null;
  respAge = 0;
  respDate: string | null = null;
  /** A hit written from the stored head offered ranges (resp has Accept-Ranges). */
  respAcceptRanges = false;
  /** The request body, read at most once (a pass streams it, std.cache_req_body keeps it). */
  get body(): RequestBody {
    // Made on first use: a hit never asks, and costs no allocation for it.
    this.#body ??= this.esi === null ? requestBodyOf(this.in) : NO_BODY;
    return this.#body;
  }
  #body: RequestBody | null = null;
  /** The lines the request's Connection header named on arrival; 'refused' answers 400. */
  readonly marks: ConnectionMarks | 'refused' | null;
  /** Close the connection after the response (VCL failure, Connection: close). */
  close = false;
  /** Its transaction record, when somebody reads them (shellac log); null costs nothing. */
  readonly tx: TxLog | null;
  /** The times of its steps (Timestamp records), when its record or a `request` subscriber wants them. */
  readonly times: StepTimes | null;
  /** The connection became a tunnel to a backend. */
  piped = false;
  /** performance.now() at the start, when latency is measured (/metrics); 0 otherwise. */
  readonly startedAt: number;
  /** For an ESI include: its parent and the request it started as; null for a client's. */
  readonly esi: EsiOrigin | null;

  /**
   * A client's request; or, with `esi`, an ESI include run for its parent: same connection,
   * no body, `res` a collector of what it delivers (src/proxy/esi-include.ts). Throws when the
   * head cannot become a VCL request (the caller answers 400).
   */
  constructor(srv: Shellac, entry: VclEntry, inReq: Http1Request, esi: EsiOrigin | null = null) {
    this.srv = srv;
    this.in = inReq;
    this.res = esi === null ? inReq.res : esi.sink;
    this.esi = esi;
    this.entry = entry;
    this.vcl = entry.vcl;
    const task = new VclTask('client', srv.clientServices, esi?.parent.task.top ?? undefined);
    task.xid = srv.nextXid();
    const ips = addressesOf(inReq);
    task.clientIp = ips.client;
    task.remoteIp = ips.remote;
    task.serverIp = ips.server;
    task.localIp = ips.local;
    const listener = inReq.listener;
    if (listener !== null) {
      task.localSocket = listener.name;
      task.localEndpoint = listener.endpoint;
    }
    task.req = esi === null ? receivedRequest(inReq.head, ips) : esi.req.clone();
    this.marks = markConnectionNamed(task.req);
    task.reqTime = Date.now() / 1000;
    const pv = srv.params.values;
    task.timeoutIdle = pv.timeout_idle;
    task.sendTimeout = pv.send_timeout;
    task.idleSendTimeout = pv.idle_send_timeout;
    task.timeoutLinger = pv.timeout_linger;
    task.gzipSupport = pv.http_gzip_support;
    if (esi !== null) task.esiLevel = esi.parent.task.esiLevel + 1;
    this.task = task;
    this.startedAt = srv.latency === null ? 0 : performance.now();
    srv.requests.add(task, this);
    const tx = srv.txLog?.begin('client', task.xid, esi?.parent.task.xid) ?? null;
    this.tx = tx;
    const times = tx !== null || srv.events.listening.request ? new StepTimes() : null;
    // The head was read before the request was made: Req follows Start at once, as in Varnish.
    times?.mark('Req');
    this.times = times;
    if (tx !== null) {
      srv.txOf.set(task, tx);
      const req = task.req;
      tx.req(req.method, req.url, req.proto, req);
      tx.set('vcl', this.vcl.name);
      const sock = inReq.socket;
      tx.set('client', { ip: ips.clientText, port: sock.remotePort ?? 0 });
    }
  }

  /** The request as the client sent it (std.rollback), made anew at each call. */
  get original(): VclHttp {
    if (this.esi !== null) return this.esi.req.clone();
    return receivedRequest(this.in.head, addressesOf(this.in));
  }

  /**
   * Drives the request from vcl_recv to the end of the response; never throws. Steps run one
   * after another in this call while they are synchronous (a hit, as a rule); at the first that
   * awaits, the rest goes on in a promise, which is returned.
   */
  run(): Promise<void> | undefined {
    // Timers and promises the request starts carry its xid, for the last line of defence
    // (last-defence.ts). Where an async VMOD can keep the request waiting, from the start;
    // elsewhere from its first await on, so that a hit pays nothing.
    if (this.vcl.generated.asyncSubs.size > 0) return requestXid.run(this.task.xid, () => this.#run());
    return this.#run();
  }

  #run(): Promise<void> | undefined {
    let step: Step = 'recv';
    if (this.marks === 'refused') {
      // Connection names a header a pass would forward (Age, Cache-Control...): Varnish 400.
      this.srv.counters.client_req_400++;
      writeMinimal(this, 400, 'Bad Request');
      this.#finished();
      return undefined;
    }
    try {
      while (step !== 'done') {
        const next: StepResult = STEPS[step](this);
        if (typeof next !== 'string') return requestXid.run(this.task.xid, () => this.#runAsync(next));
        step = next;
      }
    } catch (e) {
      this.#crashed(e);
    }
    this.#finished();
    return undefined;
  }

  async #runAsync(pending: Promise<Step>): Promise<void> {
    try {
      let step = await pending;
      while (step !== 'done') {
        const next: StepResult = STEPS[step](this);
        step = typeof next === 'string' ? next : await next;
      }
    } catch (e) {
      this.#crashed(e);
    }
    this.#finished();
  }

  #crashed(e: unknown): void {
    this.srv.logger.error({ err: e, xid: this.task.xid }, 'client request failed');
    this.#release();
    writeMinimal(this, 503, 'Internal Error');
  }

  /** The last line of defence (last-defence.ts) ends the request after an error that escaped it. */
  abort(): void {
    if (!this.srv.requests.has(this.task)) return;
    this.#release();
    writeMinimal(this, 503, 'Internal Error');
    this.#finished();
  }

  #finished(): void {
    if (!this.srv.requests.has(this.task)) return; // abort() ended it already
    // A pipe has no response of ours: its steps end at PipeSess, as Varnish's.
    if (this.times !== null && !this.piped) this.times.mark('Resp');
    if (this.tx !== null) this.#record(this.tx);
    // A pass's object gives its storage back now (a cached one stays for the next hit).
    this.obj?.readerDone();
    this.srv.latency?.request.observe(HANDLING[this.handling], (performance.now() - this.startedAt) / 1000);
    if (this.times !== null && this.srv.events.listening.request) emitRequestEvent(this, this.times);
    this.srv.requests.delete(this.task);
    this.task.end();
    this.srv.vcls.leave(this.entry);
    if (this.esi === null) this.srv.requestDone(this.in);
  }

  #record(tx: TxLog): void {
    const res = this.res;
    const resp = this.task.resp;
    tx.resp(res.statusCode, res.statusMessage ?? '', 'HTTP/1.1', resp ?? undefined);
    const t = this.task;
    tx.set('handling', this.handling);
    tx.set('restarts', t.restarts);
    // The session's xid is given after the request began: its Begin line names it, as in Varnish.
    if (t.sessXid !== 0) tx.set('parent', t.sessXid);
    const bodyBytes = t.req?.method === 'HEAD' ? 0 : this.obj !== null ? this.obj.bodyBytes : Buffer.byteLength(t.body);
    tx.bytes(0, 0, 0, bodyBytes);
    if (this.times !== null) tx.steps(this.times);
    tx.end();
  }

  /** How the request was handled, as its transaction record says it. */
  get handling(): keyof typeof HANDLING {
    const t = this.task;
    if (this.isHit) return 'hit';
    if (t.isHitpass) return 'hitpass';
    if (t.isHitmiss) return 'hitmiss';
    if (this.passed) return 'pass';
    if (this.piped) return 'pipe';
    return this.obj !== null ? 'miss' : 'synth';
  }

  /**
   * resp as the deliver step makes it, on first read (VclTask.respMaker): the stored headers
   * were checked when they were stored, so a plain copy will do, and the values added here are
   * known to be clean (no header checks on the hit path). A hit written from the stored head
   * that wrote Accept-Ranges has it here too, as the general writer would have set it.
   */
  makeResp(): VclHttp {
    const resp = this.respFrom!.http.clone();
    // The deliver step's X-Varnish and Age replace the object's own.
    resp.unset('x-varnish');
    resp.unset('age');
    this.deliverLines(resp);
    return resp;
  }

  /**
   * The lines the deliver step adds after the object's, in their order: into resp (makeResp),
   * or straight into a hit's output when no resp was made (deliver.ts writeUnmade).
   */
  deliverLines(out: { appendTrusted(name: string, key: string, value: string): void }): void {
    const t = this.task;
    const obj = this.respFrom!;
    out.appendTrusted('X-Varnish', 'x-varnish', this.isHit ? `${t.xid} ${obj.xid}` : String(t.xid));
    out.appendTrusted('Age', 'age', String(this.respAge));
    out.appendTrusted('Via', 'via', this.srv.via);
    if (this.respDate !== null) out.appendTrusted('Date', 'date', this.respDate);
    if (this.respAcceptRanges) out.appendTrusted('Accept-Ranges', 'accept-ranges', 'bytes');
  }

  /** Runs a sub of the request's VCL (noting the call and its action when a record is kept). */
  call(sub: SubName): VclAction | Promise<VclAction> {
    return runSub(this.vcl, sub, this.task, this.tx);
  }

  /** Gives back a fetch slot this request holds but will not fill. */
  #release(): void {
    if (this.slot !== null) this.srv.cache.release(this.slot);
    if (this.bgSlot !== null) this.srv.cache.release(this.bgSlot);
    this.slot = null;
    this.bgSlot = null;
  }

  releaseSlots(): void {
    this.#release();
  }
}

/** Turns a sub's action into the next step, through `then` when the sub was async. */
function after(r: VclAction | Promise<VclAction>, next: (a: VclAction) => StepResult): StepResult {
  if (r instanceof Promise) return r.then((a) => next(a));
  return next(r);
}

function toSynth(cr: ClientRequest, a: { status: number; reason: string }): Step {
  cr.synthStatus = a.status;
  cr.synthReason = a.reason;
  return 'synth';
}

/** Actions every client sub may return, besides its own. */
function common(cr: ClientRequest, a: VclAction): Step {
  switch (a.action) {
    case 'synth':
      return toSynth(cr, a);
    case 'restart':
      return 'restart';
    case 'fail':
      return 'fail';
    default:
      cr.srv.logger.error({ xid: cr.task.xid, action: a.action, sub: cr.task.method }, 'illegal action');
      return 'fail';
  }
}

const STEPS: Readonly<Record<Exclude<Step, 'done'>, (cr: ClientRequest) => StepResult>> = {
  recv(cr) {
    const t = cr.task;
    if (t.restarts === 0) {
      if (t.esiLevel === 0) cr.srv.counters.s_req++;
      else cr.srv.counters.esi_req++;
    }
    return afterSub(cr, cr.call('vcl_recv'), afterRecv);
  },

  hash(cr) {
    return afterSub(cr, cr.call('vcl_hash'), afterHash);
  },

  lookup(cr) {
    const t = cr.task;
    // The task has the lookup's options under their names (hashAlwaysMiss, reqTtl...).
    const r = cr.srv.cache.lookup(cr.key, t.req!, Date.now() / 1000, t);
    switch (r.kind) {
      case 'hit':
        cr.obj = r.obj;
        return 'hit';
      case 'grace':
        cr.obj = r.obj;
        cr.bgSlot = r.fetch;
        cr.graceHit = true;
        return 'hit';
      case 'miss':
        cr.slot = r.fetch;
        cr.stale = r.stale;
        return 'miss';
      case 'hit_for_miss':
        cr.slot = r.fetch;
        t.isHitmiss = true;
        return 'miss';
      case 'hit_for_pass':
        t.isHitpass = true;
        return 'pass';
      case 'busy':
        return r.wait.then(() => {
          cr.times?.mark('Waitinglist');
          return 'lookup' as const;
        });
    }
  },

  hit(cr) {
    const obj = cr.obj!;
    cr.task.useObject(obj);
    return afterSub(cr, cr.call('vcl_hit'), afterHit);
  },

  miss(cr) {
    return after(cr.call('vcl_miss'), (a) => {
      if (a.action === 'fetch') {
        cr.srv.counters.cache_miss++;
        return fetchAndDeliver(cr, 'miss');
      }
      cr.releaseSlots();
      if (a.action === 'pass') return 'pass';
      return common(cr, a);
    });
  },

  pass(cr) {
    return after(cr.call('vcl_pass'), (a) => {
      if (a.action === 'fetch') {
        cr.srv.counters.s_pass++;
        return fetchAndDeliver(cr, 'pass');
      }
      return common(cr, a);
    });
  },

  pipe(cr) {
    return runPipe(cr);
  },

  purge(cr) {
    cr.srv.cache.purge(cr.key, Date.now() / 1000);
    return after(cr.call('vcl_purge'), (a) => common(cr, a));
  },

  synth(cr) {
    cr.srv.counters.s_synth++;
    const t = cr.task;
    const status = cr.synthStatus;
    const resp = VclHttp.response(status, cr.synthReason);
    resp.set('Date', cr.srv.httpDate());
    resp.set('Server', 'Varnish');
    resp.set('X-Varnish', String(t.xid));
    if (cr.close) resp.set('Connection', 'close');
    t.resp = resp;
    t.body = '';
    return after(cr.call('vcl_synth'), (a) => {
      // Past max_restarts a restart from vcl_synth delivers instead (as Varnish), or it would loop.
      if (a.action === 'deliver' || (a.action === 'restart' && t.restarts > cr.srv.params.values.max_restarts)) {
        const discarding = cr.esi === null ? cr.in.discardBody() : undefined;
        return discarding === undefined ? writeSynth(cr) : discarding.then(() => writeSynth(cr));
      }
      if (a.action === 'restart') return 'restart';
      // A failure in vcl_synth: nothing sane to send but a bare error, then close.
      cr.srv.counters.vcl_fail++;
      writeMinimal(cr, 500, 'Internal Server Error');
      return 'done';
    });
  },

  deliver(cr) {
    const t = cr.task;
    const obj = cr.obj!;
    // What the deliver step needs of the object's head, without decoding it (a cold hit's
    // head is decoded only when VCL reads obj.http or resp).
    const facts = obj.headFacts;
    // resp is the object's lines, then X-Varnish, Age, Via and Date (when the object has none):
    // made when something first reads it (makeResp), else never (a plain hit, deliver.ts).
    cr.respFrom = obj;
    cr.respAge = Math.max(0, Math.floor(Date.now() / 1000 - obj.origin));
    cr.respDate = hasDate(facts) ? null : cr.srv.httpDate();
    cr.respAcceptRanges = false;
    t.respMaker = cr;
    const room = cr.srv.params.values.http_max_hdr - HTTP_HDR_FIRST;
    const lines = lineCount(facts);
    // Near http_max_hdr (lowered since the object was stored) resp is made to count its lines:
    // Varnish runs out of header slots and answers 500.
    if ((lines === LINES_UNKNOWN ? obj.http.count : lines) + 4 > room && t.resp!.count > room) {
      cr.srv.logger.warn({ xid: t.xid }, 'Too many headers for http_max_hdr');
      cr.releaseSlots();
      writeMinimal(cr, 500, 'Internal Server Error');
      return 'done';
    }
    t.useObject(obj);
    return afterSub(cr, cr.call('vcl_deliver'), afterDeliver);
  },

  restart(cr) {
    const t = cr.task;
    cr.releaseSlots();
    cr.obj?.readerDone();
    cr.obj = null;
    cr.isHit = false;
    cr.graceHit = false;
    cr.passed = false;
    t.obj = null;
    t.objInfo = null;
    t.resp = null;
    t.restarts++;
    cr.times?.mark('Restart');
    if (t.restarts > cr.srv.params.values.max_restarts) {
      // Varnish: a 503 with the status's own reason, req.restarts one past the limit, same xid.
      cr.srv.logger.info({ xid: t.xid }, 'Too many restarts');
      cr.synthStatus = 503;
      cr.synthReason = statusReason(503);
      return 'synth';
    }
    t.xid = cr.srv.nextXid();
    return 'recv';
  },

  fail(cr) {
    // Varnish: a failed client task answers 503 "VCL failed" and closes the connection.
    cr.srv.counters.vcl_fail++;
    if (cr.esi === null) cr.in.closeAfter('vcl_failure');
    cr.releaseSlots();
    cr.close = true;
    cr.synthStatus = 503;
    cr.synthReason = 'VCL failed';
    if (cr.task.method === 'vcl_synth') {
      writeMinimal(cr, 500, 'Internal Server Error');
      return 'done';
    }
    return 'synth';
  },
};

function afterRecv(cr: ClientRequest, a: VclAction): StepResult {
  // Varnish answers Expect: 100-continue once vcl_recv has run, whatever it decided.
  if (cr.esi === null && cr.in.want100) cr.in.send100();
  // As Varnish, after vcl_recv: a request for the cache says `Accept-Encoding: gzip` or none.
  if (cr.task.gzipSupport && a.action !== 'pass' && a.action !== 'pipe') normaliseAcceptEncoding(cr.task.req!);
  switch (a.action) {
    case 'hash':
      cr.intent = 'lookup';
      return 'hash';
    case 'pass':
    case 'pipe':
    case 'purge':
      cr.intent = a.action;
      return 'hash';
    case 'vcl': {
      // The request moves to the labelled VCL: its reference too, and the backend it starts
      // with is that VCL's default, as in Varnish.
      if (cr.task.restarts > 0) return 'fail';
      const next = cr.srv.vcls.switchTo(cr.entry, a.label);
      if (next === null) return 'fail';
      cr.entry = next;
      cr.vcl = next.vcl;
      cr.task.backendHint = undefined;
      return 'recv';
    }
    default:
      return common(cr, a);
  }
}

function afterHash(cr: ClientRequest, a: VclAction): StepResult {
  if (a.action !== 'lookup') return common(cr, a);
  cr.key = cr.task.hashKey();
  return cr.intent === 'lookup' ? 'lookup' : cr.intent;
}

function afterHit(cr: ClientRequest, a: VclAction): StepResult {
  if (a.action === 'deliver') {
    cr.isHit = true;
    const counters = cr.srv.counters;
    counters.cache_hit++;
    if (cr.graceHit) counters.cache_hit_grace++;
    if (cr.bgSlot !== null) {
      const slot = cr.bgSlot;
      cr.bgSlot = null;
      startFetch(cr.srv, { mode: 'bgfetch', slot, stale: cr.obj, client: cr.task, entry: cr.entry, body: null, marks: connectionMarks(cr) });
    }
    return 'deliver';
  }
  cr.obj = null;
  cr.task.obj = null;
  cr.task.objInfo = null;
  cr.releaseSlots();
  if (a.action === 'pass') {
    // Varnish counts a pass from vcl_hit as a hit, and X-Varnish names the passed object too.
    cr.isHit = true;
    cr.srv.counters.cache_hit++;
    return 'pass';
  }
  return common(cr, a);
}

function afterDeliver(cr: ClientRequest, a: VclAction): StepResult {
  if (a.action === 'deliver') {
    // A body nobody read goes first (Varnish's VRB_Ignore); a hit without one stays synchronous.
    cr.times?.mark('Process');
    const discarding = cr.esi === null ? cr.in.discardBody() : undefined;
    return discarding === undefined ? writeObject(cr) : discarding.then(() => writeObject(cr));
  }
  cr.obj?.readerDone();
  cr.obj = null;
  return common(cr, a);
}

function writeObject(cr: ClientRequest): StepResult {
  const writing = deliverObject(cr, cr.obj!);
  return writing === undefined ? 'done' : writing.then(toDone);
}

function writeSynth(cr: ClientRequest): Step {
  cr.times?.mark('Process');
  deliverSynth(cr);
  return 'done';
}

const toDone = (): Step => 'done';

/** Runs the fetch for a miss or a pass, then delivers what it gave (or a 503). */
async function fetchAndDeliver(cr: ClientRequest, mode: FetchMode): Promise<Step> {
  const slot = cr.slot;
  cr.slot = null;
  cr.passed = mode === 'pass';
  const result = await startFetch(cr.srv, { mode, slot, stale: cr.stale, client: cr.task, entry: cr.entry, body: cr.body, marks: connectionMarks(cr) });
  if (result === null) {
    // A fetch that failed without an object (a VCL failure, abandon, a body that broke off
    // without do_stream): Varnish's client side makes a plain 503 with the status's own reason.
    // (vcl_backend_error's 503 "Backend fetch failed" is an object, delivered as such.)
    cr.synthStatus = 503;
    cr.synthReason = 'Service Unavailable';
    return 'synth';
  }
  cr.times?.mark('Fetch');
  cr.obj = result;
  return 'deliver';
}

/** The request's marked lines (run() answered a refused request before any fetch). */
export function connectionMarks(cr: ClientRequest): ConnectionMarks | null {
  return cr.marks === 'refused' ? null : cr.marks;
}

interface Addresses {
  readonly client: VclIp | null;
  readonly clientText: string;
  readonly server: VclIp | null;
  /** The socket's own ends (remote.ip, local.ip): client and server but behind a PROXY header. */
  readonly remote: VclIp | null;
  readonly local: VclIp | null;
  /**
   * req's header lines as receivedRequest last made them on this connection, and the head's
   * lines they were made from (src/http1 hands the same arrays for the same lines): the same
   * lines from the same client make the same req, shared until VCL changes it.
   */
  linesFrom: readonly string[] | null;
  reqLines: { names: string[]; lower: string[]; values: string[] } | null;
}

/** client.ip and server.ip of a connection, parsed once for all its requests. */
const ADDRESSES = new WeakMap<Socket, Addresses>();

function addressesOf(req: Http1Request): Addresses {
  const sock = req.socket;
  let a = ADDRESSES.get(sock);
  if (a === undefined) {
    // A Unix socket has no address: Varnish calls both ends 0.0.0.0.
    const unix = sock.localAddress === undefined && sock.remoteAddress === undefined && !sock.destroyed;
    const remote = unix ? UNIX_SOCKET_IP : ipFromSocket(sock.remoteAddress, sock.remotePort);
    const local = unix ? UNIX_SOCKET_IP : ipFromSocket(sock.localAddress, sock.localPort);
    // Behind a PROXY header, client.ip and server.ip are the ones it names.
    const p = req.proxied;
    const client = p?.client ? ipFromSocket(p.client.address, p.client.port) : remote;
    const server = p?.server ? ipFromSocket(p.server.address, p.server.port) : local;
    a = { client, clientText: client?.text ?? '', server, remote, local, linesFrom: null, reqLines: null };
    ADDRESSES.set(sock, a);
  }
  return a;
}

/**
 * req as Varnish has it when vcl_recv starts: the head as received (the HTTP/1 layer has
 * already moved an absolute URL's authority into Host and taken Expect off), the client's
 * address joined to X-Forwarded-For. The parser let through only token names and values
 * without control bytes, so the headers go in without a second check.
 */
function receivedRequest(head: RequestHead, a: Addresses): VclHttp {
  const { names, lower, values } = head;
  let lines = a.reqLines;
  if (lines === null || a.linesFrom !== lower) {
    lines = withClientAddress(names, lower, values, a.clientText);
    a.linesFrom = lower;
    a.reqLines = lines;
  }
  return VclHttp.requestSharing(head.method, head.url, head.proto, lines.names, lines.lower, lines.values);
}

/** The head's lines, X-Forwarded-For joined into one line with the client's address last. */
function withClientAddress(names: readonly string[], lower: readonly string[], values: readonly string[], clientText: string): { names: string[]; lower: string[]; values: string[] } {
  // Each array in one allocation of its final size: most requests have no X-Forwarded-For.
  if (!lower.includes('x-forwarded-for')) {
    return { names: plusOne(names, 'X-Forwarded-For'), lower: plusOne(lower, 'x-forwarded-for'), values: plusOne(values, clientText) };
  }
  // Repeated lines are joined, then the client's address goes last.
  const n2: string[] = [];
  const l2: string[] = [];
  const v2: string[] = [];
  let xff: string | null = null;
  for (let i = 0; i < lower.length; i++) {
    if (lower[i] === 'x-forwarded-for') {
      xff = xff === null ? values[i] : `${xff}, ${values[i]}`;
      continue;
    }
    n2.push(names[i]);
    l2.push(lower[i]);
    v2.push(values[i]);
  }
  n2.push('X-Forwarded-For');
  l2.push('x-forwarded-for');
  v2.push(`${xff}, ${clientText}`);
  return { names: n2, lower: l2, values: v2 };
}

/** A copy of `a` with `last` after it, made at its final size (Array#concat costs ten times this). */
function plusOne(a: readonly string[], last: string): string[] {
  const n = a.length;
  const out = new Array<string>(n + 1);
  for (let i = 0; i < n; i++) out[i] = a[i];
  out[n] = last;
  return out;
}
