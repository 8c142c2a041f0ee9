// The fetch processors (Varnish's VFPs): what the backend sends becomes what is stored. Each
// filter opens against beresp as the ones before it left it, and either declines (the body is
// not in the encoding it works on, Varnish's VFP_NULL) or changes beresp's headers and adds a
// stage. The list is beresp.filters: VCL may set it; when it does not, it is made from
// do_gzip, do_gunzip, do_esi and Content-Encoding as Varnish 7.1 makes it.

import type { VclHttp } from '../runtime/http.ts';
import type { BodyInfo } from './body-info.ts';
import { esiGzipStage, esiParseStage } from './esi-stage.ts';
import type { EsiFeatures, EsiReport } from './esi-parse.ts';
import { type FETCH_FILTER_NAMES, isGzip } from '../runtime/filter-defaults.ts';
import { varyAcceptEncoding, weakenEtag } from './http-edits.ts';
import { compose, filterNames, type Stage } from './stage.ts';
import { openVmodFilter, type VmodFilterLookup } from './vmod-filters.ts';
import { type GzipSettings, gunzipFetchStage, gzipStage, testGunzipStage } from './zlib-stages.ts';

export interface FilterCounters {
  n_gzip: number;
  n_gunzip: number;
  n_test_gunzip: number;
  esi_errors: number;
  esi_warnings: number;
}

export interface FetchFilterContext {
  readonly beresp: VclHttp;
  readonly gzip: GzipSettings;
  readonly esi: EsiFeatures;
  readonly counters: FilterCounters;
  /** Where ESI errors go (the transaction record); counted by the filter. */
  readonly report: EsiReport;
  /** What the stored object will know of its body; filters fill it as they open and end. */
  readonly info: BodyInfo;
  /** Filters the VCL's VMODs added, by name. */
  readonly vmodFilter: VmodFilterLookup;
  /** A log record in the fetch's transaction (for VMOD filters). */
  readonly log: (message: string) => void;
}

type FetchFilter = (c: FetchFilterContext) => Stage | null;

function gzipOpen(c: FetchFilterContext): Stage {
  gzipHeaders(c);
  return gzipStage(c.gzip);
}

/** What a filter that gzips the body does to beresp and counts. */
function gzipHeaders(c: FetchFilterContext): void {
  const h = c.beresp;
  c.counters.n_gzip++;
  c.info.gzip = true;
  c.info.changedEncoding = true;
  h.unset('Content-Encoding');
  h.unset('Content-Length');
  weakenEtag(h);
  h.set('Content-Encoding', 'gzip');
  varyAcceptEncoding(h);
}

// Every built-in name (runtime/filter-defaults.ts) has a filter here, and no other name.
const FETCH_FILTERS = {
  gzip(c) {
    return c.beresp.has('Content-Encoding') ? null : gzipOpen(c);
  },
  gunzip(c) {
    const h = c.beresp;
    if (!isGzip(h)) return null;
    c.counters.n_gunzip++;
    c.info.gzip = false;
    c.info.changedEncoding = true;
    h.unset('Content-Encoding');
    h.unset('Content-Length');
    weakenEtag(h);
    return gunzipFetchStage;
  },
  testgunzip(c) {
    if (!isGzip(c.beresp)) return null;
    c.counters.n_test_gunzip++;
    c.info.gzip = true;
    return testGunzipStage;
  },
  esi(c) {
    if (c.beresp.has('Content-Encoding')) return null;
    c.beresp.unset('Content-Length');
    return esiParseStage(c);
  },
  esi_gzip(c) {
    if (c.beresp.has('Content-Encoding')) return null;
    gzipHeaders(c);
    return esiGzipStage(c);
  },
} satisfies Record<(typeof FETCH_FILTER_NAMES)[number], FetchFilter>;


/** Opens the named filters in order; a name that is not a filter is an error naming it. */
export function openFetchFilters(list: string, c: FetchFilterContext): { ok: true; stage: Stage | null } | { ok: false; message: string } {
  const names = filterNames(list);
  const opens: ((c: FetchFilterContext) => Stage | null)[] = [];
  for (const n of names) {
    if (Object.hasOwn(FETCH_FILTERS, n)) {
      opens.push(FETCH_FILTERS[n as keyof typeof FETCH_FILTERS]);
      continue;
    }
    const f = c.vmodFilter(n);
    if (f?.fetch === undefined) return { ok: false, message: `Filter '${n}' not found` };
    opens.push((c) => openVmodFilter(f, 'fetch', c.beresp, c.log));
  }
  const stages: Stage[] = [];
  for (const open of opens) {
    const s = open(c);
    if (s !== null) stages.push(s);
  }
  return { ok: true, stage: stages.length === 0 ? null : compose(stages) };
}
