// Writing a response to the client: an object from the cache (whole or still streaming in), a
// synthetic response, or a bare error. Conditional requests (304) and byte ranges (206/416) are
// answered here from the object, as Varnish does in its deliver step.

import { byteStringToBuffer } from '../common/byte-string.ts';
import { type BodyState, type CacheObject, hasAcceptRanges, leanBytes } from '../cache/index.ts';
import type { VclHttp } from '../runtime/http.ts';
import { statusReason } from '../runtime/status.ts';
import type { ClientRequest } from './client.ts';
import type { ClientResponse } from './client-response.ts';
import { type HeaderList, JOIN_LIMIT } from '../http1/response.ts';
import { ifRangeAllows, notModified } from './conditions.ts';
import { CONNECTION_SPECIFIC } from '../common/http-headers.ts';
import { deliveryChain, writeFiltered } from './deliver-filters.ts';
import { storedHead } from './stored-head.ts';

/** 1 at the lengths of the connection's own header names and of Content-Length (written by us). */
const SUSPECT_LENGTH = new Uint8Array(32);
for (const name of [...CONNECTION_SPECIFIC, 'content-length']) SUSPECT_LENGTH[name.length] = 1;

/**
 * Delivers an object after vcl_deliver said so. A whole object is written at once (undefined
 * comes back); a streaming one gives a promise that resolves when the response is written.
 */
export function deliverObject(cr: ClientRequest, obj: CacheObject): Promise<void> | undefined {
  const t = cr.task;
  const req = t.req!;
  const res = cr.res;
  // While nothing has read resp it is not made (ClientRequest.makeResp): its status and the
  // lines read before the plain hit's writer (ETag, Last-Modified) are the object's own, and
  // the object's head is decoded only when a conditional request needs those lines.
  const unmade = t.respMaker === cr;
  const status = (unmade ? obj.status : t.resp!.status) % 1000;
  const head = req.method === 'HEAD';
  let body: 'all' | 'none' | { start: number; end: number } = head || !hasBody(status) ? 'none' : 'all';

  if (status === 200 && req.method !== 'POST' && notModified(req, () => (unmade ? obj.http : t.resp!))) {
    writeHead(cr, 304, 'Not Modified', t.resp!, undefined, ['content-length', 'content-encoding', 'content-type', 'content-range']);
    res.end();
    return;
  }

  // The delivery filters (ESI, gunzip), when the object or VCL asks for any: they set the
  // headers and length of what they make, whether or not a body is sent (HEAD); a range is cut
  // from what they make when its length is known.
  const chain = deliveryChain(cr, obj);
  if (chain !== null && 'error' in chain) {
    cr.srv.logger.warn({ xid: t.xid, error: chain.error }, 'delivery filters failed');
    cr.tx?.error(chain.error);
    writeMinimal(cr, 503, 'Service Unavailable');
    return;
  }
  if (chain?.kind === 'pieces') {
    // An include of a gzip page: no head of its own reaches a client.
    const resp = t.resp!;
    writeHead(cr, status, resp.reason, resp, undefined);
    return writeFiltered(cr, obj, chain, body);
  }

  let length: number | undefined = chain !== null ? chain.length : obj.state === 'done' ? obj.bodyBytes : declaredLength(t.resp!);
  const ranges = status === 200 && cr.srv.params.values.http_range_support;
  // If-Range is read only when there is a Range: a hit without one costs no more.
  let range = ranges ? req.getKey('range') : null;
  if (range !== null && !ifRangeAllows(req, t.resp!)) range = null;
  if (range !== null && length !== undefined) {
    const resp = t.resp!;
    const r = parseRange(range, length);
    if (r === 'unsatisfiable') {
      resp.set('Content-Range', `bytes */${length}`);
      writeHead(cr, 416, 'Range Not Satisfiable', resp, 0);
      res.end();
      return;
    }
    if (r !== null) {
      resp.set('Content-Range', `bytes ${r.start}-${r.end - 1}/${length}`);
      if (body !== 'none') body = r;
      writeHead(cr, 206, 'Partial Content', resp, r.end - r.start);
      return chain === null ? writeBody(cr, obj, body) : writeFiltered(cr, obj, chain, body);
    }
  }
  // A plain hit, or a miss whose object came whole: the stored head as bytes, when vcl_deliver
  // left the stored lines alone (or did not even read resp). Not a pass's object, whose body
  // goes back to its storage as its reader takes it.
  if (chain === null && body === 'all' && obj.kind !== 'private' && !cr.passed) {
    if (unmade ? writeUnmade(cr, obj, ranges) : writeStored(cr, obj, t.resp!, ranges)) return;
  }
  const resp = t.resp!;
  // Varnish offers ranges on what it delivers from the cache, not on a pass.
  if (ranges && !cr.passed && !resp.hasKey('accept-ranges')) resp.set('Accept-Ranges', 'bytes');
  if (!hasBody(status)) length = undefined;
  writeHead(cr, status, resp.reason, resp, length);
  return chain === null ? writeBody(cr, obj, body) : writeFiltered(cr, obj, chain, body);
}

