// The ban lurker: tests objects against obj-only bans in the background, so bans complete and
// the list stays short even for objects nobody requests. One pass, as Varnish 7.1 does it:
// walk the list from the head; bans older than ban_lurker_age that use only obj.* fields are
// collected; the objects of every ban further down are tested against the collected bans newer
// than their own, killed on a match, otherwise moved up to the newest collected ban (or, past a
// req.* ban, to just below it: only a lookup can test those). At the end the collected bans are
// completed and the dead tail of the list is cut. Every ban_lurker_batch objects the pass
// pauses for ban_lurker_sleep; ban_lurker_sleep 0 turns the lurker off (the tail is still cut).
// A ban's objects are walked by id (its list in the object table, ban-list.ts): each one tested
// leaves the ban (killed, or moved up to a newer one), so the walk takes the list's first until
// it is empty, and objects that lookups moved meanwhile are simply no longer there.
// The pass is a generator so the event loop keeps running between batches; runPass() drives
// one to the end at a given time, for tests.

import type { Ban, BanList } from './ban-list.ts';
import { type BanTally, banMatches } from './ban-spec.ts';
import type { CacheCounters } from './counters.ts';
import type { CacheObject } from './object.ts';
import { NONE, type ObjectTable } from './object-table.ts';
import type { CacheParams } from './params.ts';

/** How long the lurker rests when no ban will come of age sooner (Varnish's figure). */
const IDLE_SECONDS = 49.62;

type LurkerParams = Pick<CacheParams, 'ban_lurker_age' | 'ban_lurker_sleep' | 'ban_lurker_batch'>;

export class BanLurker {
  readonly #bans: BanList;
  readonly #counters: CacheCounters;
  readonly #params: LurkerParams;
  readonly #kill: (obj: CacheObject) => void;
  readonly #clock: () => number;
  readonly #table: ObjectTable;
  #timer: NodeJS.Timeout | null = null;
  #pass: Generator<void, number, void> | null = null;
  #running = false;
  readonly #tally: BanTally = { tests: 0 };

  constructor(
    bans: BanList,
    counters: CacheCounters,
    params: LurkerParams,
    kill: (obj: CacheObject) => void,
    clock: () => number,
    table: ObjectTable,
  ) {
    this.#table = table;
    this.#bans = bans;
    this.#counters = counters;
    this.#params = params;
    this.#kill = kill;
    this.#clock = clock;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#pass = null;
  }

  /** A new obj-only ban: look at it soon instead of finishing the idle rest. */
  kick(): void {
    if (this.#running && this.#pass === null) this.#schedule(0);
  }

  /** Runs a whole pass now; returns the seconds until the youngest ban is old enough. */
  runPass(now: number): number {
    const pass = this.pass(now);
    for (;;) {
      const step = pass.next();
      if (step.done) return step.value;
    }
  }

  #schedule(seconds: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, Math.min(seconds, IDLE_SECONDS)) * 1000);
    this.#timer.unref();
  }

  #tick(): void {
    this.#timer = null;
    if (!this.#running) return;
    if (this.#params.ban_lurker_sleep <= 0) {
      this.#pass = null;
      this.#bans.cleanTail();
      this.#schedule(IDLE_SECONDS);
      return;
    }
    this.#pass ??= this.pass(this.#clock());
    const step = this.#pass.next();
    if (!step.done) {
      this.#schedule(this.#params.ban_lurker_sleep);
      return;
    }
    this.#pass = null;
    this.#schedule(step.value);
  }

  /** One pass; yields after every ban_lurker_batch objects. */
  *pass(now: number): Generator<void, number, void> {
    const bans = this.#bans;
    const cutoff = now - this.#params.ban_lurker_age;
    let dt = IDLE_SECONDS;
    const collected: Ban[] = [];
    let target: Ban | null = null;
    let examined = 0;
    for (let b: Ban | null = bans.head; b !== null; b = b.older) {
      if (target !== null && b.first !== NONE) {
        // Objects of the target itself stay where they are unless killed: walk a copy of its ids.
        const ids: number[] | null = b === target ? this.#idsOf(b) : null;
        for (let i = 0; ; i++) {
          const id: number = ids === null ? b.first : (ids[i] ?? NONE);
          if (id === NONE) break;
          const obj: CacheObject | null | undefined = this.#table.handles[id];
          // Not this ban's any more (a lookup moved it during a pause): skip it in a copy; the
          // list itself only ever holds the ban's own objects.
          if (obj === null || obj === undefined || obj.ban !== b) {
            if (ids === null) break;
            continue;
          }
          if (this.#matchesAny(obj, collected)) {
            this.#counters.bans_lurker_obj_killed++;
            this.#kill(obj);
          } else {
            bans.moveTo(obj, target);
          }
          if (++examined % Math.max(1, this.#params.ban_lurker_batch) === 0) yield;
        }
      }
      if (b.completed) continue;
      if (b.req) {
        if (target !== null) target = b.older;
        continue;
      }
      const wait = b.time - cutoff;
      if (wait < 0) {
        collected.push(b);
        target ??= b;
      } else if (wait < dt) {
        dt = wait;
      }
    }
    for (const b of collected) bans.complete(b);
    bans.cleanTail();
    return dt;
  }

  #idsOf(ban: Ban): number[] {
    const ids: number[] = [];
    for (let id = ban.first; id !== NONE; id = this.#table.banNext[id]) ids.push(id);
    return ids;
  }

  /** Tests against the collected bans (all newer than the object's), oldest first. */
  #matchesAny(obj: CacheObject, collected: readonly Ban[]): boolean {
    const tally = this.#tally;
    tally.tests = 0;
    let hit = false;
    for (let i = collected.length - 1; i >= 0; i--) {
      const ban = collected[i];
      if (ban.completed) continue;
      this.#counters.bans_lurker_tested++;
      if (banMatches(ban.spec!, ban.time, obj, null, tally)) {
        hit = true;
        break;
      }
    }
    this.#counters.bans_lurker_tests_tested += tally.tests;
    return hit;
  }
}
