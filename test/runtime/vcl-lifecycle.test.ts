// The life of a loaded VCL: VMOD events in Varnish's order (LOAD and WARM in import order, COLD
// and DISCARD reversed), rollback when a step fails, vcl_init / vcl_fini, object destructors,
// PRIV frees, temperature, references held by VMODs, and what backends are told.

import { beforeEach, describe, expect, it } from 'vitest';
import { type BackendFactory, MemoryBackend } from '../../src/runtime/backends.ts';
import { resetTestVmodState, type TestVmodState } from '../fixtures/vmods/state.ts';
import { clientTask, load, run } from './vcl-harness.ts';

let state: TestVmodState;
beforeEach(() => {
  state = resetTestVmodState();
});

const TWO_VMODS = `import tvmod;
import tvb;
sub vcl_init { tvmod.note("init"); new obj1 = tvmod.counter(); new obj2 = tvmod.counter(); }
sub vcl_fini { tvmod.note("fini"); }
sub vcl_recv { set req.http.n = tvb.one() + obj1.next() + obj2.next() + tvmod.count_call(); }
`;

describe('events', () => {
  it('sends LOAD and WARM in import order, COLD and DISCARD in reverse, around vcl_init and vcl_fini', async () => {
    const vcl = await load(TWO_VMODS);
    expect(vcl.temperature).toBe('warm');
    expect(state.log).toEqual(['tvmod:load:test', 'tvb:load', 'tvmod:note:init', 'tvmod:new:obj1', 'tvmod:new:obj2', 'tvmod:warm:test', 'tvb:warm']);
    run(vcl, 'vcl_recv', clientTask());
    state.log.length = 0;
    vcl.cold();
    expect(state.log).toEqual(['tvb:cold', 'tvmod:cold:test']);
    state.log.length = 0;
    vcl.warm();
    vcl.discard();
    expect(vcl.temperature).toBe('discarded');
    expect(state.log).toEqual([
      'tvmod:warm:test',
      'tvb:warm',
      'tvb:cold',
      'tvmod:cold:test',
      'tvmod:note:fini',
      'tvmod:dispose:obj2',
      'tvmod:dispose:obj1',
      'tvmod:free:call:1',
      'tvb:discard',
      'tvmod:discard:test',
      'tvb:free:vcl',
      'tvmod:free:vcl:1',
    ]);
  });

  it('can load a VCL cold, and warms it on demand', async () => {
    const vcl = await load(TWO_VMODS, { warm: false });
    expect(vcl.temperature).toBe('cold');
    expect(state.log).not.toContain('tvb:warm');
    vcl.warm();
    expect(vcl.temperature).toBe('warm');
    expect(state.log.slice(-2)).toEqual(['tvmod:warm:test', 'tvb:warm']);
  });

  it('on a failing LOAD, sends DISCARD to the VMODs that had loaded, not to the one that failed', async () => {
    state.failEvent = 'tvb:load';
    await expect(load(TWO_VMODS)).rejects.toThrow("VMOD 'tvb': load event failed: tvb cannot load");
    expect(state.log).toEqual(['tvmod:load:test', 'tvb:load', 'tvmod:discard:test', 'tvb:free:vcl', 'tvmod:free:vcl:1']);
  });

  it('on a failing first LOAD, sends no DISCARD at all', async () => {
    state.failEvent = 'tvmod:load';
    await expect(load(TWO_VMODS)).rejects.toThrow("VMOD 'tvmod': load event failed: tvmod refuses load");
    expect(state.log.filter((l) => l.includes('discard'))).toEqual([]);
  });

  it('on a failing WARM, cools the VMODs that had warmed, then unloads everything', async () => {
    state.failEvent = 'tvb:warm';
    await expect(load(TWO_VMODS)).rejects.toThrow("VMOD 'tvb': warm event failed: tvb cannot warm");
    expect(state.log.slice(5)).toEqual([
      'tvmod:warm:test',
      'tvb:warm',
      'tvmod:cold:test',
      'tvmod:note:fini',
      'tvmod:dispose:obj2',
      'tvmod:dispose:obj1',
      'tvb:discard',
      'tvmod:discard:test',
      'tvb:free:vcl',
      'tvmod:free:vcl:1',
    ]);
  });

  it('refuses warm() after a failed warm-up leaves the VCL cold, and works once the VMOD agrees', async () => {
    const vcl = await load(TWO_VMODS, { warm: false });
    state.failEvent = 'tvmod:warm';
    expect(() => vcl.warm()).toThrow("VMOD 'tvmod': warm event failed: tvmod refuses warm");
    expect(vcl.temperature).toBe('cold');
    state.failEvent = null;
    vcl.warm();
    expect(vcl.temperature).toBe('warm');
    vcl.discard();
    expect(() => vcl.warm()).toThrow("VCL 'test' is discarded");
  });
});