/** Delivers the synthetic response vcl_synth built. */
export function deliverSynth(cr: ClientRequest): void {
  const t = cr.task;
  const resp = t.resp!;
  const status = resp.status % 1000;
  const body = typeof t.body === 'string' ? byteStringToBuffer(t.body) : Buffer.from(t.body);
  const noBody = cr.task.req?.method === 'HEAD' || !hasBody(status);
  writeHead(cr, status, resp.reason, resp, noBody && !hasBody(status) ? undefined : body.length);
  cr.srv.counters.s_resp_bodybytes += noBody ? 0 : body.length;
  cr.res.end(noBody ? undefined : body);
}

/** A last-resort answer when VCL itself cannot make one; closes the connection. */
export function writeMinimal(cr: ClientRequest, status: number, reason: string): void {
  const res = cr.res;
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  res.close = true;
  res.writeHead(status, reason, ['Content-Length', '0']);
  res.end();
}

/**
 * Writes a whole hit from its stored head (stored-head.ts): the block, then resp's lines after
 * the stored ones (what the deliver step and vcl_deliver added), Accept-Ranges, Content-Length.
 * The same bytes writeHead would give; false, with nothing done, when resp's stored lines are
 * not the object's any more (VCL changed or removed one) or a line needs writeHead's care.
 */
function writeStored(cr: ClientRequest, obj: CacheObject, resp: VclHttp, ranges: boolean): boolean {
  const res = cr.res;
  if (res.endStored === undefined || obj.state !== 'done') return false;
  const stored = storedHead(obj);
  if (stored.unfit || resp.status !== stored.status || resp.reason !== stored.reason) return false;
  const names = stored.names;
  const values = stored.values;
  const k = names.length;
  const n = resp.count;
  if (n < k) return false;
  // References, not contents: resp's stored lines are the object's strings (client.ts clones).
  for (let i = 0; i < k; i++) if (resp.nameAt(i) !== names[i] || resp.valueAt(i) !== values[i]) return false;
  for (let i = k; i < n; i++) {
    const name = resp.nameAt(i);
    if (SUSPECT_LENGTH[name.length] === 1 || name.length === ACCEPT_RANGES.length) {
      const lower = name.toLowerCase();
      if (CONNECTION_SPECIFIC.has(lower) || lower === 'content-length' || lower === ACCEPT_RANGES) return false;
    }
  }
  // Neither the stored lines nor the added ones have Accept-Ranges: no search needed.
  if (ranges && !cr.passed && !stored.hasAcceptRanges) resp.appendTrusted('Accept-Ranges', ACCEPT_RANGES, 'bytes');
  endFromStored(cr, obj, stored.bytes, resp.status, resp.reason, resp, k);
  return true;
}

/**
 * What both stored writers end with: the stored block (`block`, or that many of the object's
 * own head bytes), the lines of `lines` from `from` on, and the body (copied from its storage,
 * a large one written as views of it, pinned until written).
 */
