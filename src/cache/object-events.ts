// Object events: the cache tells whoever subscribed that an object became findable (commit) and
// that it left (expiry, eviction, purge, ban, replacement). This is the one hook an index kept
// outside the cache needs (xkey's keys → objects), Varnish's ObjSubscribeEvents. It is an
// interface of two calls so that another storage can offer the same; the hit path never
// touches it, and with nobody subscribed an insert or removal costs one length check.

/** Hears of objects entering and leaving a cache. Called synchronously; must not throw. */
export interface ObjectListener<O> {
  inserted(obj: O): void;
  removed(obj: O): void;
}

export class ObjectEvents<O> {
  #listeners: readonly ObjectListener<O>[] = [];

  /** From now on, `listener` hears every insert and removal; returns the unsubscribe. */
  subscribe(listener: ObjectListener<O>): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  get active(): boolean {
    return this.#listeners.length > 0;
  }

  inserted(obj: O): void {
    // A copy-on-write array: a listener unsubscribing during the call does not skip another.
    for (const l of this.#listeners) l.inserted(obj);
  }

  removed(obj: O): void {
    for (const l of this.#listeners) l.removed(obj);
  }
}
