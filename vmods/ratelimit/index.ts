// The ratelimit VMOD: token buckets per key. A request path call (`allow`) is a Map lookup, a
// refill computed from the time since the key's last visit, and one counter add; everything
// else (forgetting idle keys, listing, resetting) runs outside requests through the platform:
// a recurring job, admin commands, the VMOD's memory account.

import type { PrivHolder, VclEvent, VmodCommandContext, VmodContext, VmodEventContext } from '../../src/vmod/api.ts';
import { VmodFailure } from '../../src/vmod/api.ts';
import * as self from './index.ts';
import type { VmodRatelimit, VmodRatelimitCounters, VmodRatelimitHandle, VmodRatelimitParams } from './interface.ts';

/** What one key costs in the memory account: the Map entry, the key and its state, roughly. */
const KEY_BYTES = 96;

interface KeyState {
  tokens: number;
  /** When the tokens were last computed, in seconds. */
  at: number;
}

/** The buckets of each loaded VCL, by instance name: what the admin commands walk. */
const buckets = new Map<string, Map<string, Bucket>>();

function now(): number {
  return performance.timeOrigin / 1000 + performance.now() / 1000;
}

class Bucket {
  readonly name: string;
  readonly rate: number;
  readonly #burst: number;
  readonly #handle: VmodRatelimitHandle;
  readonly keys = new Map<string, KeyState>();

  constructor(ctx: VmodContext, name: string, rate: number, burst: number) {
    if (!(rate > 0)) throw new VmodFailure(`ratelimit.bucket ${name}: rate must be positive, not ${rate}`);
    if (burst < 0) throw new VmodFailure(`ratelimit.bucket ${name}: burst must not be negative, not ${burst}`);
    const handle = ctx.vmod<VmodRatelimitHandle>('ratelimit');
    if (handle === null) throw new VmodFailure('ratelimit: no platform handle');
    this.name = name;
    this.rate = rate;
    this.#burst = burst;
    this.#handle = handle;
    let mine = buckets.get(ctx.vclName);
    if (mine === undefined) {
      mine = new Map();
      buckets.set(ctx.vclName, mine);
    }
    mine.set(name, this);
  }

  /** The burst now: its own, or the ratelimit.burst parameter's current value. */
  get burst(): number {
    return this.#burst > 0 ? this.#burst : this.#handle.own('burst');
  }

  allow(_ctx: VmodContext, key: string | null, cost: number): boolean {
    const counters = this.#handle.counters;
    if (key === null) return true;
    const t = now();
    let s = this.keys.get(key);
    if (s === undefined) {
      if (!this.#handle.memory.reserve(KEY_BYTES)) {
        counters.untracked++;
        return true;
      }
      s = { tokens: this.burst, at: t };
      this.keys.set(key, s);
      counters.keys++;
    } else {
      refill(s, this.rate, this.burst, t);
    }
    if (s.tokens >= cost) {
      s.tokens -= cost;
      counters.allowed++;
      return true;
    }
    counters.denied++;
    return false;
  }

  tokens(_ctx: VmodContext, key: string | null): number {
    return this.level(key);
  }

  /** The tokens of a key now; a key never seen has a full bucket. */
  level(key: string | null): number {
    const s = key === null ? undefined : this.keys.get(key);
    if (s === undefined) return this.burst;
    refill(s, this.rate, this.burst, now());
    return s.tokens;
  }

  /** Forgets keys whose bucket has been full for `idle` seconds; returns how many. */
  sweep(idle: number): number {
    const t = now();
    let n = 0;
    for (const [key, s] of this.keys) {
      refill(s, this.rate, this.burst, t);
      // Full since: the moment the refill reached the burst.
      if (s.tokens >= this.burst && t - s.at >= idle) {
        this.#forget(key);
        n++;
      }
    }
    return n;
  }

