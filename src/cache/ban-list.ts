// The ban list, newest first, as Varnish keeps it. Each object points at the newest ban that
// existed when it was committed or last checked ("its generation"), so a lookup only tests the
// bans above that point, and an object already checked against the head costs one comparison.
// Lookups test every kind of ban (req.* ones need the request); the lurker (ban-lurker.ts)
// tests obj-only bans in the background. Bookkeeping, as in 7.1 (checked with varnishtest):
// - the list starts with one completed ban, so every object always has a generation;
// - adding a ban completes older identical ones (ban_dups) and counts them in bans_dups;
// - a completed ban is never tested again and shows no expression in ban.list;
// - bans at the tail that no object points at are deleted (cleanTail), the head never is.
// A ban's objects are a list by object id through the object table (banPrev/banNext), not a Set:
// moving an object to another ban costs no allocation, and a million objects give the collector
// nothing to follow. The lurker walks a ban's list by id.

import { type BanParse, type BanSpec, type BanTally, banMatches, parseBanArgs, parseBanString } from './ban-spec.ts';
import type { CacheCounters } from './counters.ts';
import type { CacheObject } from './object.ts';
import { NONE, type ObjectTable } from './object-table.ts';
import type { CacheParams } from './params.ts';
import type { RequestView } from './types.ts';

export class Ban {
  readonly time: number;
  /** The conditions; dropped (null) once completed. */
  spec: BanSpec | null;
  readonly key: string;
  readonly req: boolean;
  readonly obj: boolean;
  completed = false;
  /** Toward the head. */
  newer: Ban | null = null;
  /** Toward the tail. */
  older: Ban | null = null;
  /** The objects whose generation this ban is: the first one's id (the others follow by banNext), and how many. */
  first = NONE;
  count = 0;

  constructor(time: number, spec: BanSpec | null) {
    this.time = time;
    this.spec = spec;
    this.key = spec?.key ?? '';
    this.req = spec?.req ?? false;
    this.obj = spec?.obj ?? false;
  }
}

/** One line of ban.list, for the admin CLI (text or JSON). */
export interface BanListEntry {
  readonly time: number;
  /** Objects pointing at this ban. */
  readonly objects: number;
  readonly completed: boolean;
  readonly req: boolean;
  readonly obj: boolean;
  /** The expression; '' for a completed ban. */
  readonly spec: string;
}

export class BanList {
  head: Ban;
  tail: Ban;
  readonly #counters: CacheCounters;
  readonly #params: Pick<CacheParams, 'ban_dups'>;
  /** Called when an obj-only ban is added, so the lurker can wake up. */
  onObjBan: (() => void) | null = null;
  readonly #tally: BanTally = { tests: 0 };
  readonly #table: ObjectTable;

  constructor(counters: CacheCounters, params: Pick<CacheParams, 'ban_dups'>, now: number, table: ObjectTable) {
    this.#table = table;
    this.#counters = counters;
    this.#params = params;
    const first = new Ban(now, null);
    first.completed = true;
    this.head = first;
    this.tail = first;
    counters.bans++;
    counters.bans_added++;
    counters.bans_completed++;
  }

  /** ban() / std.ban(): null when added, else Varnish's error text. */
  addExpression(expression: string | null, now: number): string | null {
    return this.#addParsed(parseBanString(expression), now);
  }

  /** The CLI's `ban` words: null when added, else the error text. */
  addArgs(args: readonly string[], now: number): string | null {
    return this.#addParsed(parseBanArgs(args), now);
  }

