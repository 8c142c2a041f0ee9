// Revalidating a kept object: the validators a refetch sends, and the response a 304 turns
// into. As Varnish 7.1 does it (checked with varnishtest):
// - only a revalidatable object (a normal 200 with Last-Modified or ETag) whose body is not
//   empty, or still arriving, is revalidated; the refetch carries If-Modified-Since with its
//   Last-Modified and If-None-Match with its ETag;
// - on 304, beresp takes the stale object's status line (200 and its reason), the 304's
//   headers in their order (all of them, duplicates too, and its ETag; its Content-Encoding and
//   Content-Length go, as they describe no body), then the stale object's headers of every
//   name the 304 did not have; the TTL rules then run on that merged response; the body is the
//   stale object's (beresp.was_304). A 304 without Date got one when it arrived, before this.

import { VclHttp } from '../runtime/http.ts';
import type { CacheObject } from './object.ts';

export interface Validators {
  readonly ifModifiedSince: string | null;
  readonly ifNoneMatch: string | null;
}

/** What a refetch of `stale` sends to be answered 304, or null when it should not try. */
export function validatorsOf(stale: CacheObject | null): Validators | null {
  if (stale === null || !stale.revalidatable) return null;
  if (stale.bodyBytes === 0 && stale.state !== 'streaming') return null;
  return { ifModifiedSince: stale.http.get('Last-Modified'), ifNoneMatch: stale.http.get('ETag') };
}

/** beresp after a 304 for `stale`: see the header of this file. */
export function mergeNotModified(stale: CacheObject, notModified: VclHttp): VclHttp {
  const merged = VclHttp.response(stale.http.status, stale.http.reason, stale.http.proto);
  const names = new Set<string>();
  for (let i = 0; i < notModified.count; i++) {
    const name = notModified.nameAt(i);
    const lower = name.toLowerCase();
    if (lower === 'content-encoding' || lower === 'content-length') continue;
    names.add(lower);
    merged.append(name, notModified.valueAt(i));
  }
  for (let i = 0; i < stale.http.count; i++) {
    const name = stale.http.nameAt(i);
    if (!names.has(name.toLowerCase())) merged.append(name, stale.http.valueAt(i));
  }
  return merged;
}
