// The object index: which object head a hash key names, and each head's committed objects (its
// variants), in typed arrays. A million heads are then a few large arrays the collector never
// looks into, where a Map of 32-character keys to head objects, each with its array of
// variants, was three to four JS objects per head.
//
// - A head is an id. Its digest (the 32 bytes of the key, as 8 Int32) and its newest object's id
//   are in arrays by head id; its other objects follow through the object table's variantNext
//   (newest first), and each object knows its head (headOf). Ids are reused once a head is idle,
//   lowest first (id-pool.ts), and the arrays give their top back when fewer heads are left.
// - The keys: an open-addressing table (linear probing) of head id + 1 (0: empty), at most half
//   full and, past its first size, at least an eighth full (it halves below that); a removal
//   shifts the entries after it back (no tombstones), so a probe ends at the first empty slot
//   whatever came and went. A digest is uniform already: its words, mixed by one
//   multiplication, are the hash.
// - What only a head with a fetch in progress or requests waiting needs (the busy slots, the
//   waiting list: objhead.ts's ObjectHead) is a JS object made for that time and dropped after;
//   `live[h]` says one exists, so a hit on a quiet head asks no Map.
// Keys are normally SHA-256 digests as 32 latin1 characters (digest.ts); any string of another
// length (tests, tools) is digested first, so the same string always names the same head.

import { createHash } from 'node:crypto';
import { IdPool, resized, shrunkLength } from './id-pool.ts';
import { NONE, type ObjectTable } from './object-table.ts';

const WORDS = 8;
const FIRST_HEADS = 4096;

export class ObjectIndex {
  readonly #table: ObjectTable;
  /** Head id + 1 per slot; 0 is empty. */
  #slots = new Int32Array(2 * FIRST_HEADS);
  /** 32 - log2(slots): a hash's top bits are its slot. */
  #shift = 32 - Math.log2(2 * FIRST_HEADS);
  /** WORDS Int32 of digest per head id. */
  #digests = new Int32Array(FIRST_HEADS * WORDS);
  /** The newest object of each head (NONE: it has none). */
  first = new Int32Array(FIRST_HEADS);
  /** 1 while the head has an ObjectHead (busy fetches or waiting requests). */
  live = new Uint8Array(FIRST_HEADS);
  readonly #ids = new IdPool(12);
  /** Heads in the index. */
  get size(): number {
    return this.#ids.live;
  }
  /** The last key found and its head: the same request URL again (a memoized key) costs one comparison. */
  #lastKey: string | null = null;
  #lastHead = NONE;

  constructor(table: ObjectTable) {
    this.#table = table;
  }

