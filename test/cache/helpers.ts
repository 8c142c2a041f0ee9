// Builders shared by the cache tests: real VclHttp messages from "Name: value" lines, and a
// committed object in one call.

import type { Cache } from '../../src/cache/store.ts';
import type { BusySlot } from '../../src/cache/objhead.ts';
import type { CacheObject, ObjectInit } from '../../src/cache/object.ts';
import { VclHttp } from '../../src/runtime/http.ts';

function addLines(http: VclHttp, lines: readonly string[]): VclHttp {
  for (const line of lines) {
    const colon = line.indexOf(':');
    http.append(line.slice(0, colon), line.slice(colon + 1).replace(/^[ \t]+/, ''));
  }
  return http;
}

export function req(url: string, ...lines: string[]): VclHttp {
  return addLines(VclHttp.request('GET', url), lines);
}

export function resp(status: number, ...lines: string[]): VclHttp {
  return addLines(VclHttp.response(status, status === 200 ? 'OK' : 'Status'), lines);
}

/** Commits a fetch with a complete body and the given expiry fields. */
export function commitBody(
  cache: Cache,
  fetch: BusySlot,
  now: number,
  body: string,
  fields: Partial<Omit<ObjectInit, 'body'>> = {},
): CacheObject {
  return cache.commit(
    fetch,
    {
      xid: fields.xid ?? 1001,
      http: fields.http ?? resp(200),
      origin: fields.origin ?? now,
      ttl: fields.ttl ?? 120,
      grace: fields.grace ?? 10,
      keep: fields.keep ?? 0,
      kind: fields.kind,
      vary: fields.vary,
      body: [Buffer.from(body)],
    },
    now,
  );
}

export function bodyText(obj: CacheObject): string {
  return Buffer.concat(obj.chunks).toString();
}
