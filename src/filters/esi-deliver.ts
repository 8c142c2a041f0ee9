// ESI assembly on delivery: walks the instruction list the fetch stored, sending the verbatim
// ranges of the stored body and, in their place, each include's body. Includes run as
// sub-requests through the client state machine (the proxy's IncludeRunner); what they deliver
// comes back as plain bytes.

import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import type { BodyInfo } from './body-info.ts';
import type { EsiInclude } from './esi-parse.ts';
import type { Body } from './stage.ts';

const gunzipAsync = promisify(gunzip);

/** Runs one include and gives its body; an include that fails gives what its request delivered. */
export type IncludeRunner = (inc: EsiInclude) => Body;

export async function* esiAssemble(input: Body, info: BodyInfo, gzipped: boolean, includes: IncludeRunner): AsyncGenerator<Buffer> {
  const seen: Buffer[] = [];
  for await (const chunk of input) seen.push(chunk);
  let body = Buffer.concat(seen);
  if (gzipped) body = await gunzipAsync(body);
  const list = info.esi;
  if (list === null) {
    yield body;
    return;
  }
  for (const ins of list) {
    if (ins.kind === 'verbatim') {
      if (ins.end > ins.start) yield body.subarray(ins.start, ins.end);
      continue;
    }
    for await (const part of includes(ins)) yield part;
  }
}
