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

/** The gauges the index keeps up to date (xkey's $Counters, named as upstream's). */
export interface IndexGauges {
  g_keys: number;
  g_hashhead_bytes: number;
  g_ochead_bytes: number;
  g_oc_bytes: number;
  g_bytes: number;
}

// Estimates of the JS memory behind each part, from bench/xkey.ts (about 84 heap bytes per
// object with one key of its own and one shared: some 42 per key-object link).
const KEY_BYTES = 48;
const LINK_BYTES = 42;
const OBJECT_BYTES = 8;

export class KeyIndex {
  readonly #objects = new Map<string, Members>();
  #indexed = 0;
  readonly #gauges: IndexGauges;

  /** `gauges`: where to keep the counts (the VMOD's counters); a private set by default. */
  constructor(gauges?: IndexGauges) {
    this.#gauges = gauges ?? { g_keys: 0, g_hashhead_bytes: 0, g_ochead_bytes: 0, g_oc_bytes: 0, g_bytes: 0 };
  }

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
    const g = this.#gauges;
    this.#indexed++;
    g.g_oc_bytes += OBJECT_BYTES;
    for (const key of keys) {
      const members = this.#objects.get(key);
      if (members === undefined) {
        this.#objects.set(key, obj);
        g.g_keys++;
        g.g_hashhead_bytes += KEY_BYTES + key.length;
      } else if (members instanceof Set) {
        if (members.has(obj)) continue;
        members.add(obj);
      } else if (members !== obj) {
        this.#objects.set(key, new Set([members, obj]));
      } else {
        continue;
      }
      g.g_ochead_bytes += LINK_BYTES;
    }
    this.#total();
  }

  /** Objects inserted before the index subscribed are in no entry: nothing to forget. */
  removed(obj: CachedObjectRef): void {
    let found = false;
    for (const key of keysOf(obj)) found = this.#forget(key, obj) || found;
    if (!found) return;
    this.#indexed--;
    this.#gauges.g_oc_bytes -= OBJECT_BYTES;
    this.#total();
  }

  #total(): void {
    const g = this.#gauges;
    g.g_bytes = g.g_hashhead_bytes + g.g_ochead_bytes + g.g_oc_bytes;
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
    const g = this.#gauges;
    if (members === obj) {
      this.#objects.delete(key);
      g.g_keys--;
      g.g_hashhead_bytes -= KEY_BYTES + key.length;
      g.g_ochead_bytes -= LINK_BYTES;
      return true;
    }
    if (!(members instanceof Set) || !members.delete(obj)) return false;
    g.g_ochead_bytes -= LINK_BYTES;
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
