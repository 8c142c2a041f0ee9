// The parameters the cache reads, with Varnish 7.1's defaults. The mgmt side owns the parameter
// table (names, bounds, docs, `-p`); it hands the current values in, and may change them on a
// running cache: every read goes through this object.

export interface CacheParams {
  /** Seconds of ttl when the response says nothing (beresp.ttl). */
  default_ttl: number;
  /** Seconds of grace given to every object unless stale-while-revalidate or VCL says otherwise. */
  default_grace: number;
  /** Seconds an expired object is kept for conditional revalidation. */
  default_keep: number;
  /** How far apart (seconds) backend Date and our clock may be before Expires is read relative to Date. */
  clock_skew: number;
  /** A hit moves an object up the LRU list at most once in this many seconds. */
  lru_interval: number;
  /** Bans younger than this (seconds) are left to lookups; the lurker waits for them to age. */
  ban_lurker_age: number;
  /** The lurker pauses this long (seconds) after each batch; 0 turns the lurker off. */
  ban_lurker_sleep: number;
  /** Objects the lurker examines between pauses. */
  ban_lurker_batch: number;
  /** Whether adding a ban completes older identical ones. */
  ban_dups: boolean;
  /** Objects one fetch may evict to make room for itself before it fails. */
  nuke_limit: number;
  /** Bytes per storage allocation: a body chunk counts one per this many bytes (SMA c_req). */
  fetch_chunksize: number;
}

export function defaultCacheParams(): CacheParams {
  return {
    default_ttl: 120,
    default_grace: 10,
    default_keep: 0,
    clock_skew: 10,
    lru_interval: 2,
    ban_lurker_age: 60,
    ban_lurker_sleep: 0.01,
    ban_lurker_batch: 1000,
    ban_dups: true,
    nuke_limit: 50,
    fetch_chunksize: 16 * 1024,
  };
}
