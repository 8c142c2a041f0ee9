// The index of surrogate keys: key → objects carrying it. It hears the cache's object events
// (CacheObjects.subscribe) and reads the keys of each object as it enters, as Varnish's xkey
// does on OEV_INSERT, and again as it leaves: an object's stored headers never change, so
// reading them twice costs less than keeping each object's keys a second time.
//
// Memory: most keys name one object (a product's own page), so a key with one object holds it
// directly and only a shared key gets a Set. Each key string is held once, as the map's key.

import type { CachedObjectRef, CacheObjects } from '../../src/vmod/api.ts';

/** Separators between keys in a header and in purge's argument: what xkey_tok skips. */
const SEPARATORS = /[ \t,]+/;

/** The response headers keys are read from, lower-cased. */
const KEY_HEADERS = new Set(['xkey', 'x-hashtwo']);

/** The keys in one header value or one purge argument, without empties. */
export function splitKeys(text: string): string[] {
  return text.split(SEPARATORS).filter((k) => k !== '');
}

type Members = CachedObjectRef | Set<CachedObjectRef>;

export class KeyIndex {
  readonly #objects = new Map<string, Members>();
  #indexed = 0;

  /** Keys in use (xkey's g_keys). */
  get keys(): number {
    return this.#objects.size;
  }

  /** Objects that carry at least one key. */
  get objects(): number {
    return this.#indexed;
  }

  inserted(obj: CachedObjectRef): void {
    const keys = keysOf(obj);
    if (keys.size === 0) return;
    this.#indexed++;
    for (const key of keys) {
      const members = this.#objects.get(key);
      if (members === undefined) this.#objects.set(key, obj);
      else if (members instanceof Set) members.add(obj);
      else if (members !== obj) this.#objects.set(key, new Set([members, obj]));
    }
  }

  /** Objects inserted before the index subscribed are in no entry: nothing to forget. */
  removed(obj: CachedObjectRef): void {
    let found = false;
    for (const key of keysOf(obj)) found = this.#forget(key, obj) || found;
    if (found) this.#indexed--;
  }

  /** The objects carrying each of `keys`, one list per key (an object may be in several). */
  find(keys: readonly string[]): CachedObjectRef[][] {
    const found: CachedObjectRef[][] = [];
    for (const key of keys) {
      const members = this.#objects.get(key);
      if (members === undefined) continue;
      found.push(members instanceof Set ? [...members] : [members]);
    }
    return found;
  }

  /**
   * xkey.purge / xkey.softpurge. Counted as upstream counts: once per key and object, so an
   * object carrying two of the keys counts twice in a hard purge; a soft purge counts only the
   * objects it made stale, so it counts such an object once.
   */
  purge(cache: CacheObjects, keys: string, now: number, soft: boolean): number {
    let n = 0;
    // Collected first: a hard purge removes objects, and with them their index entries.
    for (const objects of this.find(splitKeys(keys))) {
      for (const obj of objects) {
        if (cache.purgeObject(obj, now, soft) || !soft) n++;
      }
    }
    return n;
  }

  /** Takes obj out of key's entry; whether it was there. */
  #forget(key: string, obj: CachedObjectRef): boolean {
    const members = this.#objects.get(key);
    if (members === obj) {
      this.#objects.delete(key);
      return true;
    }
    if (!(members instanceof Set) || !members.delete(obj)) return false;
    if (members.size === 1) this.#objects.set(key, members.values().next().value as CachedObjectRef);
    return true;
  }
}

/** The keys an object carries, each once, from its xkey and X-HashTwo headers. */
function keysOf(obj: CachedObjectRef): ReadonlySet<string> {
  const http = obj.http;
  // A Set, not an array searched with includes(): a response may carry any number of keys.
  let keys: Set<string> | null = null;
  for (let i = 0; i < http.count; i++) {
    if (!KEY_HEADERS.has(http.nameAt(i).toLowerCase())) continue;
    for (const key of splitKeys(http.valueAt(i))) {
      keys ??= new Set();
      keys.add(key);
    }
  }
  return keys ?? NO_KEYS;
}

const NO_KEYS: ReadonlySet<string> = new Set();
