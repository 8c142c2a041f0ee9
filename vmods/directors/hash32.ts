// The 32-bit string hash the hash and shard directors place keys with, the same function as
// Varnish's (SHA-256 of the strings joined, null and empty ones skipped, the digest's last four
// bytes read little-endian), so a key lands on the same member as it would under Varnish.

import { createHash } from 'node:crypto';

export function hashStrands32(strands: readonly (string | null)[]): number {
  const sha = createHash('sha256');
  for (const s of strands) if (s !== null && s !== '') sha.update(s, 'latin1');
  return sha.digest().readUInt32LE(28);
}

/** The first four bytes of a digest or blob as a big-endian number, zero-padded on the left. */
export function bigEndianKey(bytes: Uint8Array): number {
  let key = 0;
  const n = Math.min(bytes.length, 4);
  // Fewer than four bytes fill the low end of the key: [0x01, 0x02] is 0x00000102.
  for (let i = 0; i < n; i++) key = key * 256 + bytes[i];
  return key >>> 0;
}
