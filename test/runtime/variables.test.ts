import { describe, expect, it } from 'vitest';
import { VclHttp } from '../../src/runtime/http.ts';
import { parseIp } from '../../src/common/ip.ts';
import { VclTask } from '../../src/runtime/task.ts';
import { acceptsGzip, HEADER_OBJECTS, STORAGE_FIELDS, VARIABLE_ACCESSORS } from '../../src/runtime/variables.ts';
import { HTTP_OBJECTS, VARIABLE_NAMES, VARIABLES } from '../../src/vcl/spec.ts';

const set = (name: string, t: VclTask, v: unknown) => VARIABLE_ACCESSORS[name].set?.(t, v as never);
const get = (name: string, t: VclTask) => VARIABLE_ACCESSORS[name].get?.(t);

describe('the accessor table', () => {
  it('covers every variable of the spec with what its scope masks promise', () => {
    for (const spec of VARIABLES) {
      const header = /^(\w+)\.http\.\*$/.exec(spec.name);
      if (header) {
        expect(HEADER_OBJECTS, spec.name).toHaveProperty(header[1]);
        continue;
      }
      if (spec.name.startsWith('storage.*.')) {
        expect(STORAGE_FIELDS[spec.name], spec.name).toBeDefined();
        continue;
      }
      const acc = VARIABLE_ACCESSORS[spec.name];
      expect(acc, spec.name).toBeDefined();
      if (spec.read) expect(acc.get, `${spec.name} get`).toBeTypeOf('function');
      if (spec.write) expect(acc.set, `${spec.name} set`).toBeTypeOf('function');
      if (spec.unset) expect(acc.unset, `${spec.name} unset`).toBeTypeOf('function');
    }
  });

  it('has no entry the spec does not know', () => {
    const names = new Set(VARIABLE_NAMES);
    for (const name of Object.keys(VARIABLE_ACCESSORS)) expect(names.has(name), name).toBe(true);
    for (const name of Object.keys(STORAGE_FIELDS)) expect(names.has(name), name).toBe(true);
    for (const obj of HTTP_OBJECTS) expect(names.has(`${obj}.http.*`), obj).toBe(true);
  });
});

describe('variable semantics', () => {
  it('sets a status with its range checks, resetting the reason', () => {
    const t = new VclTask('client');
    t.resp = VclHttp.response(200, 'OK');
    set('resp.status', t, 404);
    expect(t.resp.status).toBe(404);
    expect(t.resp.reason).toBe('Not Found');
    set('resp.status', t, 1404);
    expect(get('resp.status', t)).toBe(1404);
    expect(t.resp.reason).toBe('Not Found');
    expect(() => set('resp.status', t, 99)).toThrow('illegal resp.status (99) (..0##)');
    expect(() => set('resp.status', t, 70000)).toThrow('resp.status (70000) > 65535');
    expect(() => set('resp.status', t, -5)).toThrow('resp.status (-5) is negative');
    set('resp.status', t, 418);
    expect(t.resp.reason).toBe('Unknown HTTP Status');
  });

  it('refuses to set a first-line field empty or unset', () => {
    const t = new VclTask('client');
    t.req = VclHttp.request('GET', '/');
    expect(() => set('req.url', t, null)).toThrow('Setting req.url to empty string');
    expect(() => set('req.url', t, '')).toThrow('Setting req.url to empty string');
    set('req.url', t, '/x');
    expect(get('req.url', t)).toBe('/x');
    expect(() => set('req.method', t, 'GET\r\nX: y')).toThrow(/CR, LF/);
  });

  it('clamps negative TTLs to zero; req.ttl reads -1 until set', () => {
    const t = new VclTask('backend');
    set('beresp.ttl', t, -5);
    set('beresp.grace', t, -5);
    expect([get('beresp.ttl', t), get('beresp.grace', t)]).toEqual([0, 0]);
    const c = new VclTask('client');
    expect(get('req.ttl', c)).toBe(-1);
    set('req.ttl', c, -3);
    expect(get('req.ttl', c)).toBe(0);
  });

  it('keeps beresp.uncacheable once set', () => {
    const t = new VclTask('backend');
    set('beresp.uncacheable', t, true);
    set('beresp.uncacheable', t, false);
    expect(get('beresp.uncacheable', t)).toBe(true);
  });

  it('reads obj.ttl and obj.age against now', () => {
    const t = new VclTask('client');
    t.now = 1000;
    t.objInfo = { hits: 2, origin: 990, ttl: 120, grace: 10, keep: 0, uncacheable: false, canEsi: false, storage: null };
    expect(get('obj.ttl', t)).toBe(110);
    expect(get('obj.age', t)).toBe(10);
    expect(get('obj.hits', t)).toBe(2);
  });

  it('defaults client.identity to the client address', () => {
    const t = new VclTask('client');
    t.clientIp = parseIp('192.0.2.7:1234');
    expect(get('client.identity', t)).toBe('192.0.2.7');
    set('client.identity', t, 'joe');
    expect(get('client.identity', t)).toBe('joe');
  });

  it('reads req.can_gzip as Varnish does', () => {
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('deflate, GZIP')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('gzip; q=0.5')).toBe(true);
    expect(acceptsGzip('x-gzip')).toBe(true);
    expect(acceptsGzip('br')).toBe(false);
    expect(acceptsGzip(null)).toBe(false);
  });

  it('hashes as Varnish does: strands, a 0 byte for unset ones, a 0 byte after each call', () => {
    const t = new VclTask('client');
    const hex = () => Buffer.from(t.hashDigest()).toString('hex');
    t.hashPart('a');
    t.hashPart(null);
    // Varnish 7.1: hash_data("a") gives this req.hash.
    expect(hex()).toBe('ffe9aaeaa2a2d5048174df0b80599ef0197ec024c4b051bc9860cff58ef7f9f3');
    t.resetHash();
    t.hashPart(null);
    t.hashPart(null);
    // hash_data(req.http.unset)
    expect(hex()).toBe('96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7');
  });
});

describe('the hash key', () => {
  it('is the digest as one latin1 character per byte, and follows a digest set from outside', () => {
    const t = new VclTask('client');
    t.hashPart('a');
    t.hashPart(null);
    expect(Buffer.from(t.hashKey(), 'latin1').toString('hex')).toBe('ffe9aaeaa2a2d5048174df0b80599ef0197ec024c4b051bc9860cff58ef7f9f3');
    const b = new VclTask('backend');
    b.setHashDigest(t.hashDigest());
    expect(b.hashKey()).toBe(t.hashKey());
    expect(b.hashDigest()).toEqual(t.hashDigest());
  });
});
