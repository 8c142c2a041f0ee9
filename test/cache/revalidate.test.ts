// Revalidation helpers, against what Varnish 7.1 sent and built in a varnishtest run: a 200
// "Fine" with ETag "v1", X-Old and X-Both, then a 304 "NotMod" with X-Both: new, X-New and
// Cache-Control gave beresp "200 Fine" with the 304's headers first, then ETag and X-Old.
import { describe, expect, it } from 'vitest';
import { CacheObject } from '../../src/cache/object.ts';
import { mergeNotModified, validatorsOf } from '../../src/cache/revalidate.ts';
import { VclHttp } from '../../src/runtime/http.ts';
import { resp } from './helpers.ts';

function stored(http: VclHttp, body: string[] | undefined, kind: 'normal' | 'hit_for_miss' = 'normal'): CacheObject {
  return new CacheObject({ xid: 1, http, origin: 0, ttl: 1, grace: 0, keep: 10, kind, body: body?.map((b) => Buffer.from(b)) });
}

describe('validatorsOf', () => {
  it('sends the ETag and Last-Modified of a revalidatable object', () => {
    const obj = stored(resp(200, 'ETag: "v1"', 'Last-Modified: Thu, 01 Jan 2015 00:00:00 GMT'), ['x']);
    expect(validatorsOf(obj)).toEqual({ ifNoneMatch: '"v1"', ifModifiedSince: 'Thu, 01 Jan 2015 00:00:00 GMT' });
    expect(validatorsOf(stored(resp(200, 'ETag: "v1"'), undefined))).toEqual({ ifNoneMatch: '"v1"', ifModifiedSince: null });
  });

  it('does not revalidate what Varnish would not', () => {
    expect(validatorsOf(null)).toBeNull();
    expect(validatorsOf(stored(resp(200), ['x']))).toBeNull();
    expect(validatorsOf(stored(resp(404, 'ETag: "v1"'), ['x']))).toBeNull();
    expect(validatorsOf(stored(resp(200, 'ETag: "v1"'), ['x'], 'hit_for_miss'))).toBeNull();
    expect(validatorsOf(stored(resp(200, 'ETag: "v1"'), []))).toBeNull();
  });
});

describe('mergeNotModified', () => {
  it('builds beresp as Varnish does', () => {
    const http = VclHttp.response(200, 'Fine');
    http.appendRaw(['ETag', '"v1"', 'X-Old', '1', 'X-Both', 'old', 'Cache-Control', 'max-age=1']);
    const stale = stored(http, ['body1']);
    const notModified = VclHttp.response(304, 'NotMod');
    notModified.appendRaw(['X-Both', 'new', 'X-New', '2', 'Cache-Control', 'max-age=100']);
    const merged = mergeNotModified(stale, notModified);
    expect([merged.status, merged.reason]).toEqual([200, 'Fine']);
    expect(merged.toRaw()).toEqual(['X-Both', 'new', 'X-New', '2', 'Cache-Control', 'max-age=100', 'ETag', '"v1"', 'X-Old', '1']);
  });
});