  reset(key: string | undefined): number {
    if (key !== undefined) {
      if (!this.keys.has(key)) return 0;
      this.#forget(key);
      return 1;
    }
    const n = this.keys.size;
    for (const k of [...this.keys.keys()]) this.#forget(k);
    return n;
  }

  #forget(key: string): void {
    if (!this.keys.delete(key)) return;
    this.#handle.counters.keys--;
    this.#handle.memory.release(KEY_BYTES);
  }

  [Symbol.dispose](): void {
    this.reset(undefined);
  }
}
export { Bucket as bucket };

/** Adds the tokens earned since `s.at`, up to `burst`; a full bucket keeps the time it got full. */
function refill(s: KeyState, rate: number, burst: number, t: number): void {
  if (s.tokens >= burst) {
    s.tokens = burst;
    return;
  }
  const tokens = s.tokens + (t - s.at) * rate;
  if (tokens >= burst) {
    // The moment it became full, so that sweep() measures idleness from there.
    s.at = t - (tokens - burst) / rate;
    s.tokens = burst;
  } else {
    s.tokens = tokens;
    s.at = t;
  }
}

interface VclState {
  /** Stops the sweeping job. */
  stop?: () => void;
}

/**
 * WARM starts the job that forgets idle keys (the platform cancels it when the VCL goes
 * cold, and a warm VCL starts it again); DISCARD drops the VCL's buckets from the registry.
 */
export function on_event(
  ctx: VmodEventContext<VmodRatelimitCounters, VmodRatelimitParams>,
  vcl: PrivHolder<VclState>,
  event: VclEvent,
): number {
  vcl.priv ??= {};
  const state = vcl.priv;
  const vclName = ctx.vclName;
  if (event === 'warm') {
    const period = Math.max(1, Math.min(ctx.own('idle_after'), 60));
    const job = ctx.every(period, (hk) => {
      const idle = hk.own('idle_after');
      for (const b of buckets.get(vclName)?.values() ?? []) b.sweep(idle);
    });
    state.stop = () => job.cancel();
  } else if (event === 'cold') {
    state.stop?.();
    state.stop = undefined;
  } else if (event === 'discard') {
    buckets.delete(vclName);
  }
  return 0;
}

function bucketsOf(ctx: VmodCommandContext<VmodRatelimitCounters, VmodRatelimitParams>, name: string | undefined): Bucket[] {
  const mine = buckets.get(ctx.vclName) ?? new Map<string, Bucket>();
  if (name === undefined) return [...mine.values()];
  const b = mine.get(name);
  if (b === undefined) throw new Error(`no bucket '${name}' in VCL ${ctx.vclName} (there are: ${[...mine.keys()].join(', ') || 'none'})`);
  return [b];
}

export const commands: VmodRatelimit['commands'] = {
  list(ctx, args) {
    if (args.length > 1) throw new Error('usage: ratelimit.list [<bucket>]');
    const rows = bucketsOf(ctx, args[0]).map((b) => ({
      bucket: b.name,
      rate: b.rate,
      burst: b.burst,
      keys: Object.fromEntries([...b.keys.keys()].map((k) => [k, Math.floor(b.level(k) * 1000) / 1000])),
    }));
    if (ctx.json) return rows;
    return rows
      .map((r) => `${r.bucket}: rate ${r.rate}/s, burst ${r.burst}, ${Object.keys(r.keys).length} keys\n${Object.entries(r.keys).map(([k, t]) => `  ${k} ${t}\n`).join('')}`)
      .join('');
  },
  reset(ctx, args) {
    if (args.length < 1 || args.length > 2) throw new Error('usage: ratelimit.reset <bucket> [<key>]');
    const [b] = bucketsOf(ctx, args[0]);
    const n = b.reset(args[1]);
    return ctx.json ? { bucket: b.name, reset: n } : `${n} key${n === 1 ? '' : 's'} reset\n`;
  },
};

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies VmodRatelimit<{ vcl: VclState }>;
