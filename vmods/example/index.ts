// The example VMOD: the implementation of vmod.vcc, walked through in docs/writing-a-vmod.md.
// Each $Function is an exported function and each $Object an exported class; the first
// parameter of each is the task context, and the rest follow the manifest's arguments.

import type { PrivHolder, VclEvent, VmodContext, VmodEventContext } from '../../src/vmod/api.ts';
import * as self from './index.ts';
import type { VmodExample, VmodExampleCounters, VmodExampleHandle, VmodExampleParams } from './interface.ts';

/**
 * `ctx.vmod()` is this VMOD's platform handle in the running VCL: its counters and parameters
 * (null where no VCL runs, as in a unit test's context).
 */
export function greet(ctx: VmodContext, name: string | null): string {
  const h = ctx.vmod<VmodExampleHandle>('example');
  if (h !== null) h.counters.greetings++;
  return `${h?.own('greeting') ?? 'Hello'}, ${name ?? 'nobody'}!`;
}

/** The words one task has added to one tally: what its PRIV_TASK holder keeps. */
type Words = string[];

/**
 * `new x = example.tally(separator)`. The object lives as long as the VCL, so it must not keep
 * per-request state in its own fields: that goes in the PRIV_TASK holder each method receives,
 * which the runtime gives each task (and each object) afresh and drops when the task ends.
 */
class Tally {
  private readonly separator: string;

  constructor(_ctx: VmodContext, _vclName: string, separator: string | null) {
    this.separator = separator ?? '';
  }

  add(_ctx: VmodContext, task: PrivHolder<Words>, word: string | null): void {
    if (!word) return;
    task.priv ??= [];
    task.priv.push(word);
  }

  count(_ctx: VmodContext, task: PrivHolder<Words>): number {
    return task.priv?.length ?? 0;
  }

  list(_ctx: VmodContext, task: PrivHolder<Words>): string {
    return (task.priv ?? []).join(this.separator);
  }
}
export { Tally as tally };

/** What the event function keeps for each VCL in its PRIV_VCL holder. */
interface VclState {
  temperature: 'warm' | 'cold';
}

/** What the `request` subscription last heard, per VCL: what `example.last` answers. */
const lastHeard = new Map<string, { heard: number; last: Record<string, unknown> | null }>();

export function temperature(_ctx: VmodContext, vcl: PrivHolder<VclState>): string {
  return vcl.priv?.temperature ?? 'cold';
}

/**
 * Hears of each change in the life of a VCL that imports this VMOD. 'load' comes before
 * vcl_init and may refuse the VCL (ctx.fail, then a non-zero return); 'discard' comes last,
 * after which the runtime drops the PRIV_VCL holder, running its `free` if one was set.
 */
export function on_event(ctx: VmodEventContext<VmodExampleCounters, VmodExampleParams>, vcl: PrivHolder<VclState>, event: VclEvent): number {
  switch (event) {
    case 'load':
      if (ctx.vclName.startsWith('broken')) {
        ctx.fail(`example: refusing to load ${ctx.vclName}`);
        return 1;
      }
      vcl.priv = { temperature: 'cold' };
      return 0;
    case 'warm': {
      if (vcl.priv) vcl.priv.temperature = event;
      ctx.log(`example: ${ctx.vclName} is ${event}`);
      // Subscriptions and jobs made now end by themselves when the VCL goes cold.
      const seen = { heard: 0, last: null as Record<string, unknown> | null };
      lastHeard.set(ctx.vclName, seen);
      ctx.subscribe('request', 2, (p) => {
        seen.heard++;
        seen.last = { url: p.url, status: p.status, handling: p.handling };
      });
      ctx.every(60, (hk) => hk.log(`example: ${hk.counters.greetings} greetings so far`));
      return 0;
    }
    case 'cold':
      if (vcl.priv) vcl.priv.temperature = event;
      ctx.log(`example: ${ctx.vclName} is ${event}`);
      return 0;
    case 'discard':
      lastHeard.delete(ctx.vclName);
      return 0;
  }
}

/** `example.last`: answers with a value; the admin CLI prints it, as JSON with -j. */
export const commands: VmodExample['commands'] = {
  last: (ctx) => lastHeard.get(ctx.vclName) ?? { heard: 0, last: null },
};

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies VmodExample<{ objectTask: Words; vcl: VclState }>;
