// The delivery processors (Varnish's VDPs): what is stored becomes what the client gets. The
// list is resp.filters: VCL may set it; when it does not, it is made as Varnish 7.1 makes it:
// `esi` for an object parsed for ESI (unless req.esi / resp.do_esi is off), `gunzip` for a
// gzipped object to a client that does not take gzip (and inside a plain ESI page), `range`
// for a Range request on a 200. An object that needs none of them is written by the proxy
// directly, as before: the hit path pays nothing.
//
// An include inside a gzip ESI page is delivered as gzip pieces instead (gzip-pieces.ts): the
// page is one gzip stream made of its parts' stored deflate data.

import { DELIVERY_FILTER_NAMES } from '../runtime/filter-defaults.ts';
import type { VclHttp } from '../runtime/http.ts';
import type { VmodFilter } from '../vmod/api.ts';
import type { BodyInfo } from './body-info.ts';
import { esiPieces, esiPlain, type Includes, piecesOf } from './esi-deliver.ts';
import { assembleGzip, type Piece, storedPiece } from './gzip-pieces.ts';
import { weakenEtag } from './http-edits.ts';
import { type Body, compose, filterNames, type Stage } from './stage.ts';
import { openVmodFilter, type VmodFilterLookup } from './vmod-filters.ts';
import type { KeptGunzips } from './gunzip-keep.ts';
import { gunzippedLength, gunzipStage, gunzipWhole, gunzipWholeStage, WHOLE_GUNZIP_MAX } from './zlib-stages.ts';

/** What a delivery needs to know of the stored object. */
export interface StoredBody {
  readonly info: BodyInfo;
  readonly chunks: readonly Buffer[];
  readonly bodyBytes: number;
  readonly state: 'streaming' | 'done' | 'failed';
}

export interface DeliveryDecisions {
  readonly info: BodyInfo;
  /** req.esi (resp.do_esi): false switches ESI off for this request. */
  readonly esi: boolean;
  /** The client does not take gzip, or this is an include of a plain page. */
  readonly plainWanted: boolean;
  readonly rangeSupport: boolean;
  readonly status: number;
  readonly hasRange: boolean;
}

/** resp.filters when VCL has not set it (Varnish's resp_default_filter_list). */
export function defaultDeliveryFilters(d: DeliveryDecisions): string {
  const out: string[] = [];
  if (d.esi && d.info.esiOpen) out.push('esi');
  if (d.info.gzip && d.plainWanted) out.push('gunzip');
  if (d.rangeSupport && d.status === 200 && d.hasRange) out.push('range');
  return out.join(' ');
}

export interface DeliveryContext {
  readonly obj: StoredBody;
  readonly resp: VclHttp;
  readonly counters: { n_gunzip: number };
  readonly includes: Includes;
  /** This is an include of a gzip page: deliver pieces of gzip, whatever the list says. */
  readonly pieces: boolean;
  /** Filters the VCL's VMODs added, by name. */
  readonly vmodFilter: VmodFilterLookup;
  /** A log record in the request's transaction (for VMOD filters). */
  readonly log: (message: string) => void;
  /** Where inflated bodies of this object may be kept (gunzip-keep.ts); null: never kept. */
  readonly kept: KeptGunzips<StoredBody> | null;
}

/**
 * A body transformed for delivery: bytes (with their length when known), a whole body made in
 * one synchronous call when it is written (a small complete gzip object gunzipped, or its kept
 * inflated bytes), or gzip pieces.
 */
export type DeliveryChain =
  | { readonly kind: 'bytes'; readonly stage: Stage; readonly length: number | undefined }
  | { readonly kind: 'whole'; readonly body: () => Buffer; readonly length: number }
  | { readonly kind: 'pieces'; readonly pieces: (input: Body) => AsyncIterable<Piece> };


/**
 * Opens the named filters over an object. null when none changes the body (the proxy writes it
 * itself, ranges included); an error names a filter that does not exist.
 */
