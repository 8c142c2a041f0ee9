// The index of surrogate keys: key → objects carrying it, and object → its keys (to forget it
// when it leaves). It hears the cache's object events (CacheObjects.subscribe) and reads the
// keys of each object as it enters, as Varnish's xkey does on OEV_INSERT.
//
// Memory: most keys name one object (a product's own page) and most objects carry a handful
// of keys, so a key with one object holds it directly and only a shared key gets a Set, and
// an object with one key holds that string directly. Key strings are kept as sliced from the
// stored header value, which the object keeps anyway.

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
  readonly #keysOf = new Map<CachedObjectRef, string | string[]>();

  /** Keys in use (xkey's g_keys). */
  get keys(): number {
    return this.#objects.size;
  }

  /** Objects that carry at least one key. */
  get objects(): number {
    return this.#keysOf.size;
  }

  inserted(obj: CachedObjectRef): void {
    const keys = keysOf(obj);
    if (keys.length === 0) return;
    this.#keysOf.set(obj, keys.length === 1 ? keys[0] : keys);
    for (const key of keys) {
      const members = this.#objects.get(key);
      if (members === undefined) this.#objects.set(key, obj);
      else if (members instanceof Set) members.add(obj);
      else if (members !== obj) this.#objects.set(key, new Set([members, obj]));
    }
  }

  removed(obj: CachedObjectRef): void {
    const keys = this.#keysOf.get(obj);
    if (keys === undefined) return;
    this.#keysOf.delete(obj);
    if (typeof keys === 'string') this.#forget(keys, obj);
    else for (const key of keys) this.#forget(key, obj);
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

  #forget(key: string, obj: CachedObjectRef): void {
    const members = this.#objects.get(key);
    if (members === obj) this.#objects.delete(key);
    else if (members instanceof Set) {
      members.delete(obj);
      if (members.size === 1) this.#objects.set(key, members.values().next().value as CachedObjectRef);
    }
  }
}

/** The keys an object carries, each once, from its xkey and X-HashTwo headers. */
function keysOf(obj: CachedObjectRef): string[] {
  const http = obj.http;
  // A Set, not includes(): a response may carry any number of keys.
  let keys: Set<string> | null = null;
  for (let i = 0; i < http.count; i++) {
    if (!KEY_HEADERS.has(http.nameAt(i).toLowerCase())) continue;
    for (const key of splitKeys(http.valueAt(i))) {
      keys ??= new Set();
      keys.add(key);
    }
  }
  return keys === null ? [] : [...keys];
}
