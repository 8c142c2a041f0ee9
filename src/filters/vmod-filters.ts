// Filters a VMOD adds to its VCL (Varnish's VRT_AddFilter; the VMOD API's VmodFilter): they
// stand in a filter list beside the built-in ones, under their own names. A VMOD sees a body as
// Uint8Array chunks; the chains carry Buffers, so each chunk is viewed as one without a copy.

import type { VclHttp } from '../runtime/http.ts';
import type { BodyTransform, VmodFilter } from '../vmod/api.ts';
import type { Body, Stage } from './stage.ts';

/** Finds a VMOD's filter by name in the task's VCL. */
export type VmodFilterLookup = (name: string) => VmodFilter | undefined;

/** Opens one side of a VMOD's filter: its stage, or null when it declines this body. */
export function openVmodFilter(f: VmodFilter, side: 'fetch' | 'delivery', http: VclHttp, log: (m: string) => void): Stage | null {
  const open = f[side];
  if (open === undefined) return null;
  const transform = open({ http, log });
  return transform === null ? null : asStage(transform);
}

function asStage(t: BodyTransform): Stage {
  return async function* vmodStage(input: Body): AsyncGenerator<Buffer> {
    for await (const chunk of t(input)) {
      if (chunk.byteLength === 0) continue;
      yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
  };
}