  /** The head of `key`, or NONE. */
  find(key: string): number {
    if (key === this.#lastKey) return this.#lastHead;
    const w = keyWords(key);
    const d = this.#digests;
    const slots = this.#slots;
    const mask = slots.length - 1;
    for (let i = hashOf(w, 0) >>> this.#shift; ; i = (i + 1) & mask) {
      const v = slots[i];
      if (v === 0) return NONE;
      const at = (v - 1) * WORDS;
      if (d[at] === w[0] && d[at + 1] === w[1] && d[at + 2] === w[2] && d[at + 3] === w[3] && d[at + 4] === w[4] && d[at + 5] === w[5] && d[at + 6] === w[6] && d[at + 7] === w[7]) {
        this.#lastKey = key;
        this.#lastHead = v - 1;
        return v - 1;
      }
    }
  }

  /** A new head for `key`, which find() did not know. */
  add(key: string): number {
    if (2 * (this.size + 1) > this.#slots.length) this.#rehash(this.#slots.length * 2);
    const h = this.#ids.take();
    if (h >= this.first.length) this.#resize(this.first.length * 2);
    this.#digests.set(keyWords(key), h * WORDS);
    this.first[h] = NONE;
    this.live[h] = 0;
    this.#put(h);
    return h;
  }

  /** Takes an idle head out (no objects, nothing live); its id is free again. False when it was not in. */
  remove(h: number): boolean {
    this.#lastKey = null;
    const slots = this.#slots;
    const mask = slots.length - 1;
    let i = hashOf(this.#digests, h * WORDS) >>> this.#shift;
    // Its run ends at an empty slot: not there, it was taken out already (a bug, not a hang).
    while (slots[i] !== h + 1) {
      if (slots[i] === 0) return false;
      i = (i + 1) & mask;
    }
    // Backward shift: each later entry of the run that may sit at i moves there.
    for (let j = (i + 1) & mask; slots[j] !== 0; j = (j + 1) & mask) {
      const home = hashOf(this.#digests, (slots[j] - 1) * WORDS) >>> this.#shift;
      const between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (between) continue;
      slots[i] = slots[j];
      i = j;
    }
    slots[i] = 0;
    const cut = this.#ids.give(h);
    if (cut >= 0) {
      const n = shrunkLength(this.first.length, cut, FIRST_HEADS);
      if (n < this.first.length) this.#resize(n);
    }
    if (this.size * 8 <= slots.length && slots.length > 2 * FIRST_HEADS) this.#rehash(slots.length / 2);
    return true;
  }

  /** Object `id` becomes head h's newest. */
  link(h: number, id: number): void {
    const t = this.#table;
    t.variantNext[id] = this.first[h];
    t.headOf[id] = h;
    this.first[h] = id;
  }

  /** Object `id` leaves its head's list; returns the head (NONE when it was on none). */
  unlink(id: number): number {
    const t = this.#table;
    const h = t.headOf[id];
    if (h === NONE) return NONE;
    const next = t.variantNext[id];
    if (this.first[h] === id) this.first[h] = next;
    else {
      let p = this.first[h];
      while (p !== NONE && t.variantNext[p] !== id) p = t.variantNext[p];
      if (p !== NONE) t.variantNext[p] = next;
    }
    t.headOf[id] = NONE;
    t.variantNext[id] = NONE;
    return h;
  }

  /** What the index holds outside the JS heap's objects (for the memory figures). */
  get bytes(): number {
    return this.#slots.length * 4 + this.first.length * (WORDS * 4 + 4 + 1);
  }

  /** The arrays by head id, at `n` heads (ids from `n` up are all free when it shrinks). */
  #resize(n: number): void {
    this.#digests = resized(this.#digests, n * WORDS);
    this.first = resized(this.first, n);
    this.live = resized(this.live, n);
  }

  #put(h: number): void {
    const slots = this.#slots;
    const mask = slots.length - 1;
    let i = hashOf(this.#digests, h * WORDS) >>> this.#shift;
    while (slots[i] !== 0) i = (i + 1) & mask;
    slots[i] = h + 1;
  }

  #rehash(n: number): void {
    const old = this.#slots;
    this.#slots = new Int32Array(n);
    this.#shift = 32 - Math.log2(n);
    for (const v of old) if (v !== 0) this.#put(v - 1);
  }
}

/** A digest's words mixed into a hash whose top bits are uniform (Fibonacci hashing). */
function hashOf(w: Int32Array, at: number): number {
  return Math.imul(w[at] ^ Math.imul(w[at + 3], 0x85ebca6b) ^ w[at + 6], 0x9e3779b1);
}

/** The key's bytes, written into the words that read them (one native write: a JS loop over the characters costs twice as much). */
const KEY = Buffer.alloc(WORDS * 4);
const KEY_WORDS = new Int32Array(KEY.buffer, KEY.byteOffset, WORDS);

/**
 * The key's 32 bytes as words: a key of 32 characters is a digest, one byte per character (its
 * low byte); any other string is digested first.
 */
function keyWords(key: string): Int32Array {
  if (key.length === 32) KEY.write(key, 0, 32, 'latin1');
  else createHash('sha256').update(key).digest().copy(KEY);
  return KEY_WORDS;
}