  #addParsed(parsed: BanParse, now: number): string | null {
    if ('error' in parsed) return parsed.error;
    this.add(parsed.spec, now);
    return null;
  }

  add(spec: BanSpec, now: number): Ban {
    const ban = new Ban(now, spec);
    ban.older = this.head;
    this.head.newer = ban;
    this.head = ban;
    const c = this.#counters;
    c.bans++;
    c.bans_added++;
    if (ban.obj) c.bans_obj++;
    if (ban.req) c.bans_req++;
    if (this.#params.ban_dups) {
      for (let b: Ban | null = ban.older; b !== null; b = b.older) {
        if (!b.completed && b.key === ban.key) {
          this.complete(b);
          c.bans_dups++;
        }
      }
    }
    if (!ban.req) this.onObjBan?.();
    return ban;
  }

  complete(ban: Ban): void {
    if (ban.completed) return;
    ban.completed = true;
    ban.spec = null;
    this.#counters.bans_completed++;
  }

  /** Gives a newly committed object the head as its generation. */
  attach(obj: CacheObject): void {
    this.#join(obj, this.head);
  }

  detach(obj: CacheObject): void {
    this.#leave(obj);
    obj.ban = null;
  }

  /** Moves an object that passed the bans down to `to` up to that generation. */
  moveTo(obj: CacheObject, to: Ban): void {
    if (obj.ban === to) return;
    this.#leave(obj);
    this.#join(obj, to);
  }

  #join(obj: CacheObject, ban: Ban): void {
    obj.ban = ban;
    const id = obj.id;
    if (id === NONE) return;
    const t = this.#table;
    t.banPrev[id] = NONE;
    t.banNext[id] = ban.first;
    if (ban.first !== NONE) t.banPrev[ban.first] = id;
    ban.first = id;
    ban.count++;
  }

  #leave(obj: CacheObject): void {
    const ban = obj.ban;
    const id = obj.id;
    if (ban === null || id === NONE) return;
    const t = this.#table;
    const prev = t.banPrev[id];
    const next = t.banNext[id];
    if (prev === NONE) ban.first = next;
    else t.banNext[prev] = next;
    if (next !== NONE) t.banPrev[next] = prev;
    t.banPrev[id] = NONE;
    t.banNext[id] = NONE;
    ban.count--;
  }

  /**
   * At lookup: tests the bans newer than the object's generation. True when one matches (the
   * caller removes the object); otherwise the object moves up to the head.
   */
  check(obj: CacheObject, req: RequestView): boolean {
    const head = this.head;
    const until = obj.ban;
    if (until === head) return false;
    const tally = this.#tally;
    tally.tests = 0;
    let tested = 0;
    let banned = false;
    for (let b: Ban | null = head; b !== null && b !== until; b = b.older) {
      if (b.completed) continue;
      tested++;
      if (banMatches(b.spec!, b.time, obj, req, tally)) {
        banned = true;
        break;
      }
    }
    const c = this.#counters;
    c.bans_tested += tested;
    c.bans_tests_tested += tally.tests;
    if (banned) {
      c.bans_obj_killed++;
      return true;
    }
    this.moveTo(obj, head);
    return false;
  }

  /** Deletes tail bans no object points at; returns how many. */
  cleanTail(): number {
    let deleted = 0;
    const c = this.#counters;
    while (this.tail !== this.head && this.tail.count === 0) {
      const b = this.tail;
      this.tail = b.newer!;
      this.tail.older = null;
      b.newer = null;
      c.bans--;
      c.bans_deleted++;
      if (b.completed) c.bans_completed--;
      if (b.obj) c.bans_obj--;
      if (b.req) c.bans_req--;
      deleted++;
    }
    return deleted;
  }

  entries(): BanListEntry[] {
    const out: BanListEntry[] = [];
    for (let b: Ban | null = this.head; b !== null; b = b.older) {
      out.push({
        time: b.time,
        objects: b.count,
        completed: b.completed,
        req: b.req,
        obj: b.obj,
        spec: b.completed ? '' : (b.spec?.text ?? ''),
      });
    }
    return out;
  }

  /** The body of the CLI's ban.list. */
  listText(): string {
    let text = 'Present bans:\n';
    for (const e of this.entries()) {
      text += `${e.time.toFixed(6)} ${String(e.objects).padStart(5)} ${e.completed ? 'C' : '-'}  ${e.spec}\n`;
    }
    return text;
  }
}
