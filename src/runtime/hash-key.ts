// The cache key of a request: the SHA-256 of what vcl_hash fed through hash_data(), as Varnish
// hashes it, as 32 latin1 characters (one per byte).
//
// Each lookup hashes its input anew (0.3 µs for a URL and a Host). A memo of the digests of
// recent inputs (a trie of their strands) was tried and taken out: it saved that on a hot URL,
// but with a working set larger than the memo it was refilled over and over, and what it held
// lived just long enough to be promoted and collected from the old generation: with 10,000
// URLs it cost a hit about 5 µs of the main thread's time (docs/storage.md).

import { hash } from 'node:crypto';

/** A character that encodes differently in UTF-8 than in latin1. */
const NOT_ASCII = /[^\x00-\x7f]/;

/** The digest of a byte string (one character per byte: its bytes are hashed, as Varnish's req.hash). */
export function hashKeyOf(input: string): string {
  // node:crypto takes a string as UTF-8: the same bytes while it is ASCII, and no Buffer made.
  // The output as latin1 (node calls it binary): its cheapest form for a digest this small.
  return hash('sha256', NOT_ASCII.test(input) ? Buffer.from(input, 'latin1') : input, 'binary');
}