export function openDeliveryFilters(list: string, c: DeliveryContext): DeliveryChain | null | { error: string } {
  const names = filterNames(list);
  const vmods = new Map<string, VmodFilter>();
  for (const n of names) {
    if ((DELIVERY_FILTER_NAMES as readonly string[]).includes(n)) continue;
    const f = c.vmodFilter(n);
    if (f?.delivery === undefined) return { error: `Filter '${n}' not found` };
    vmods.set(n, f);
  }
  const obj = c.obj;
  const info = obj.info;
  if (c.pieces) return piecesChain(names, vmods, c);
  let gzipped = info.gzip;
  let length: number | undefined = obj.state === 'done' ? obj.bodyBytes : undefined;
  const stages: Stage[] = [];
  let wholeFirst = false;
  for (let i = 0; i < names.length; i++) {
    const n = names[i];
    if (n === 'esi') {
      if (!info.esiOpen) continue;
      // A gzip page stays gzip unless a gunzip follows; a plain one is assembled plain.
      const asGzip = gzipped && !names.includes('gunzip', i + 1);
      const wasGzip = gzipped;
      if (asGzip) stages.push((input) => assembleGzip(esiPieces(input, info, true, c.includes)));
      else {
        stages.push((input) => esiPlain(input, info, wasGzip, c.includes));
        if (wasGzip) {
          // The gunzip that follows is done by the assembly; it still counts as one.
          c.counters.n_gunzip++;
          c.resp.unset('Content-Encoding');
        }
        gzipped = false;
      }
      c.resp.unset('Content-Length');
      weakenEtag(c.resp);
      length = undefined;
    } else if (n === 'gunzip') {
      if (!gzipped) continue;
      c.counters.n_gunzip++;
      gzipped = false;
      c.resp.unset('Content-Encoding');
      weakenEtag(c.resp);
      const small = obj.state === 'done' && obj.bodyBytes <= WHOLE_GUNZIP_MAX;
      // First to change the body of a small complete object: when no filter follows (any that
      // does makes the length unknown), the body is made whole when it is written.
      wholeFirst = small && stages.length === 0;
      if (!small) c.kept?.streamed(obj);
      stages.push(small ? gunzipWholeStage : gunzipStage);
      length = length === undefined || wholeFirst ? undefined : gunzippedLength(obj.chunks, obj.bodyBytes);
    } else if (vmods.has(n)) {
      // A VMOD's filter gets the bytes as the filters before it left them, gzip or not.
      const stage = openVmodFilter(vmods.get(n)!, 'delivery', c.resp, c.log);
      if (stage === null) continue;
      stages.push(stage);
      c.resp.unset('Content-Length');
      length = undefined;
    }
    // range: the proxy cuts ranges of a body it writes itself; a transformed body is whole.
  }
  if (stages.length === 0) return null;
  if (stages.length === 1 && wholeFirst) return wholeGunzip(obj, c.kept);
  return { kind: 'bytes', stage: compose(stages), length };
}

/** A complete small gzip object gunzipped in one call, or its kept inflated bytes. */
function wholeGunzip(obj: StoredBody, kept: KeptGunzips<StoredBody> | null): Extract<DeliveryChain, { kind: 'whole' }> {
  const body = kept?.get(obj);
  if (body !== undefined) return { kind: 'whole', body: () => body, length: body.length };
  const length = gunzippedLength(obj.chunks, obj.bodyBytes) ?? 0;
  return { kind: 'whole', body: kept === null ? () => gunzipWhole(obj.chunks) : () => kept.inflate(obj), length };
}

/**
 * An include of a gzip page: its body as gzip pieces. Its VMOD filters, when it has any that
 * open, get it as plain bytes (ESI assembled, gzip inflated), which go into the page as stored
 * blocks: a filter cannot be handed deflate data it would have to understand.
 */
function piecesChain(names: readonly string[], vmods: ReadonlyMap<string, VmodFilter>, c: DeliveryContext): DeliveryChain {
  const info = c.obj.info;
  const esi = names.includes('esi') && info.esiOpen;
  const stages: Stage[] = [];
  for (const n of names) {
    const f = vmods.get(n);
    const stage = f === undefined ? null : openVmodFilter(f, 'delivery', c.resp, c.log);
    if (stage !== null) stages.push(stage);
  }
  if (stages.length === 0) return { kind: 'pieces', pieces: (input) => piecesOf(input, info, info.gzip, esi, c.includes) };
  const plain: Stage = esi ? (input) => esiPlain(input, info, info.gzip, c.includes) : info.gzip ? gunzipStage : (input) => input;
  const filtered = compose([plain, ...stages]);
  return { kind: 'pieces', pieces: (input) => asStoredPieces(filtered(input)) };
}

async function* asStoredPieces(body: Body): AsyncGenerator<Piece> {
  for await (const chunk of body) yield storedPiece(chunk);
}
