// The proxy's side of the body filters (src/filters/): it hands them the parameters, counters
// and transaction record they need, so the filters know nothing of the server.

import type { BodyInfo } from '../filters/body-info.ts';
import type { EsiFeatures, EsiReport } from '../filters/esi-parse.ts';
import { openFetchFilters } from '../filters/fetch-filters.ts';
import { defaultFetchFilters } from '../runtime/filter-defaults.ts';
import type { Stage } from '../filters/stage.ts';
import type { GzipSettings } from '../filters/zlib-stages.ts';
import type { TxLog } from '../common/log.ts';
import type { VclTask } from '../runtime/task.ts';
import type { Shellac } from './server.ts';

export function gzipSettings(srv: Shellac): GzipSettings {
  const p = srv.params.values;
  return { level: p.gzip_level, memLevel: p.gzip_memlevel, buffer: p.gzip_buffer };
}

export function esiFeatures(srv: Shellac): EsiFeatures {
  const f = srv.params.values.feature;
  return {
    disableXmlCheck: f.has('esi_disable_xml_check'),
    ignoreOtherElements: f.has('esi_ignore_other_elements'),
    removeBom: f.has('esi_remove_bom'),
    ignoreHttps: f.has('esi_ignore_https'),
  };
}

/** ESI errors and warnings as Varnish logs them (ESI_xmlerror), in the fetch's record. */
function esiReport(tx: TxLog | null): EsiReport {
  return {
    error: (m) => tx?.log(`ESI_xmlerror: ERR ${m}`),
    warning: (m) => tx?.log(`ESI_xmlerror: WARN ${m}`),
  };
}

/** Opens beresp.filters (or the default list) for a fetch that has a body. */
export function openBodyFilters(srv: Shellac, t: VclTask, info: BodyInfo, tx: TxLog | null): { ok: true; stage: Stage | null } | { ok: false; message: string } {
  const beresp = t.beresp!;
  if (beresp.status === 206) {
    // A part of a body cannot be parsed or re-encoded: ESI fails the fetch, gzip and gunzip
    // leave it as it is (Varnish's rule; a VCL that means it sets the status to 1206).
    if (t.doEsi) return { ok: false, message: 'Cannot process partial response (206) with ESI' };
    if (t.berespFilters === null) return { ok: true, stage: null };
  }
  const list = t.berespFilters ?? defaultFetchFilters(t, beresp);
  return openFetchFilters(list, {
    beresp: t.beresp!,
    gzip: gzipSettings(srv),
    esi: esiFeatures(srv),
    counters: srv.counters,
    report: esiReport(tx),
    info,
    vmodFilter: (name) => t.vcl?.filter?.(name),
    log: (m) => tx?.log(m),
  });
}
