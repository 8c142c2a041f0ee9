// What the fetch filters leave on a stored object about its body, apart from the object's own
// fields (a storage rework may change those; this travels as one value beside them).

import type { EsiInstruction } from './esi-parse.ts';

export interface BodyInfo {
  /** The stored body is gzip that Shellac made or checked (Varnish's OF_GZIPED). */
  gzip: boolean;
  /** A filter changed the body's Content-Encoding (Varnish's OF_CHGCE): gzip or gunzip ran. */
  changedEncoding: boolean;
  /** The ESI parser runs on the body (do_esi): its list comes when the body is complete. */
  esiOpen: boolean;
  /** The ESI instructions, once the body is complete and was parsed; null otherwise. */
  esi: EsiInstruction[] | null;
}

export const PLAIN_BODY: Readonly<BodyInfo> = Object.freeze({ gzip: false, changedEncoding: false, esiOpen: false, esi: null });

export function newBodyInfo(): BodyInfo {
  return { gzip: false, changedEncoding: false, esiOpen: false, esi: null };
}
