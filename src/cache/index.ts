// The cache's public surface: what the proxy's state machines, the VCL runtime and mgmt use.

export { Ban, BanList, type BanListEntry } from './ban-list.ts';
export { BanLurker } from './ban-lurker.ts';
export { type BanParse, type BanSpec, parseBanArgs, parseBanString, renderDuration } from './ban-spec.ts';
export { CACHE_COUNTERS, type CacheCounterName, type CacheCounters, newCacheCounters } from './counters.ts';
export { digestKey, keyOfText } from './digest.ts';
export { hasAcceptRanges, hasDate, type HeadFacts, leanBytes, LINES_UNKNOWN, lineCount, ownReason, storedStatus } from './header-block.ts';
export { type BodyState, CacheObject, type ObjectInit, type ObjectKind, type ObjectStorage, OBJECT_OVERHEAD, PRIVATE_BUFFER_BYTES } from './object.ts';
export { type AllocFailure, Stevedore, type StorageSpec } from './stevedore.ts';
export { BusySlot } from './objhead.ts';
export { ObjectEvents, type ObjectListener } from './object-events.ts';
export { type CacheParams, defaultCacheParams } from './params.ts';
export {
  Cache,
  type CacheOptions,
  DEFAULT_CACHE_BYTES,
  type LookupOptions,
  type LookupResult,
  type SoftPurge,
  type StorageStats,
} from './store.ts';
export { mergeNotModified, type Validators, validatorsOf } from './revalidate.ts';
export { rfcTtl, type TtlResult } from './ttl.ts';
export type { HeaderReader, RequestView, ResponseHeaders } from './types.ts';
export { buildVary, type VaryResult, type VarySpec, varyMatches } from './vary.ts';
