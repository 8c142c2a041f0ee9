// The shard director's consistent-hashing ring and the walk that picks a member from it. The
// construction and the walk follow Varnish's shard director step for step (the hash of
// `<ident><n>` for n from 0, points sorted, the same binary search, the same rules for alt,
// healthy, rampup and warmup), so that a key picks the same member here as there.

import type { Director, VmodContext } from '../../src/vmod/api.ts';
import { hashStrands32 } from './hash32.ts';

export interface ShardMember {
  readonly backend: Director;
  /** Placed on the ring under this string; the backend's name when absent. */
  readonly ident: string | undefined;
  /** Its own rampup in seconds; NaN: the director's. */
  readonly rampup: number;
  /** How many points it has on the ring (replicas times weight). */
  readonly replicas: number;
}

export interface RingPoint {
  readonly point: number;
  /** Index of the member in the member list. */
  readonly host: number;
}

const UINT32_MAX = 0xffffffff;

export function identOf(m: ShardMember): string {
  return m.ident ?? m.backend.name;
}

/** Places every member's points and sorts them. */
export function buildRing(members: readonly ShardMember[]): RingPoint[] {
  // No member may have so many points that the total overflows 32 bits.
  const cap = Math.floor((UINT32_MAX - 1) / members.length);
  const ring: RingPoint[] = [];
  members.forEach((m, host) => {
    const ident = identOf(m);
    const n = Math.min(m.replicas, cap);
    for (let j = 0; j < n; j++) ring.push({ point: hashStrands32([ident, String(j)]), host });
  });
  return ring.sort((a, b) => a.point - b.point);
}

/**
 * The index of the first point at or after `key`. Written as Varnish's search is, including its
 * edges: a key past the last point stays on the last point instead of wrapping to the first,
 * and a ring of two points always answers the second.
 */
export function lookup(ring: readonly RingPoint[], key: number): number {
  const n = ring.length;
  let low = 0;
  let high = n;
  for (;;) {
    const i = Math.floor((high + low) / 2);
    if (ring[i].point === key) return i;
    if (i === n - 1) return n - 1;
    if (ring[i].point < key && ring[i + 1].point >= key) return i + 1;
    if (ring[i].point > key) {
      if (i === 0) return 0;
      high = i;
    } else {
      low = i;
    }
  }
}

export type Healthy = 'CHOSEN' | 'IGNORE' | 'ALL';

export interface PickOptions {
  readonly key: number;
  readonly alt: number;
  /** Chance of using the next member to warm it; -1: the director's. */
  readonly warmup: number;
  readonly rampup: boolean;
  readonly healthy: Healthy;
}

export interface RingConfig {
  readonly members: readonly ShardMember[];
  readonly ring: readonly RingPoint[];
  /** The director's warmup probability and rampup duration. */
  readonly warmup: number;
  readonly rampup: number;
}

/** A member seen on the walk: which one, and when its health last changed. */
interface Seen {
  host: number;
  changed: number;
}

/** The walk along the ring from a key's point, visiting each member at most once. */
class Walk {
  idx: number;
  readonly picked = new Set<number>();
  previous: Seen = { host: -1, changed: 0 };
  last: Seen = { host: -1, changed: 0 };
  private readonly cfg: RingConfig;
  private readonly ctx: VmodContext;

  constructor(cfg: RingConfig, ctx: VmodContext, idx: number) {
    this.cfg = cfg;
    this.ctx = ctx;
    this.idx = idx;
  }

  /**
   * Moves on to the next member not yet visited, skipping `skip` of them first; with
   * `onlyHealthy`, sick members neither count as skipped nor get chosen. Returns the chosen
   * member's index, or -1 once every member was visited. Along the way `last` is the member
   * chosen and `previous` the healthy one seen before it.
   */
  next(skip: number, onlyHealthy: boolean): number {
    const { members, ring } = this.cfg;
    let chosen = -1;
    while (this.picked.size < members.length && skip >= 0) {
      const host = ring[this.idx].host;
      if (!this.picked.has(host)) {
        this.picked.add(host);
        const be = members[host].backend;
        const changed = be.changed ?? 0;
        let into: Seen | undefined;
        if (be.healthy(this.ctx)) {
          if (skip-- === 0) {
            chosen = host;
            into = this.last;
          } else {
            into = this.previous;
          }
        } else if (!onlyHealthy && skip-- === 0) {
          chosen = host;
          into = this.last;
        }
        if (into === this.last && this.last.host !== -1) this.previous = { ...this.last };
        if (into) {
          into.host = host;
          into.changed = changed;
        }
        if (chosen !== -1) break;
      }
      this.idx = (this.idx + 1) % ring.length;
    }
    return chosen;
  }
}

function rampupOf(cfg: RingConfig, host: number): number {
  const own = cfg.members[host].rampup;
  return Number.isNaN(own) ? cfg.rampup : own;
}

/**
 * The member for a key: its own point's member, or the alt-th one after it; sick members are
 * passed over as `healthy` says; a member in rampup, or warmup, sometimes hands the request to
 * the next one. `random` gives numbers in [0, 1) for those two chances.
 */
export function pickMember(cfg: RingConfig, ctx: VmodContext, opts: PickOptions, random: () => number): Director | null {
  const { members } = cfg;
  const walk = new Walk(cfg, ctx, lookup(cfg.ring, opts.key));
  const fallBack = () => (walk.previous.host !== -1 ? members[walk.previous.host].backend : null);
  if (opts.alt > 0 && walk.next(opts.alt - 1, opts.healthy === 'ALL') === -1) return fallBack();
  if (walk.next(0, opts.healthy !== 'IGNORE') === -1) return fallBack();
  const be = members[walk.last.host].backend;
  const warmup = opts.warmup === -1 ? cfg.warmup : opts.warmup;
  if (opts.alt > 0 || opts.healthy === 'IGNORE' || (!opts.rampup && warmup === 0) || walk.next(0, true) === -1) {
    return be;
  }
  // Now `previous` is the member chosen and `last` the healthy one after it.
  const chosenRampup = rampupOf(cfg, walk.previous.host);
  const altRampup = rampupOf(cfg, walk.last.host);
  const chosenAge = ctx.now - walk.previous.changed;
  if (chosenAge < chosenRampup) {
    // The chosen member is ramping up: it keeps the request unless the dice say otherwise,
    // and always when the next one is ramping up too.
    if (!opts.rampup || ctx.now - walk.last.changed < altRampup || random() * chosenRampup < chosenAge) return be;
  } else if (warmup === 0 || random() > warmup) {
    return be;
  }
  return members[walk.last.host].backend;
}
