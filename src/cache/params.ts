// The parameters the cache reads. Their names, defaults and bounds are the parameter table's
// (src/common/param-table.ts); the server hands its live values in, and may change them on a
// running cache: every read goes through this object.

import { Params } from '../common/params.ts';

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

/** The defaults of the parameter table (src/common/param-table.ts), for a cache made without a parameter set. */
export function defaultCacheParams(): CacheParams {
  return new Params().values;
}
