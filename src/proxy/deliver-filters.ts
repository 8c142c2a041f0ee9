// The proxy's side of the delivery filters: which ones an object needs for this request
// (resp.filters, or Varnish's default list), and writing a body that goes through them. An
// object that needs none is written by deliver.ts as before; the check costs two field reads.

import type { CacheObject } from '../cache/index.ts';
import { type DeliveryChain, defaultDeliveryFilters, openDeliveryFilters } from '../filters/delivery-filters.ts';
import { INCLUDES_AHEAD_MAX, type IncludeBudget } from '../filters/esi-deliver.ts';
import { KeptGunzips } from '../filters/gunzip-keep.ts';
import { acceptsGzip } from '../runtime/variables.ts';
import type { ClientRequest } from './client.ts';
import { includeRunner } from './esi-include.ts';
import type { Shellac } from './server.ts';

/** resp.filters when VCL has not set it. */
export function defaultRespFilters(cr: ClientRequest, obj: CacheObject): string {
  const t = cr.task;
  const req = t.req!;
  const p = cr.srv.params.values;
  return defaultDeliveryFilters({
    info: obj.info,
    esi: t.esi,
    // An include's bytes are assembled plain into its parent's.
    plainWanted: t.esiLevel > 0 || (t.gzipSupport && !acceptsGzip(req.get('Accept-Encoding'))),
    rangeSupport: p.http_range_support,
    status: t.resp?.status ?? obj.status,
    hasRange: req.has('Range'),
  });
}

/** The chain an object's body goes through for this request; null when the body goes as stored. */
export function deliveryChain(cr: ClientRequest, obj: CacheObject): DeliveryChain | null | { error: string } {
  const t = cr.task;
  const info = obj.info;
  const pieces = cr.esi?.sink.pieces ?? false;
  if (t.respFilters === null && !info.gzip && !info.esiOpen && !pieces) return null;
  const list = t.respFilters ?? defaultRespFilters(cr, obj);
  return openDeliveryFilters(list, {
    obj,
    resp: t.resp!,
    counters: cr.srv.counters,
    // Made only for a filter that runs includes: a gunzip hit pays nothing for them.
    get includes() {
      return { run: includeRunner(cr), parallel: cr.srv.params.values.feature.has('esi_parallel_includes'), budget: includeBudget(cr) };
    },
    pieces,
    vmodFilter: (name) => t.vcl?.filter?.(name),
    log: (m) => cr.tx?.log(m),
    // Only an object in the cache keeps an inflated body: the cache says when it leaves.
    kept: obj.kind === 'normal' && obj.cached ? keptGunzips(cr.srv) : null,
  });
}

/** Each server's kept gunzipped bodies, made (and hooked to its cache's removals) at first use. */
const kept = new WeakMap<Shellac, KeptGunzips<CacheObject>>();

function keptGunzips(srv: Shellac): KeptGunzips<CacheObject> {
  let k = kept.get(srv);
  if (k === undefined) {
    const made = new KeptGunzips<CacheObject>(srv.counters, () => srv.params.values.gunzip_keep_size);
    srv.cache.subscribe({ inserted: () => {}, removed: (obj) => made.forget(obj) });
    kept.set(srv, made);
    k = made;
  }
  return k;
}

/** The budget of includes run ahead of delivery, one per top request (kept while it lives). */
const budgets = new WeakMap<ClientRequest, IncludeBudget>();

function includeBudget(cr: ClientRequest): IncludeBudget {
  let top = cr;
  while (top.esi !== null) top = top.esi.parent;
  let b = budgets.get(top);
  if (b === undefined) {
    b = { inFlight: 0, max: INCLUDES_AHEAD_MAX };
    budgets.set(top, b);
  }
  return b;
}

/** The stored body as it comes; throws when the fetch broke off, so the client sees it cut. */
async function* storedBody(obj: CacheObject): AsyncGenerator<Buffer> {
  yield* obj.read();
  if (obj.state === 'failed') throw new Error('the backend body broke off');
}

/**
 * Writes a body through its delivery chain, minding the client's pace: all of it, none (HEAD)
 * or a range of what the chain makes. A whole body is written at once (undefined comes back).
 */
export function writeFiltered(cr: ClientRequest, obj: CacheObject, chain: DeliveryChain, part: Part): Promise<void> | undefined {
  if (chain.kind !== 'whole') return writeStreamed(cr, obj, chain, part);
  const res = cr.res;
  if (part === 'none') {
    res.end();
    return;
  }
  let body: Buffer;
  try {
    body = chain.body();
  } catch (e) {
    failed(cr, e as Error);
    return;
  }
  if (body.length !== chain.length) {
    // The trailer's length went out in the head: a body of another length must not pass for it.
    failed(cr, new Error(`gunzipped body is ${body.length} bytes, its trailer says ${chain.length}`));
    return;
  }
  if (part !== 'all') body = body.subarray(part.start, part.end);
  cr.srv.counters.s_resp_bodybytes += body.length;
  // Head and body in one corked writev: measured against one write of the two copied together
  // (bench/proxy's gunzip load, taking turns), it costs 30-40 us less CPU per 20 KB hit.
  res.endAll([body]);
}

type Part = 'all' | 'none' | { start: number; end: number };

function failed(cr: ClientRequest, e: Error): void {
  cr.srv.logger.warn({ xid: cr.task.xid, error: e.message }, 'delivery filter failed');
  cr.tx?.error(e.message);
  cr.res.destroy();
}

async function writeStreamed(cr: ClientRequest, obj: CacheObject, chain: Exclude<DeliveryChain, { kind: 'whole' }>, part: Part): Promise<void> {
  const res = cr.res;
  const counters = cr.srv.counters;
  if (part === 'none') {
    res.end();
    return;
  }
  // The head goes with the first bytes, or alone when they are not there by the next turn of
  // the event loop (an ESI page's first bytes may wait on an include's fetch).
  let early: NodeJS.Immediate | undefined = setImmediate(() => {
    early = undefined;
    res.flushHead();
  });
  try {
    if (chain.kind === 'pieces') {
      // An include of a gzip page: its pieces go to the page, not to a socket.
      const sink = cr.esi!.sink;
      for await (const p of chain.pieces(storedBody(obj))) sink.piece(p);
      res.end();
      return;
    }
    const body = chain.stage(storedBody(obj));
    for await (const chunk of part === 'all' ? body : cut(body, part.start, part.end)) {
      if (early !== undefined) {
        clearImmediate(early);
        early = undefined;
      }
      counters.s_resp_bodybytes += chunk.length;
      if (!res.write(chunk)) {
        await res.drained();
        if (res.destroyed) return;
      }
    }
    res.end();
  } catch (e) {
    if (early !== undefined) clearImmediate(early);
    failed(cr, e as Error);
  }
}

/** Bytes [start, end) of a body as it passes. */
async function* cut(body: AsyncIterable<Buffer>, start: number, end: number): AsyncGenerator<Buffer> {
  let pos = 0;
  for await (const chunk of body) {
    const from = pos;
    pos += chunk.length;
    if (pos > start && from < end) yield chunk.subarray(Math.max(0, start - from), Math.min(chunk.length, end - from));
    if (pos >= end) return;
  }
}
