// `shellac top`'s model: which tagged lines of a transaction record it counts, and the ranking
// that decays as varnishtop's does.
//
// A record reads as varnishlog's tagged lines (vslLines: ReqURL, ReqHeader, RespStatus,
// VCL_call...). Each line that passes the selection (-i tags, -I [tag:]regex, -c/-b side, -f
// first field) adds 1 to the entry (tag, text). Once per refresh, every entry's count moves
// toward 1/3 by 1/n, n growing by one per refresh up to the period (-p, 60 by default): a
// value seen often keeps a count near its rate per refresh, one no longer seen fades. An entry
// is dropped when it falls below a tenth of the last count on the screen, or ranks beyond ten
// screens: the list stays bounded however many distinct values go by.

import type { TxRecord } from '../common/log.ts';
import { vslLines } from './log-text.ts';

export interface TopSelection {
  /** -i: only these tags (all when empty). */
  readonly tags: ReadonlySet<string>;
  /** -I: lines whose text matches; a tag limits the regex to that tag's lines. */
  readonly include: readonly { readonly tag?: string; readonly re: RegExp }[];
  /** -c / -b: one side only. */
  readonly side?: 'client' | 'backend';
  /** -f: the first word of the text only. */
  readonly firstField: boolean;
}

/** Lines varnishtop never ranks: they only frame a transaction. */
const FRAMING = new Set(['Begin', 'End']);

/** The [tag, text] pairs of one record that `top` counts. */
export function topLines(r: TxRecord, sel: TopSelection): [string, string][] {
  if (sel.side !== undefined && r.side !== sel.side) return [];
  const out: [string, string][] = [];
  for (const [tag, text] of vslLines(r)) {
    if (FRAMING.has(tag)) continue;
    if (sel.tags.size > 0 && !sel.tags.has(tag)) continue;
    if (sel.include.length > 0 && !sel.include.some((i) => (i.tag === undefined || i.tag === tag) && i.re.test(text))) continue;
    out.push([tag, sel.firstField ? (text.split(/\s+/, 1)[0] ?? '') : text]);
  }
  return out;
}

export interface TopEntry {
  readonly tag: string;
  readonly text: string;
  count: number;
}

export class TopRanking {
  readonly #byKey = new Map<string, TopEntry>();
  readonly #period: number;
  /**
   * Refreshes so far, up to the period: the divisor of the decay. varnishtop draws an empty
   * screen at start, so the first refresh with data already divides by 2.
   */
  #n = 1;

  /** `period`: refreshes over which a count settles (varnishtop's -p). */
  constructor(period = 60) {
    if (!(period >= 1)) throw new Error(`period ${period}: at least 1`);
    this.#period = period;
  }

  add(tag: string, text: string): void {
    // A NUL cannot occur in a tag name, so the key cannot collide.
    const key = `${tag}\0${text}`;
    const e = this.#byKey.get(key);
    if (e) e.count++;
    else this.#byKey.set(key, { tag, text, count: 1 });
  }

  get size(): number {
    return this.#byKey.size;
  }

  /** Every entry, highest count first; ties by tag, then text, so the order is stable. */
  ranked(): TopEntry[] {
    return [...this.#byKey.values()].sort((a, b) => b.count - a.count || cmp(a.tag, b.tag) || cmp(a.text, b.text));
  }

  /**
   * One refresh: the ranking as it stands (what the screen shows), then the decay. `rows` is how
   * many entries fit on the screen; the last of them sets the floor under which entries go.
   */
  tick(rows: number): TopEntry[] {
    if (this.#n < this.#period) this.#n++;
    const ranked = this.ranked();
    const before = ranked.map((e) => e.count);
    const shown = ranked.slice(0, rows).map((e) => ({ ...e }));
    ranked.forEach((e, i) => {
      e.count += (1 / 3 - e.count) / this.#n;
      // Below a tenth of the lowest count on the screen (its own, for an entry shown), or past
      // ten screens: gone.
      const floor = before[Math.min(i, rows - 1)] ?? 0;
      if (e.count * 10 < floor || i >= rows * 10) this.#byKey.delete(`${e.tag}\0${e.text}`);
    });
    return shown;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One entry as varnishtop prints it: the count in 9 columns with 2 decimals, tag, text. */
export function formatTopLine(e: TopEntry, tagWidth: number): string {
  return `${e.count.toFixed(2).padStart(9)} ${e.tag.padEnd(tagWidth)} ${e.text}`;
}
