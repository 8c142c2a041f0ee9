// What a head (one hash key) needs while fetches are in progress for it: the fetches (busy
// slots) and the requests waiting for one of them (the waiting list). Its committed objects
// are in the object index (object-index.ts), by id; this JS object exists only while something
// is busy or waiting, so a million quiet heads are none. Waiters share one promise per head;
// whenever a fetch commits, fails or is given up, all of them wake and look up again, which is
// what Varnish's woken requests do (the one that finds nothing becomes the next fetch, the
// others wait again behind it).

import type { CacheObject } from './object.ts';
import type { VarySpec } from './vary.ts';

export type BusyState = 'busy' | 'committed' | 'released';

/**
 * A fetch in progress that lookups coalesce on (Varnish's busy objcore). The lookup that
 * returns one hands it to its caller, who must end it with Cache.commit() or Cache.release().
 */
export class BusySlot {
  readonly head: ObjectHead;
  /** The expired object this fetch may revalidate (its ETag/Last-Modified) and will replace. */
  readonly stale: CacheObject | null;
  /**
   * The variant this fetch will be: predicted at lookup from another variant's Vary, then the
   * response's own once its headers are in (Cache.setBusyVary). Lookups of other variants do
   * not wait for it.
   */
  vary: VarySpec | null = null;
  state: BusyState = 'busy';

  constructor(head: ObjectHead, stale: CacheObject | null) {
    this.head = head;
    this.stale = stale;
  }
}

const NO_BUSY: readonly BusySlot[] = Object.freeze([]);

export class ObjectHead {
  /** Its id in the object index. */
  readonly id: number;
  /** Fetches in progress; a shared empty list while there are none. */
  busy: readonly BusySlot[] = NO_BUSY;
  /** Requests on the waiting list. */
  waiting = 0;
  #rush: PromiseWithResolvers<void> | null = null;

  constructor(id: number) {
    this.id = id;
  }

  addBusy(fetch: BusySlot): void {
    this.busy = this.busy === NO_BUSY ? [fetch] : [...this.busy, fetch];
  }

  removeBusy(fetch: BusySlot): void {
    const rest = this.busy.filter((b) => b !== fetch);
    this.busy = rest.length === 0 ? NO_BUSY : rest;
  }

  /** Puts one request on the waiting list. */
  wait(): Promise<void> {
    this.waiting++;
    this.#rush ??= Promise.withResolvers<void>();
    return this.#rush.promise;
  }

  /** Wakes the whole waiting list; returns how many were woken. */
  rush(): number {
    const woken = this.waiting;
    const rush = this.#rush;
    this.waiting = 0;
    this.#rush = null;
    rush?.resolve();
    return woken;
  }

  /** Nothing busy, nobody waiting: the head needs this object no more. */
  get quiet(): boolean {
    return this.busy.length === 0 && this.waiting === 0;
  }
}
