// The debug VMOD's body filters, added to each VCL that imports it when it loads, as Varnish's
// debug module adds them (VRT_AddFilter): `rot13` on both chains, and `debug.pedantic`, a
// delivery filter that passes the body on and logs when the chain closes it before the body's
// end.

import type { BodyTransform, VmodEventContext, VmodFilter } from '../../src/vmod/api.ts';

/** ROT13 of ASCII letters, every other byte as it is: the length never changes. */
function rot13Bytes(chunk: Uint8Array): Uint8Array {
  const out = new Uint8Array(chunk.byteLength);
  for (let i = 0; i < chunk.byteLength; i++) {
    const c = chunk[i];
    if (c >= 0x41 && c <= 0x5a) out[i] = ((c - 0x41 + 13) % 26) + 0x41;
    else if (c >= 0x61 && c <= 0x7a) out[i] = ((c - 0x61 + 13) % 26) + 0x61;
    else out[i] = c;
  }
  return out;
}

const rot13Transform: BodyTransform = async function* rot13(body) {
  for await (const chunk of body) yield rot13Bytes(chunk);
};

export const rot13: VmodFilter = {
  name: 'rot13',
  fetch: () => rot13Transform,
  delivery: () => rot13Transform,
};

export const pedantic: VmodFilter = {
  name: 'debug.pedantic',
  delivery: (c) =>
    async function* pedanticPass(body) {
      let ended = false;
      try {
        yield* body;
        ended = true;
      } finally {
        // The chain closes every filter, at the end or when it stops early (a client gone);
        // the log line shows the second.
        if (!ended) c.log('debug.pedantic: delivery stopped before the end of the body');
      }
    },
};

/** Adds the filters to the VCL being loaded; the first refusal is the event's failure. */
export function addFilters(ctx: VmodEventContext): string | null {
  for (const f of [rot13, pedantic]) {
    const refused = ctx.addFilter(f);
    if (refused !== null) return refused;
  }
  return null;
}