describe('vcl_init', () => {
  it('fails the load when vcl_init returns fail, running vcl_fini and undoing the rest', async () => {
    const src = TWO_VMODS.replace('new obj2 = tvmod.counter();', 'new obj2 = tvmod.counter(); return (fail);');
    await expect(load(src)).rejects.toThrow("VCL 'test' failed initialization");
    expect(state.log).toEqual([
      'tvmod:load:test',
      'tvb:load',
      'tvmod:note:init',
      'tvmod:new:obj1',
      'tvmod:new:obj2',
      'tvmod:note:fini',
      'tvmod:dispose:obj2',
      'tvmod:dispose:obj1',
      'tvb:discard',
      'tvmod:discard:test',
      'tvb:free:vcl',
      'tvmod:free:vcl:1',
    ]);
  });

  it('fails the load with the message of a VMOD failing in vcl_init', async () => {
    const src = TWO_VMODS.replace('tvmod.note("init");', 'tvmod.fail("cannot start");');
    await expect(load(src)).rejects.toThrow(/^VCL 'test' failed initialization: cannot start \(test:5:16\)$/);
  });
});

describe('temperature and references', () => {
  it('refuses to go cold while a VMOD holds the VCL, naming the holder', async () => {
    state.holdOnWarm = true;
    const vcl = await load(TWO_VMODS);
    expect(vcl.holders).toEqual(['tvmod background work']);
    expect(() => vcl.cold()).toThrow("VCL 'test' cannot go cold: held by tvmod background work");
    expect(vcl.temperature).toBe('warm');
    state.release?.();
    state.release?.();
    expect(vcl.holders).toEqual([]);
    vcl.cold();
    expect(vcl.temperature).toBe('cold');
  });

  it('tells backends when the VCL warms, cools and is discarded', async () => {
    const made: MemoryBackend[] = [];
    const createBackend: BackendFactory = (b, probe) => {
      const m = new MemoryBackend(b, probe);
      made.push(m);
      return m;
    };
    const vcl = await load(
      `probe p { .url = "/health"; }
       backend b2 { .host = "127.0.0.2"; .probe = p; }
       sub vcl_recv { set req.backend_hint = b2; }`,
      { env: { createBackend } },
    );
    expect(made.map((m) => [m.name, m.probe?.url])).toEqual([
      ['default', undefined],
      ['b2', '/health'],
    ]);
    vcl.cold();
    vcl.discard();
    expect(made.map((m) => m.events)).toEqual([
      ['warm', 'cold', 'discard'],
      ['warm', 'cold', 'discard'],
    ]);
  });

  it('releases the backends of a VCL whose load fails', async () => {
    const made: MemoryBackend[] = [];
    const createBackend: BackendFactory = (b) => {
      const m = new MemoryBackend(b);
      made.push(m);
      return m;
    };
    await expect(load('sub vcl_init { return (fail); }', { env: { createBackend } })).rejects.toThrow('failed initialization');
    expect(made.map((m) => m.events)).toEqual([['discard']]);
  });
});

describe('async vcl_init', () => {
  it('waits for an async VMOD function in vcl_init', async () => {
    const vcl = await load('import tvmod;\nsub vcl_init { if (tvmod.wait(1ms)) { tvmod.note("waited"); } }');
    expect(state.log).toContain('tvmod:note:waited');
    expect(vcl.temperature).toBe('warm');
  });
});
