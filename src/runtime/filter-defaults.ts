// What `beresp.filters` reads when VCL has not set it: the fetch filters Varnish 7.1 chooses
// from the response's Content-Encoding and the do_gzip/do_gunzip/do_esi decisions (its
// vbf_default_filter_list), and the names of the built-in filters. Facts of the VCL variables
// beresp.filters and resp.filters, so they live with the variables; the filters themselves are
// in src/filters/.

import type { VclHttp } from './http.ts';

/** The built-in fetch filters (src/filters/fetch-filters.ts implements each). */
export const FETCH_FILTER_NAMES = ['gzip', 'gunzip', 'testgunzip', 'esi', 'esi_gzip'] as const;
/** The built-in delivery filters (src/filters/delivery-filters.ts). */
export const DELIVERY_FILTER_NAMES = ['esi', 'gunzip', 'range'] as const;

/** Whether a filter name is taken by a built-in filter: a VMOD may not add one under it. */
export function isBuiltinFilter(name: string): boolean {
  return (FETCH_FILTER_NAMES as readonly string[]).includes(name) || (DELIVERY_FILTER_NAMES as readonly string[]).includes(name);
}

/** Whether a message's body is gzip by its Content-Encoding. */
export function isGzip(h: VclHttp): boolean {
  return h.get('Content-Encoding')?.trim().toLowerCase() === 'gzip';
}

export interface FetchDecisions {
  readonly doGzip: boolean;
  readonly doGunzip: boolean;
  readonly doEsi: boolean;
  /** http_gzip_support. */
  readonly gzipSupport: boolean;
}

/** beresp.filters when VCL has not set it (Varnish's vbf_default_filter_list). */
export function defaultFetchFilters(d: FetchDecisions, beresp: VclHttp | null): string {
  if (beresp === null) return '';
  const isGz = d.gzipSupport && isGzip(beresp);
  const isPlain = d.gzipSupport && !beresp.has('Content-Encoding');
  const doGunzip = d.doGunzip && isGz;
  const doGzip = d.doGzip && isPlain;
  const out: string[] = [];
  if (doGunzip || (isGz && d.doEsi)) out.push('gunzip');
  if (d.doEsi && (doGzip || (isGz && !doGunzip))) out.push('esi_gzip');
  else if (d.doEsi) out.push('esi');
  else {
    if (doGzip) out.push('gzip');
    if (isGz && !doGunzip) out.push('testgunzip');
  }
  return out.join(' ');
}

