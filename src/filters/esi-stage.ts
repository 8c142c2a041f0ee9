// The ESI fetch stage: the bytes pass unchanged (the stored body is what the backend sent,
// gunzipped first if need be) and are parsed once whole, at the end; the instruction list goes
// to the object's body info. Delivery of an ESI object waits for the complete body.

import { type EsiFeatures, type EsiReport, parseEsi } from './esi-parse.ts';
import type { FetchFilterContext } from './fetch-filters.ts';
import type { Body, Stage } from './stage.ts';

export function esiParseStage(c: FetchFilterContext): Stage {
  c.info.esiOpen = true;
  return (input) => parsing(input, c.esi, c.report, (list) => {
    c.info.esi = list;
  }, c.counters);
}

async function* parsing(input: Body, features: EsiFeatures, report: EsiReport, done: (list: ReturnType<typeof parseEsi>) => void, counters: { esi_errors: number; esi_warnings: number }): AsyncGenerator<Buffer> {
  const seen: Buffer[] = [];
  for await (const chunk of input) {
    seen.push(chunk);
    yield chunk;
  }
  const counted: EsiReport = {
    error(m) {
      counters.esi_errors++;
      report.error(m);
    },
    warning(m) {
      counters.esi_warnings++;
      report.warning(m);
    },
  };
  done(parseEsi(Buffer.concat(seen).toString('latin1'), features, counted));
}
