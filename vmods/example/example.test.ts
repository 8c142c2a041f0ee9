import { describe, expect, it } from 'vitest';
import { VclTask } from '../../src/runtime/task.ts';
import type { PrivHolder, VclEvent, VmodEventContext } from '../../src/vmod/api.ts';
import { greet, on_event, tally, temperature } from './index.ts';
import type { VmodExampleCounters, VmodExampleParams } from './interface.ts';

/** A task of the real runtime: it hands out a fresh PRIV_TASK holder per object and task. */
function task(): VclTask {
  const t = new VclTask('client');
  t.method = 'vcl_recv';
  return t;
}

describe('example.greet', () => {
  it('greets by name, and nobody when the name is unset', () => {
    expect(greet(task(), 'VCL')).toBe('Hello, VCL!');
    expect(greet(task(), null)).toBe('Hello, nobody!');
  });
});

describe('example.tally', () => {
  it('collects the words of one task and joins them', () => {
    const t = task();
    const x = new tally(t, 'x', ' + ');
    const priv = t.privTask(x) as PrivHolder<string[]>;
    expect(x.count(t, priv)).toBe(0);
    expect(x.list(t, priv)).toBe('');
    x.add(t, priv, 'a');
    x.add(t, priv, '');
    x.add(t, priv, null);
    x.add(t, priv, 'b');
    expect(x.count(t, priv)).toBe(2);
    expect(x.list(t, priv)).toBe('a + b');
  });

  it('starts empty in each task', () => {
    const first = task();
    const second = task();
    const x = new tally(first, 'x', ',');
    x.add(first, first.privTask(x) as PrivHolder<string[]>, 'mine');
    expect(x.count(second, second.privTask(x) as PrivHolder<string[]>)).toBe(0);
    first.end();
  });
});

type Ctx = VmodEventContext<VmodExampleCounters, VmodExampleParams>;

describe('example.on_event', () => {
  function eventContext(vclName: string) {
    const logs: string[] = [];
    const failures: string[] = [];
    // Only what on_event uses; the platform parts are tested through a loaded VCL
    // (example-vcl.test.ts), here they do nothing.
    const ctx = {
      vclName,
      log: (m: string) => void logs.push(m),
      fail: (m: string) => void failures.push(m),
      subscribe: () => () => {},
      every: () => ({ cancel: () => {}, cancelled: false }),
    } as Partial<Ctx> as Ctx;
    return { ctx, logs, failures };
  }

  it('follows the temperature of the VCL into PRIV_VCL, where temperature() reads it', () => {
    const { ctx, logs } = eventContext('boot');
    const vcl: PrivHolder<{ temperature: 'warm' | 'cold' }> = { priv: undefined };
    const seen: string[] = [];
    for (const e of ['load', 'warm', 'cold', 'warm', 'discard'] as VclEvent[]) {
      expect(on_event(ctx, vcl, e)).toBe(0);
      seen.push(temperature(task(), vcl));
    }
    expect(seen).toEqual(['cold', 'warm', 'cold', 'warm', 'warm']);
    expect(logs).toEqual(['example: boot is warm', 'example: boot is cold', 'example: boot is warm']);
  });

  it('can refuse a load', () => {
    const { ctx, failures } = eventContext('broken-1');
    expect(on_event(ctx, { priv: undefined }, 'load')).not.toBe(0);
    expect(failures).toEqual(['example: refusing to load broken-1']);
  });
});
