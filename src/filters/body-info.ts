// What the fetch filters leave on a stored object about its body, apart from the object's own
// fields (a storage rework may change those; this travels as one value beside them).

import type { EsiInstruction } from './esi-parse.ts';

export interface BodyInfo {
  /** The stored body is gzip that Shellac made or checked (Varnish's OF_GZIPED). */
  gzip: boolean;
  /** A filter changed the body's Content-Encoding (Varnish's OF_CHGCE): gzip or gunzip ran. */
  changedEncoding: boolean;
  /** The ESI parser runs on the body (do_esi). */
  esiOpen: boolean;
  /**
   * The ESI instructions settled so far: the list grows while the body is fetched (each
   * instruction is added before the stored bytes it names), and is whole when the body is. Null
   * when the body is not processed: not parsed, or found not to be XML.
   */
  esi: EsiInstruction[] | null;
  /** The body was stored by esi_gzip: gzip cut at every instruction, verbatim ranges know their deflate bytes. */
  esiGzip: boolean;
}

export const PLAIN_BODY: Readonly<BodyInfo> = Object.freeze({ gzip: false, changedEncoding: false, esiOpen: false, esi: null, esiGzip: false });

export function newBodyInfo(): BodyInfo {
  return { gzip: false, changedEncoding: false, esiOpen: false, esi: null, esiGzip: false };
}
