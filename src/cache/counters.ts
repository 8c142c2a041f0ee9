// The cache's counters, named as Varnish names them (MAIN.*), declared once with their docs.
// The cache and its ban list bump fields of one plain object; the mgmt side reads that object
// (and the table below for the descriptions) without reaching into the cache.
// cache_hit, cache_miss and cache_hit_grace are the proxy's to count: whether a lookup ends in a
// delivered hit depends on vcl_hit. cache_hitpass and cache_hitmiss are decided here, by lookup.

export const CACHE_COUNTERS = [
  { name: 'n_object', gauge: true, doc: 'Objects in the cache (hit-for-miss and hit-for-pass ones included)' },
  { name: 'n_objecthead', gauge: true, doc: 'Object heads: distinct hash keys with objects, fetches or waiters' },
  { name: 'n_expired', gauge: false, doc: 'Objects removed because their ttl + grace + keep ran out' },
  { name: 'n_lru_nuked', gauge: false, doc: 'Objects evicted, least recently used first, to make room' },
  { name: 'n_purges', gauge: false, doc: 'Purge operations (return (purge), purge.hard(), purge.soft())' },
  { name: 'n_obj_purged', gauge: false, doc: 'Objects purged' },
  { name: 'busy_sleep', gauge: false, doc: 'Requests put on a waiting list behind a fetch of the same object' },
  { name: 'busy_wakeup', gauge: false, doc: 'Requests woken from a waiting list' },
  { name: 'cache_hitpass', gauge: false, doc: 'Lookups that found a hit-for-pass object' },
  { name: 'cache_hitmiss', gauge: false, doc: 'Lookups that found a hit-for-miss object' },
  { name: 'bans', gauge: true, doc: 'Bans in the ban list, completed ones included' },
  { name: 'bans_completed', gauge: true, doc: 'Bans in the list that need no more testing' },
  { name: 'bans_obj', gauge: true, doc: 'Bans in the list that use only obj.* fields' },
  { name: 'bans_req', gauge: true, doc: 'Bans in the list that use req.* fields' },
  { name: 'bans_added', gauge: false, doc: 'Bans added' },
  { name: 'bans_deleted', gauge: false, doc: 'Bans removed from the tail of the list' },
  { name: 'bans_dups', gauge: false, doc: 'Bans made redundant by a newer identical ban' },
  { name: 'bans_tested', gauge: false, doc: 'Ban and object pairs tested at lookup' },
  { name: 'bans_tests_tested', gauge: false, doc: 'Ban conditions tested against objects at lookup' },
  { name: 'bans_obj_killed', gauge: false, doc: 'Objects killed by bans at lookup' },
  { name: 'bans_lurker_tested', gauge: false, doc: 'Ban and object pairs tested by the ban lurker' },
  { name: 'bans_lurker_tests_tested', gauge: false, doc: 'Ban conditions tested against objects by the ban lurker' },
  { name: 'bans_lurker_obj_killed', gauge: false, doc: 'Objects killed by the ban lurker' },
] as const;

export type CacheCounterName = (typeof CACHE_COUNTERS)[number]['name'];

/** The live values: one number per counter, bumped in place. */
export type CacheCounters = Record<CacheCounterName, number>;

export function newCacheCounters(): CacheCounters {
  const counters = {} as CacheCounters;
  for (const c of CACHE_COUNTERS) counters[c.name] = 0;
  return counters;
}
