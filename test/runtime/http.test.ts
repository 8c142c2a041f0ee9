import { describe, expect, it } from 'vitest';
import { VclRuntimeError } from '../../src/runtime/errors.ts';
import { VclHttp } from '../../src/runtime/http.ts';

function sample(): VclHttp {
  const http = VclHttp.request('GET', '/index.html');
  http.appendRaw(['X', 'one', 'x-foo', 'a', 'x', 'two', 'X-FOO', 'b', 'Host', 'example.com']);
  return http;
}

describe('VclHttp first line', () => {
  it('holds a request line', () => {
    const req = VclHttp.request('POST', '/a?b', 'HTTP/1.0');
    expect([req.method, req.url, req.proto]).toEqual(['POST', '/a?b', 'HTTP/1.0']);
    expect(VclHttp.request('GET', '/').proto).toBe('HTTP/1.1');
  });

  it('holds a status line', () => {
    const resp = VclHttp.response(404, 'Not Found');
    expect([resp.proto, resp.status, resp.reason]).toEqual(['HTTP/1.1', 404, 'Not Found']);
    resp.status = 200;
    resp.reason = 'OK';
    expect([resp.status, resp.reason]).toEqual([200, 'OK']);
  });

  it('refuses CR, LF and NUL in first-line fields', () => {
    const req = VclHttp.request('GET', '/');
    expect(() => {
      req.url = '/a\r\nX-Injected: 1';
    }).toThrow(new VclRuntimeError('Bad url: contains CR, LF or NUL'));
    expect(req.url).toBe('/');
    expect(() => {
      req.method = 'GE\0T';
    }).toThrow('Bad method: contains CR, LF or NUL');
    const resp = VclHttp.response(200, 'OK');
    expect(() => {
      resp.reason = 'O\nK';
    }).toThrow('Bad reason: contains CR, LF or NUL');
    expect(() => {
      resp.proto = 'HTTP/1.1\r';
    }).toThrow('Bad proto: contains CR, LF or NUL');
  });
});

