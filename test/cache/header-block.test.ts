// The stored header block (src/cache/header-block.ts): what goes in comes back, the bytes are
// the wire form the delivery can write, and an object in a bounded storage decodes obj.http
// from its block when asked, however many objects pushed its decoded head out of the ring.

import { describe, expect, it } from 'vitest';
import { Cache, keyOfText } from '../../src/cache/index.ts';
import {
  DecodedHeads,
  decodeHeaderBlock,
  encodeHeaderBlock,
  hasAcceptRanges,
  hasDate,
  LINES_UNKNOWN,
  leanBytes,
  lineCount,
  ownReason,
  reasonOf,
  storedStatus,
} from '../../src/cache/header-block.ts';
import { VclHttp } from '../../src/runtime/http.ts';

function response(): VclHttp {
  const http = VclHttp.response(203, 'Non-Authoritative Information');
  http.append('Content-Type', 'text/html; charset=utf-8');
  http.append('Set-Cookie', 'a=1');
  http.append('Set-Cookie', 'b=2');
  http.append('X-Empty', '');
  http.append('X-Spaces', '  padded  ');
  http.append('X-Colon', 'a: b: c');
  http.append('X-Latin1', 'caf\u00e9');
  // VCL strings are byte strings: a UTF-8 character is its bytes, one character each.
  http.append('X-Unicode', Buffer.from('\u263a').toString('latin1'));
  return http;
}

describe('header blocks', () => {
  it('are the wire form, and decode to the same status, reason, names, values and order', () => {
    const http = response();
    const { block } = encodeHeaderBlock(http);
    expect(block.toString('latin1').startsWith('HTTP/1.1 203 Non-Authoritative Information\r\nContent-Type: text/html; charset=utf-8\r\n')).toBe(true);
    const back = decodeHeaderBlock(block);
    expect([back.proto, back.status, back.reason]).toEqual(['HTTP/1.1', 203, 'Non-Authoritative Information']);
    expect([...back]).toEqual([...http]);
    expect(back.getAll('set-cookie')).toEqual(['a=1', 'b=2']);
  });

  it('keep the lines a hit replaces last, and say how many first bytes a hit writes as they are', () => {
    const http = VclHttp.response(200, 'OK');
    http.append('Age', '10');
    http.append('Content-Length', '5');
    http.append('Date', 'Mon, 07 Dec 2026 22:00:00 GMT');
    http.append('X-Varnish', '12');
    http.append('Accept-Ranges', 'bytes');
    const { block, facts } = encodeHeaderBlock(http);
    const text = block.toString('latin1');
    const lean = 'HTTP/1.1 200 OK\r\nDate: Mon, 07 Dec 2026 22:00:00 GMT\r\nAccept-Ranges: bytes\r\n';
    expect(text).toBe(`${lean}Age: 10\r\nContent-Length: 5\r\nX-Varnish: 12\r\n`);
    expect(leanBytes(facts)).toBe(lean.length);
    expect([hasDate(facts), hasAcceptRanges(facts), ownReason(facts), lineCount(facts), storedStatus(facts)]).toEqual([true, true, true, 5, 200]);
    // Decoded, the same lines by name (only the replaced ones moved, their order kept).
    expect(decodeHeaderBlock(block).get('content-length')).toBe('5');
  });

  it('are not written as they are when the writer must look at them', () => {
    const facts = (status: number, reason: string, proto = 'HTTP/1.1', line?: [string, string]) => {
      const http = VclHttp.response(status, reason, proto);
      if (line !== undefined) http.append(...line);
      return encodeHeaderBlock(http).facts;
    };
    expect(leanBytes(facts(200, 'OK'))).toBe('HTTP/1.1 200 OK\r\n'.length);
    expect(leanBytes(facts(200, 'OK', 'HTTP/1.0'))).toBe(0);
    expect(leanBytes(facts(200, ''))).toBe(0);
    expect(leanBytes(facts(1200, 'OK'))).toBe(0);
    expect(leanBytes(facts(200, 'OK', 'HTTP/1.1', ['Connection', 'close']))).toBe(0);
    expect([ownReason(facts(200, 'Fine')), hasDate(facts(200, 'OK')), storedStatus(facts(1200, 'OK'))]).toEqual([false, false, 1200]);
    const many = VclHttp.response(200, 'OK');
    for (let i = 0; i < 1100; i++) many.append(`X-${i}`, 'v');
    expect(lineCount(encodeHeaderBlock(many).facts)).toBe(LINES_UNKNOWN);
  });

  it('give the reason of the status line as decoding does, without decoding', () => {
    for (const text of ['HTTP/1.1 200 Fine\r\nX: y\r\n', 'HTTP/1.1 203 Non-Authoritative Information\r\n', 'HTTP/1.0 404\r\nX: a b\r\n', 'HTTP/1.1 200 \r\n', '', 'HTTP/1.1\r\nX: a b\r\n']) {
      const block = Buffer.from(text, 'latin1');
      expect(reasonOf(block)).toBe(decodeHeaderBlock(block).reason);
    }
  });

  it('decode a status line without a reason, and a block of nothing, without throwing', () => {
    const bare = decodeHeaderBlock(Buffer.from('HTTP/1.0 404\r\nX: y\r\n'));
    expect([bare.proto, bare.status, bare.reason, bare.get('x')]).toEqual(['HTTP/1.0', 404, '', 'y']);
    const none = decodeHeaderBlock(Buffer.alloc(0));
    expect([none.status, none.count]).toEqual([0, 0]);
  });

  it('a ring tells the holder it pushes out, and forgets one that leaves', () => {
    const dropped: number[] = [];
    const ring = new DecodedHeads(2);
    const holders = [0, 1, 2, 3].map((i) => ({ dropDecoded: () => dropped.push(i) }));
    const slot0 = ring.remember(holders[0]);
    ring.remember(holders[1]);
    ring.forget(holders[0], slot0);
    ring.remember(holders[2]);
    ring.remember(holders[3]);
    expect(dropped).toEqual([1]);
  });
});

describe('obj.http of a stored object', () => {
  it('is decoded from the stored block once its decoded head was pushed out', () => {
    const cache = new Cache({ maxBytes: 16 * 1024 * 1024 });
    const now = Date.now() / 1000;
    const req = { url: '/', get: () => null };
    const commit = (i: number, http: VclHttp) => {
      const r = cache.lookup(keyOfText(`/h/${i}`), req, now);
      if (r.kind !== 'miss') throw new Error(r.kind);
      const obj = cache.commit(r.fetch, { xid: i, http, origin: now, ttl: 60, grace: 0, keep: 0 }, now);
      obj.append(Buffer.from(`body ${i}`));
      obj.finish();
      return obj;
    };
    const first = commit(0, response());
    const decoded = first.http;
    // Enough objects decoded after it to take every slot of the ring.
    for (let i = 1; i <= 1100; i++) expect(commit(i, VclHttp.response(200, 'OK')).http.status).toBe(200);
    const again = first.http;
    expect(again).not.toBe(decoded);
    expect([...again]).toEqual([...response()]);
    expect(first.headerBlock().equals(encodeHeaderBlock(response()).block)).toBe(true);
    expect(first.chunk(0).toString()).toBe('body 0');
  });
});
