// The models of `shellac top` and `shellac hist`: which lines of a record top counts, how its
// ranking orders, decays and forgets, where hist puts a value and how it draws the picture.

import { describe, expect, it } from 'vitest';
import { HIST_N, HIST_PROFILES, Histogram, histProfile, ProfileError } from '../../src/mgmt/hist.ts';
import type { TxRecord } from '../../src/common/log.ts';
import { TX_TAGS } from '../../src/mgmt/log-text.ts';
import { formatTopLine, type TopSelection, TopRanking, topLines } from '../../src/mgmt/top.ts';

function record(over: Partial<TxRecord> = {}): TxRecord {
  return {
    side: 'client',
    vxid: 1,
    start: 1_700_000_000,
    calls: [
      { sub: 'recv', ret: 'hash' },
      { sub: 'hit', ret: 'deliver' },
    ],
    logs: ['tenant: acme'],
    errors: [],
    timings: { Start: 0, Resp: 0.0003 },
    bytes: { reqHdr: 0, reqBody: 0, respHdr: 0, respBody: 512 },
    req: { method: 'GET', url: '/a', proto: 'HTTP/1.1', headers: [['Host', 'shop.example']] },
    resp: { status: 200, reason: 'OK', proto: 'HTTP/1.1', headers: [] },
    handling: 'hit',
    ...over,
  };
}

const ALL: TopSelection = { tags: new Set(), include: [], firstField: false };

describe('top: the lines it counts', () => {
  it('takes every tagged line but Begin and End, or the -i tags only', () => {
    const lines = topLines(record(), ALL);
    expect(lines).toContainEqual(['ReqURL', '/a']);
    expect(lines).toContainEqual(['ReqHeader', 'Host: shop.example']);
    expect(lines).toContainEqual(['VCL_call', 'HIT']);
    expect(lines).toContainEqual(['VCL_Log', 'tenant: acme']);
    expect(lines).toContainEqual(['RespStatus', '200']);
    expect(lines.some(([t]) => t === 'Begin' || t === 'End')).toBe(false);
    // Every tag a record writes is one -i accepts.
    const full = record({ client: { ip: '192.0.2.1', port: 5 }, vcl: 'boot', errors: ['oops'], backend: 'b' });
    const fetch = record({ side: 'backend', bereq: { method: 'GET', url: '/', headers: [['A', 'b']] }, beresp: { status: 200, reason: 'OK', headers: [] }, errors: ['bad'], backend: 'b', backendOpen: { fd: 24, remoteAddress: '192.0.2.9', remotePort: 8080, localAddress: '192.0.2.1', localPort: 5000, how: 'reuse' } });
    const tags = [...topLines(full, ALL), ...topLines(fetch, ALL)].map(([t]) => t);
    expect(tags.filter((t) => !TX_TAGS.includes(t))).toEqual([]);
    expect(new Set(tags).size).toBeGreaterThan(20);
    expect(topLines(fetch, { ...ALL, tags: new Set(['BackendOpen']) })).toEqual([['BackendOpen', '24 b 192.0.2.9 8080 192.0.2.1 5000 reuse']]);
    expect(topLines(record(), { ...ALL, tags: new Set(['ReqURL', 'RespStatus']) })).toEqual([
      ['ReqURL', '/a'],
      ['RespStatus', '200'],
    ]);
  });

  it('filters by -I regex (for one tag or any), keeps the first field with -f, and one side with -c/-b', () => {
    expect(topLines(record(), { ...ALL, include: [{ tag: 'ReqHeader', re: /^Host/ }] })).toEqual([['ReqHeader', 'Host: shop.example']]);
    expect(topLines(record(), { ...ALL, include: [{ re: /^\/a$/ }] })).toEqual([['ReqURL', '/a']]);
    expect(topLines(record(), { ...ALL, tags: new Set(['ReqHeader']), firstField: true })).toEqual([['ReqHeader', 'Host:']]);
    expect(topLines(record(), { ...ALL, side: 'backend' })).toEqual([]);
    const fetch = record({ side: 'backend', req: undefined, bereq: { method: 'GET', url: '/b', headers: [] } });
    expect(topLines(fetch, { ...ALL, side: 'backend', tags: new Set(['BereqURL']) })).toEqual([['BereqURL', '/b']]);
  });
});