function endFromStored(cr: ClientRequest, obj: CacheObject, block: Buffer | number, fullStatus: number, reason: string, lines: HeaderList, from: number): void {
  const res = cr.res;
  if (cr.close) res.close = true;
  cr.srv.counters.s_resp_bodybytes += obj.bodyBytes;
  const status = fullStatus % 1000;
  // A body that goes beside its head (JOIN_LIMIT) is copied there from where it is stored; a
  // larger one is written as its stored bytes (pinned until written).
  const small = obj.bodyBytes <= JOIN_LIMIT;
  const views = pinnedViews(res, obj);
  res.endStored!(status, reason || statusReason(status), block, lines, from, obj, small ? null : (views ?? obj.chunks));
  if (views !== null) res.whenWritten!(() => obj.unpin());
}

const ACCEPT_RANGES = 'accept-ranges';

/**
 * The lines the deliver step adds to a hit, for a resp that was never made: filled for one
 * write and read by it at once (endStored is synchronous), so one list serves every hit.
 */
class AddedLines {
  readonly #names: string[] = [];
  readonly #values: string[] = [];
  count = 0;

  clear(): void {
    this.count = 0;
  }

  appendTrusted(name: string, _key: string, value: string): void {
    this.#names[this.count] = name;
    this.#values[this.count] = value;
    this.count++;
  }

  nameAt(i: number): string {
    return this.#names[i];
  }

  valueAt(i: number): string {
    return this.#values[i];
  }
}

const ADDED = new AddedLines();

/**
 * writeStored for a hit whose resp nothing read (ClientRequest.makeResp): the stored block,
 * then the deliver step's lines (ClientRequest.deliverLines, which makeResp adds too) and
 * Content-Length: the bytes the general writer gives.
 */
function writeUnmade(cr: ClientRequest, obj: CacheObject, ranges: boolean): boolean {
  const res = cr.res;
  if (res.endStored === undefined || obj.state !== 'done') return false;
  // The block's first bytes as stored (header-block.ts): nothing of the head is decoded.
  const facts = obj.headFacts;
  const lean = leanBytes(facts);
  if (lean === 0) return false;
  // Neither the stored lines nor the deliver step's have Accept-Ranges: offered as makeResp has it.
  if (ranges && !cr.passed && !hasAcceptRanges(facts)) cr.respAcceptRanges = true;
  const lines = ADDED;
  lines.clear();
  cr.deliverLines(lines);
  endFromStored(cr, obj, lean, obj.status, obj.reason, lines, 0);
  lines.clear();
  return true;
}

function writeHead(cr: ClientRequest, status: number, reason: string, resp: VclHttp, length: number | undefined, drop?: readonly string[]): void {
  const res = cr.res;
  const raw: string[] = [];
  for (let i = 0; i < resp.count; i++) {
    const name = resp.nameAt(i);
    // Only names as long as one of those dropped need a closer look.
    if (SUSPECT_LENGTH[name.length] === 1 || drop !== undefined) {
      const lower = name.toLowerCase();
      if (CONNECTION_SPECIFIC.has(lower) || lower === 'content-length') continue;
      if (drop?.includes(lower)) continue;
    }
    raw.push(name, resp.valueAt(i));
  }
  if (length !== undefined) raw.push('Content-Length', String(length));
  if (cr.close || resp.getKey('connection')?.toLowerCase() === 'close') res.close = true;
  // A body of unknown length (a streaming fetch without Content-Length) goes chunked.
  const unknownLength = length === undefined && hasBody(status) && cr.task.req?.method !== 'HEAD';
  res.writeHead(status, reason || statusReason(status), raw, unknownLength);
}

function writeBody(cr: ClientRequest, obj: CacheObject, body: 'all' | 'none' | { start: number; end: number }): Promise<void> | undefined {
  const res = cr.res;
  const counters = cr.srv.counters;
  if (body === 'none') {
    res.end();
    return;
  }
  if (body !== 'all' && obj.state === 'done') {
    const slice = sliceBody(obj, body.start, body.end);
    counters.s_resp_bodybytes += slice.length;
    res.end(slice);
    return;
  }
  if (obj.state === 'done') {
    // chunk() hands out the stored bytes as the socket's own (a copy of a storage's range).
    counters.s_resp_bodybytes += obj.bodyBytes;
    const views = pinnedViews(res, obj);
    if (views !== null) {
      res.endAll(views);
      res.whenWritten!(() => obj.unpin());
    } else if (obj.chunkCount === 1) res.end(obj.chunk(0));
    else res.endAll(obj.chunks);
    return;
  }
  obj.pin();
  return streamBody(cr, obj, body).finally(() => {
    if (res.whenWritten === undefined) obj.unpin();
    else res.whenWritten(() => obj.unpin());
  });
}

