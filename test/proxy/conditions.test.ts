// Conditions answered from the cache, as Varnish 7.1 answers them (c00025, c00100).

import { describe, expect, it } from 'vitest';
import { VclHttp } from '../../src/runtime/http.ts';
import { ifRangeAllows, notModified } from '../../src/proxy/conditions.ts';

function req(...headers: [string, string][]): VclHttp {
  const r = VclHttp.request('GET', '/');
  for (const [n, v] of headers) r.append(n, v);
  return r;
}

function resp(...headers: [string, string][]): VclHttp {
  const r = VclHttp.response(200, 'OK');
  for (const [n, v] of headers) r.append(n, v);
  return r;
}

/** notModified of a response at hand. */
const nm = (q: VclHttp, r: VclHttp): boolean => notModified(q, () => r);

describe('notModified', () => {
  it('asks for the response only when the request is conditional (a hit decodes no head for it)', () => {
    let asked = 0;
    const of = () => {
      asked++;
      return resp(['ETag', '"1"']);
    };
    expect(notModified(req(['Range', 'bytes=1-2']), of)).toBe(false);
    expect(asked).toBe(0);
    expect(notModified(req(['If-None-Match', '"1"']), of)).toBe(true);
    expect(asked).toBe(1);
  });

  const strong = resp(['ETag', '"123"']);
  const weak = resp(['ETag', 'W/"123"']);

  it('compares If-None-Match weakly without a Range', () => {
    expect(nm(req(['If-None-Match', 'W/"123"']), strong)).toBe(true);
    expect(nm(req(['If-None-Match', '"123"']), weak)).toBe(true);
    expect(nm(req(['If-None-Match', '"12", "123"']), strong)).toBe(true);
    expect(nm(req(['If-None-Match', '"12"']), strong)).toBe(false);
  });

  it('compares strongly with a Range, so a weak match serves the range', () => {
    const range: [string, string] = ['Range', 'bytes=1-2'];
    expect(nm(req(range, ['If-None-Match', '"123"']), strong)).toBe(true);
    expect(nm(req(range, ['If-None-Match', 'W/"123"']), strong)).toBe(false);
    expect(nm(req(range, ['If-None-Match', '"123"']), weak)).toBe(false);
  });

  it('lets If-None-Match win over If-Modified-Since', () => {
    const r = resp(['ETag', '"1"'], ['Last-Modified', 'Wed, 21 Oct 2015 07:28:00 GMT']);
    expect(nm(req(['If-None-Match', '"2"'], ['If-Modified-Since', 'Wed, 21 Oct 2015 07:28:00 GMT']), r)).toBe(false);
    expect(nm(req(['If-Modified-Since', 'Wed, 21 Oct 2015 07:28:00 GMT']), r)).toBe(true);
    expect(nm(req(['If-Modified-Since', 'Wed, 21 Oct 2015 07:27:59 GMT']), r)).toBe(false);
  });
});

describe('ifRangeAllows', () => {
  const r = resp(['ETag', '"foo"'], ['Last-Modified', 'Wed, 21 Oct 2015 07:28:00 GMT']);

  it('serves the range for an equal entity tag or an equal date only', () => {
    expect(ifRangeAllows(req(), r)).toBe(true);
    expect(ifRangeAllows(req(['If-Range', '"foo"']), r)).toBe(true);
    expect(ifRangeAllows(req(['If-Range', '"fooled"']), r)).toBe(false);
    expect(ifRangeAllows(req(['If-Range', 'Wed, 21 Oct 2015 07:28:00 GMT']), r)).toBe(true);
    expect(ifRangeAllows(req(['If-Range', 'Wed, 21 Oct 2015 07:18:00 GMT']), r)).toBe(false);
    expect(ifRangeAllows(req(['If-Range', 'Wed, 21 Oct 2015 07:38:00 GMT']), r)).toBe(false);
  });

  it('does not serve it when the object has no validator of that kind', () => {
    expect(ifRangeAllows(req(['If-Range', '"foo"']), resp())).toBe(false);
    expect(ifRangeAllows(req(['If-Range', 'Wed, 21 Oct 2015 07:28:00 GMT']), resp())).toBe(false);
  });
});
