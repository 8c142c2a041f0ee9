// Hash keys: the cache is keyed by the SHA-256 digest of what vcl_hash fed (the runtime's task
// computes it); as a Map key the 32 bytes become a 32-character latin1 string, the cheapest
// string form of a binary digest.

import { createHash } from 'node:crypto';

export function digestKey(digest: Uint8Array): string {
  return Buffer.from(digest.buffer, digest.byteOffset, digest.byteLength).toString('latin1');
}

/** The key of a digest taken over `text` (for tests and tools that do not run VCL). */
export function keyOfText(text: string): string {
  return createHash('sha256').update(text, 'latin1').digest('binary');
}
