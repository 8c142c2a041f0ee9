// The cache key of a request: the SHA-256 of what vcl_hash fed through hash_data(), as Varnish
// hashes it, as 32 latin1 characters (one per byte).
//
// SHA-256 of a URL and a Host costs 0.3 µs. The last inputs are kept in a small direct-mapped
// memo (MEMO_SLOTS, each slot picked from the input's length and two of its characters), so a
// hot URL's key costs a string comparison. It is small on purpose: an earlier memo (a trie of
// 16,384 nodes) kept each input until it was full, so with 10,000 URLs it was refilled over
// and over and what it held lived just long enough to be promoted and collected from the old
// generation (about 5 µs of a hit's main-thread time, docs/storage.md). In this one an input
// that is not hot is replaced within a few dozen requests, dead before the next scavenge.

import { hash } from 'node:crypto';

const MEMO_SLOTS = 64;
const memoInputs: (string | null)[] = new Array(MEMO_SLOTS).fill(null);
const memoKeys: string[] = new Array(MEMO_SLOTS).fill('');

/** A character that encodes differently in UTF-8 than in latin1. */
const NOT_ASCII = /[^\x00-\x7f]/;

/** The digest of a byte string (one character per byte: its bytes are hashed, as Varnish's req.hash). */
export function hashKeyOf(input: string): string {
  const n = input.length;
  const slot = n === 0 ? 0 : (n * 31 + input.charCodeAt(n - 1) * 7 + input.charCodeAt(n >> 1)) & (MEMO_SLOTS - 1);
  if (memoInputs[slot] === input) return memoKeys[slot];
  // node:crypto takes a string as UTF-8: the same bytes while it is ASCII, and no Buffer made.
  // The output as latin1 (node calls it binary): its cheapest form for a digest this small.
  const key = hash('sha256', NOT_ASCII.test(input) ? Buffer.from(input, 'latin1') : input, 'binary');
  memoInputs[slot] = input;
  memoKeys[slot] = key;
  return key;
}