describe('VclHttp headers', () => {
  it('reads the first occurrence, whatever the case of the name', () => {
    const http = sample();
    expect(http.get('x')).toBe('one');
    expect(http.get('X-Foo')).toBe('a');
    expect(http.get('HOST')).toBe('example.com');
    expect(http.get('missing')).toBeNull();
    expect(http.has('x-FOO')).toBe(true);
    expect(http.has('missing')).toBe(false);
    expect(http.getAll('x-foo')).toEqual(['a', 'b']);
  });

  it('tells an empty header from a missing one', () => {
    const http = VclHttp.request('GET', '/');
    http.append('Empty', '');
    expect(http.get('empty')).toBe('');
    expect(http.get('missing')).toBeNull();
  });

  it('set replaces every occurrence with one at the end, spelled as given', () => {
    const http = sample();
    http.set('X-Foo', 'n');
    expect(http.toRaw()).toEqual(['X', 'one', 'x', 'two', 'Host', 'example.com', 'X-Foo', 'n']);
    http.set('host', 'other');
    expect(http.toRaw()).toEqual(['X', 'one', 'x', 'two', 'X-Foo', 'n', 'host', 'other']);
  });

  it('set of a new name appends it', () => {
    const http = VclHttp.response(200, 'OK');
    http.set('order1', '1');
    http.set('order2', '2');
    http.set('order1', '1b');
    expect(http.toRaw()).toEqual(['order2', '2', 'order1', '1b']);
  });

  it('unset removes every occurrence', () => {
    const http = sample();
    http.unset('X');
    expect(http.toRaw()).toEqual(['x-foo', 'a', 'X-FOO', 'b', 'Host', 'example.com']);
    http.unset('missing');
    expect(http.count).toBe(3);
  });

  it('append keeps earlier occurrences', () => {
    const http = VclHttp.response(200, 'OK');
    http.append('Vary', 'a');
    http.append('vary', 'b');
    expect(http.getAll('VARY')).toEqual(['a', 'b']);
    expect(http.get('vary')).toBe('a');
  });

  it('collect joins repeated headers into the first one, where it stood', () => {
    const http = VclHttp.response(200, 'OK');
    http.appendRaw(['W', '1', 'Y', 'y', 'w', '2', 'Z', 'z', 'W', '3']);
    http.collect('w');
    expect(http.toRaw()).toEqual(['W', '1, 2, 3', 'Y', 'y', 'Z', 'z']);
    http.appendRaw(['Y', 'y2']);
    http.collect('Y', ';');
    expect(http.toRaw()).toEqual(['W', '1, 2, 3', 'Y', 'y;y2', 'Z', 'z']);
    http.collect('missing');
    http.collect('Z');
    expect(http.count).toBe(3);
  });

  it('refuses CR, LF and NUL in values, storing nothing', () => {
    const http = sample();
    expect(() => http.set('nl', 'a\nb')).toThrow(new VclRuntimeError('Bad header nl: value contains CR, LF or NUL'));
    expect(() => http.append('cr', 'a\rb')).toThrow(VclRuntimeError);
    expect(() => http.set('x', 'a\0b')).toThrow(VclRuntimeError);
    expect(() => http.appendRaw(['Bad', 'x\r\ny'])).toThrow('Bad header Bad: value contains CR, LF or NUL');
    expect(http.toRaw()).toEqual(sample().toRaw());
  });

  it('refuses names that are not tokens', () => {
    const http = VclHttp.request('GET', '/');
    expect(() => http.set('a b', 'v')).toThrow(new VclRuntimeError('Bad header name: "a b"'));
    expect(() => http.append('', 'v')).toThrow('Bad header name: ""');
    expect(() => http.set('x:y', 'v')).toThrow('Bad header name: "x:y"');
    expect(http.count).toBe(0);
  });

  it('iterates in order', () => {
    const http = sample();
    expect([...http]).toEqual([
      ['X', 'one'],
      ['x-foo', 'a'],
      ['x', 'two'],
      ['X-FOO', 'b'],
      ['Host', 'example.com'],
    ]);
    expect([http.nameAt(1), http.valueAt(1)]).toEqual(['x-foo', 'a']);
  });

  it('clears', () => {
    const http = sample();
    http.clear();
    expect(http.count).toBe(0);
    expect(http.get('x')).toBeNull();
  });

  it('clones without sharing', () => {
    const req = sample();
    const bereq = req.clone();
    bereq.set('X', 'changed');
    bereq.url = '/other';
    expect(req.get('x')).toBe('one');
    expect(req.url).toBe('/index.html');
    expect(bereq.get('x')).toBe('changed');
    expect(bereq.method).toBe('GET');
    const resp = VclHttp.response(301, 'Moved').clone();
    expect([resp.status, resp.reason]).toEqual([301, 'Moved']);
  });

  it('reads a typical request header in tens of nanoseconds', () => {
    const http = VclHttp.request('GET', '/');
    const names = ['Host', 'User-Agent', 'Accept', 'Accept-Encoding', 'Accept-Language', 'Cookie'];
    for (const n of [...names, 'X-Forwarded-For', 'Connection', 'Cache-Control', 'Referer']) http.append(n, 'v');
    const rounds = 500_000;
    let found = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) if (http.get(i & 1 ? 'referer' : 'x-missing') !== null) found++;
    const ns = Number(process.hrtime.bigint() - start) / rounds;
    expect(found).toBe(rounds / 2);
    expect(ns).toBeLessThan(300);
  });
});

describe('VclHttp sharing its lines (requestSharing)', () => {
  const shared = (): { names: string[]; lower: string[]; values: string[] } => ({ names: ['Host', 'Accept', 'X-A'], lower: ['host', 'accept', 'x-a'], values: ['h', '*/*', '1'] });

  it('reads the shared lines, and changes only its own copy', () => {
    const lines = shared();
    const a = VclHttp.requestSharing('GET', '/', 'HTTP/1.1', lines.names, lines.lower, lines.values);
    const b = VclHttp.requestSharing('GET', '/', 'HTTP/1.1', lines.names, lines.lower, lines.values);
    expect(a.get('accept')).toBe('*/*');
    a.set('Accept', 'text/html');
    a.unset('X-A');
    a.append('X-New', 'n');
    b.collect('host');
    expect([...a]).toEqual([
      ['Host', 'h'],
      ['Accept', 'text/html'],
      ['X-New', 'n'],
    ]);
    expect([...b]).toEqual([
      ['Host', 'h'],
      ['Accept', '*/*'],
      ['X-A', '1'],
    ]);
    expect(lines).toEqual(shared());
  });

  it('leaves the shared lines alone through every change', () => {
    const changes: ((h: VclHttp) => void)[] = [
      (h) => h.setKnown('Host', 'host', 'other'),
      (h) => h.setTrusted('X-A', 'x-a', '2'),
      (h) => h.appendTrusted('X-B', 'x-b', '3'),
      (h) => h.unset('host'),
      (h) => h.clear(),
      (h) => {
        h.append('X-A', '9');
        h.collect('x-a');
      },
    ];
    for (const change of changes) {
      const lines = shared();
      const h = VclHttp.requestSharing('GET', '/', 'HTTP/1.1', lines.names, lines.lower, lines.values);
      change(h);
      expect(lines).toEqual(shared());
    }
  });
});