/**
 * A large complete body as the stored bytes themselves (views of its storage's memory), its
 * object pinned until the socket has written them (the caller unpins in whenWritten): no copy
 * of a large hit's body on the heap. Null for a small body (the HTTP/1 layer copies it next to
 * its head anyway), for a response that cannot say when it is written (an ESI include's), and
 * for a pass (its pieces go back to its storage when its reader is done, pinned or not).
 */
function pinnedViews(res: ClientResponse, obj: CacheObject): Buffer[] | null {
  if (obj.bodyBytes <= JOIN_LIMIT || res.whenWritten === undefined || obj.kind === 'private') return null;
  obj.pin();
  return obj.views;
}

/**
 * Writes a body still arriving: what is there, then more as it comes, minding the client's
 * pace. A range of a streaming object (its length declared) is cut from the chunks as they pass.
 */
async function streamBody(cr: ClientRequest, obj: CacheObject, body: 'all' | { start: number; end: number }): Promise<void> {
  const res = cr.res;
  const counters = cr.srv.counters;
  const start = body === 'all' ? 0 : body.start;
  const end = body === 'all' ? Number.POSITIVE_INFINITY : body.end;
  let pos = 0;
  let i = 0;
  // The stored bytes themselves where the socket says when it has written them (the object
  // stays pinned until then, writeBody); copies for an ESI include's collector, and for a
  // pass, whose pieces go back to its storage as soon as its reader is past them.
  const views = res.whenWritten !== undefined && obj.kind !== 'private';
  for (;;) {
    while (i < obj.chunkCount) {
      const from = pos;
      pos += obj.chunkLength(i);
      if (pos <= start || from >= end) {
        i++;
        if (from >= end) break;
        continue;
      }
      let chunk = views ? obj.view(i++) : obj.chunk(i++);
      if (from < start || pos > end) chunk = chunk.subarray(Math.max(0, start - from), Math.min(chunk.length, end - from));
      counters.s_resp_bodybytes += chunk.length;
      if (!res.write(chunk)) {
        await res.drained();
        if (res.destroyed) return;
      }
    }
    const state = obj.state as BodyState;
    if (state === 'done' || pos >= end) {
      res.end();
      return;
    }
    if (state === 'failed' || res.destroyed) {
      // The body broke off: the client must not take a short body for a whole one.
      res.destroy();
      return;
    }
    await obj.whenMore(i);
  }
}

function hasBody(status: number): boolean {
  return status >= 200 && status !== 204 && status !== 304;
}

function declaredLength(resp: VclHttp): number | undefined {
  const cl = resp.getKey('content-length');
  if (cl === null || !/^\d+$/.test(cl)) return undefined;
  return Number(cl);
}

/** One byte range (`bytes=a-b`, `a-`, `-n`); null to ignore the header, as Varnish does for several. */
function parseRange(h: string, length: number): { start: number; end: number } | null | 'unsatisfiable' {
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(h);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    start = Math.max(0, length - n);
    end = length;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? length : Math.min(length, Number(m[2]) + 1);
    if (m[2] !== '' && Number(m[2]) < start) return null;
  }
  if (start >= length) return 'unsatisfiable';
  return { start, end };
}

/** Bytes start to end of a complete body; only the pieces that hold them are read. */
function sliceBody(obj: CacheObject, start: number, end: number): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  for (let i = 0; i < obj.chunkCount && pos < end; i++) {
    const length = obj.chunkLength(i);
    const cEnd = pos + length;
    if (cEnd > start) {
      const c = obj.chunk(i);
      out.push(c.subarray(Math.max(0, start - pos), Math.min(length, end - pos)));
    }
    pos = cEnd;
  }
  return Buffer.concat(out);
}
