// The delivery processors (Varnish's VDPs): what is stored becomes what the client gets. The
// list is resp.filters: VCL may set it; when it does not, it is made as Varnish 7.1 makes it:
// `esi` for an object with ESI instructions (unless req.esi / resp.do_esi is off), `gunzip` for
// a gzipped object to a client that does not take gzip (and always inside an ESI page, whose
// parts are assembled as plain bytes), `range` for a Range request on a 200. An object that
// needs none of them is written by the proxy directly, as before: the hit path pays nothing.

import type { VclHttp } from '../runtime/http.ts';
import type { BodyInfo } from './body-info.ts';
import { esiAssemble, type IncludeRunner } from './esi-deliver.ts';
import { weakenEtag } from './http-edits.ts';
import { compose, filterNames, type Stage } from './stage.ts';
import { type GzipSettings, gunzippedLength, gunzipStage, gzipStage } from './zlib-stages.ts';

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
  /** The client takes gzip (req.can_gzip), or this is an ESI include (always assembled plain). */
  readonly plainWanted: boolean;
  readonly gzipSupport: boolean;
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
  readonly gzip: GzipSettings;
  readonly counters: { n_gunzip: number; n_gzip: number };
  readonly includes: IncludeRunner;
}

/** A body transformed for delivery: the stage over the stored bytes and the length it has. */
export interface DeliveryChain {
  readonly stage: Stage;
  /** The length of what the stage yields, when known (else the response is chunked). */
  readonly length: number | undefined;
}

export const DELIVERY_FILTER_NAMES: readonly string[] = ['esi', 'gunzip', 'range'];

/**
 * Opens the named filters over an object. null when none changes the body (the proxy writes it
 * itself, ranges included); an error names a filter that does not exist.
 */
export function openDeliveryFilters(list: string, c: DeliveryContext): DeliveryChain | null | { error: string } {
  const names = filterNames(list);
  for (const n of names) if (!DELIVERY_FILTER_NAMES.includes(n)) return { error: `Filter '${n}' not found` };
  const obj = c.obj;
  let gzipped = obj.info.gzip;
  let length: number | undefined = obj.state === 'done' ? obj.bodyBytes : undefined;
  const stages: Stage[] = [];
  for (let i = 0; i < names.length; i++) {
    const n = names[i];
    if (n === 'esi') {
      if (!obj.info.esiOpen) continue;
      // The parts are assembled as plain bytes; a gzip page is gzipped again unless a gunzip
      // follows (then it would only be undone).
      const plainOut = !gzipped || names.includes('gunzip', i + 1);
      const wasGzip = gzipped;
      stages.push((input) => esiAssemble(input, obj.info, wasGzip, c.includes));
      if (!plainOut) stages.push(gzipStage(c.gzip));
      else gzipped = false;
      c.resp.unset('Content-Length');
      weakenEtag(c.resp);
      length = undefined;
    } else if (n === 'gunzip') {
      if (!gzipped) {
        // Inside an ESI page the gunzip was folded into the assembly: the header still goes.
        if (obj.info.gzip) c.resp.unset('Content-Encoding');
        weakenEtag(c.resp);
        continue;
      }
      c.counters.n_gunzip++;
      gzipped = false;
      c.resp.unset('Content-Encoding');
      weakenEtag(c.resp);
      stages.push(gunzipStage);
      length = length === undefined ? undefined : gunzippedLength(obj.chunks, obj.bodyBytes);
    }
    // range: the proxy cuts ranges of a body it writes itself; a transformed body is whole.
  }
  if (stages.length === 0) return null;
  return { stage: compose(stages), length };
}
