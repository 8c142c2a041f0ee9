// The cache's counters, named as Varnish names them (MAIN.*). The cache and its ban list bump
// fields of one plain object; the mgmt side reads that object without reaching into the cache.
// What each counter means is said once, in src/mgmt/counter-table.ts.
// cache_hit, cache_miss and cache_hit_grace are the proxy's to count: whether a lookup ends in a
// delivered hit depends on vcl_hit. cache_hitpass and cache_hitmiss are decided here, by lookup.

export const CACHE_COUNTERS = [
  'n_object',
  'n_objectcore',
  'n_objecthead',
  'n_expired',
  'n_lru_nuked',
  'n_lru_moved',
  'n_lru_limited',
  'n_purges',
  'n_obj_purged',
  'busy_sleep',
  'busy_wakeup',
  'cache_hitpass',
  'cache_hitmiss',
  'bans',
  'bans_completed',
  'bans_obj',
  'bans_req',
  'bans_added',
  'bans_deleted',
  'bans_dups',
  'bans_tested',
  'bans_tests_tested',
  'bans_obj_killed',
  'bans_lurker_tested',
  'bans_lurker_tests_tested',
  'bans_lurker_obj_killed',
] as const;

export type CacheCounterName = (typeof CACHE_COUNTERS)[number];

/** The live values: one number per counter, bumped in place. */
export type CacheCounters = Record<CacheCounterName, number>;

export function newCacheCounters(): CacheCounters {
  const counters = {} as CacheCounters;
  for (const name of CACHE_COUNTERS) counters[name] = 0;
  return counters;
}