describe('top: the ranking', () => {
  it('orders by count, then tag and text, and prints as varnishtop does', () => {
    const r = new TopRanking();
    for (const url of ['/b', '/a', '/b', '/c', '/b', '/a']) r.add('ReqURL', url);
    r.add('RespStatus', '200');
    const ranked = r.ranked();
    expect(ranked.map((e) => [e.text, e.count])).toEqual([
      ['/b', 3],
      ['/a', 2],
      ['/c', 1],
      ['200', 1],
    ]);
    expect(formatTopLine(ranked[0], 0)).toBe('     3.00 ReqURL /b');
    expect(formatTopLine(ranked[0], 14)).toBe('     3.00 ReqURL         /b');
  });

  it('decays counts toward 1/3 over the period and forgets entries far below the screen', () => {
    const r = new TopRanking(60);
    for (let i = 0; i < 30; i++) r.add('ReqURL', '/hot');
    r.add('ReqURL', '/cold');
    // The screen shows the counts as they were; the decay comes after.
    const shown = r.tick(10);
    expect(shown.map((e) => e.count)).toEqual([30, 1]);
    // First decay divides by 2 (varnishtop drew an empty screen at start): 30 → 15.17.
    expect(r.ranked()[0].count).toBeCloseTo((30 + 1 / 3) / 2, 5);
    // Without new records every count falls toward 1/3; /hot stays first.
    for (let i = 0; i < 20; i++) r.tick(10);
    const after = r.ranked();
    expect(after[0].text).toBe('/hot');
    expect(after[0].count).toBeLessThan(2);
    expect(after[0].count).toBeGreaterThan(1 / 3);

    // An entry under a tenth of the lowest count shown goes: with one row, /a's 100 is the
    // floor; /b decays to 25.2 and stays, /rare to 0.67 and goes.
    const s = new TopRanking(60);
    for (let i = 0; i < 100; i++) s.add('ReqURL', '/a');
    for (let i = 0; i < 50; i++) s.add('ReqURL', '/b');
    s.add('ReqURL', '/rare');
    s.tick(1);
    expect(s.ranked().map((e) => e.text)).toEqual(['/a', '/b']);
  });

  it('stays bounded: at most ten screens of entries survive a refresh', () => {
    const r = new TopRanking();
    for (let i = 0; i < 500; i++) r.add('ReqURL', `/u${i}`);
    r.tick(5);
    expect(r.size).toBe(50);
  });
});

describe('hist', () => {
  it('draws misses with # at the bottom and hits with | above them, on a log axis', () => {
    const h = new Histogram(HIST_PROFILES.responsetime);
    for (let i = 0; i < 6; i++) h.addValue(0.0005, true);
    for (let i = 0; i < 3; i++) h.addValue(0.0005, false);
    for (let i = 0; i < 4; i++) h.addValue(0.2, false);
    const lines = h.render(90, 20, 'responsetime');
    expect(lines).toHaveLength(20);
    expect(lines[0]).toMatch(/^1:1, n = 13 +responsetime$/);
    const axis = lines[18];
    const labels = lines[19];
    expect(axis).toBe(`+${'-'.repeat(9)}`.repeat(9));
    expect(labels.startsWith('|1e-6     |1e-5     |1e-4     |1e-3')).toBe(true);
    // 0.0005 s is in the decade from 1e-4 (columns 20-29): 3 misses then 6 hits.
    const col = 20 + Math.floor((Math.log10(0.0005) + 4) * 10);
    const column = lines.slice(1, 18).map((l) => l[col]).reverse().join('');
    expect(column.trimEnd()).toBe('###||||||');
    const far = 50 + Math.floor((Math.log10(0.2) + 1) * 10);
    expect(lines.slice(1, 18).map((l) => l[far]).reverse().join('').trimEnd()).toBe('####');
  });

  it('chooses the vertical scale from varnishhist list so the tallest column fits', () => {
    const h = new Histogram(HIST_PROFILES.responsetime);
    for (let i = 0; i < 100; i++) h.addValue(0.001, false);
    const lines = h.render(90, 23);
    // 20 rows for bars: 100 needs 1:5.
    expect(lines[0]).toMatch(/^1:5, n = 100/);
    expect(lines.slice(1, 21).filter((l) => l.includes('#'))).toHaveLength(20);
    // A y label every 5 rows, in requests: 25, 50, 75.
    expect([lines[15], lines[10], lines[5]].map((l) => l.slice(0, 3))).toEqual(['25_', '50_', '75_']);
  });

  it('keeps the last HIST_N values, puts values outside the range at its ends, and skips the other side', () => {
    const h = new Histogram(HIST_PROFILES.responsetime);
    for (let i = 0; i < HIST_N + 5; i++) h.addValue(i < 5 ? 1e-9 : 5000, false);
    expect(h.count).toBe(HIST_N);
    const lines = h.render(90, 10);
    // The five tiny values left the ring: nothing in the first column; everything in the last.
    expect(lines.slice(1, 8).every((l) => l[0] === ' ' || /\d|_/.test(l[0]))).toBe(true);
    expect(lines[7][89]).toBe('#');
    h.add(record({ side: 'backend' }));
    expect(h.count).toBe(HIST_N);
  });

  it('reads profiles by name and custom timestamp profiles, and refuses others', () => {
    expect(histProfile('Beresptime').side).toBe('backend');
    expect(histProfile('responsetime').value(record())).toBe(0.0003);
    expect(histProfile('size').value(record())).toBe(512);
    const custom = histProfile('b:Timestamp:Beresp:-4:1');
    expect(custom).toMatchObject({ side: 'backend', low: -4, high: 1 });
    expect(custom.value(record({ timings: { Beresp: 0.02 } }))).toBe(0.02);
    expect(() => histProfile('Nope')).toThrow(ProfileError);
    expect(() => histProfile('Timestamp:Resp:2:1')).toThrow(ProfileError);
  });
});
