// `shellac hist`'s model: what it measures (a profile: which side, which value, which range of
// decades) and the picture varnishhist draws.
//
// The last HIST_N values are kept in a ring; each falls in one of HIST_RES buckets per decade
// between 10^low and 10^high (values outside are put in the first or last bucket). A screen
// column sums the buckets under it; its height is misses (`#`) from the bottom, then hits (`|`)
// above them, divided by the vertical scale: the smallest of SCALES that fits the tallest
// column. The x axis has a `+` and a `|1eN` label at each decade; the y axis a label every 5
// rows. A backend record has no hit: all of it is drawn with `#`.

import type { TxRecord } from '../common/log.ts';

export interface HistProfile {
  readonly side: 'client' | 'backend';
  /** The value of a record, or undefined when it has none. */
  readonly value: (r: TxRecord) => number | undefined;
  /** Decades: values from 10^low to 10^high. */
  readonly low: number;
  readonly high: number;
  readonly docs: string;
}

/** varnishhist's predefined profiles, for the fields Shellac's records carry. */
export const HIST_PROFILES: Readonly<Record<string, HistProfile>> = {
  responsetime: {
    side: 'client',
    value: (r) => r.timings.Process ?? r.timings.Resp,
    low: -6,
    high: 3,
    docs: 'client: seconds from the request until the response is ready (Timestamp Process, else Resp)',
  },
  size: { side: 'client', value: (r) => r.bytes.respBody, low: 1, high: 8, docs: 'client: response body bytes' },
  Beresptime: {
    side: 'backend',
    value: (r) => r.timings.Beresp,
    low: -6,
    high: 3,
    docs: 'backend: seconds until the response head arrived (time to first byte)',
  },
  BerespBodytime: {
    side: 'backend',
    value: (r) => r.timings.BerespBody,
    low: -6,
    high: 3,
    docs: 'backend: seconds until the response body was received (the whole fetch)',
  },
  Besize: { side: 'backend', value: (r) => r.bytes.respBody, low: 1, high: 8, docs: 'backend: response body bytes' },
};

export class ProfileError extends Error {
  override name = 'ProfileError';
}

/**
 * A profile by name, or a custom one as varnishhist spells it for timestamps:
 * `[c|b:]Timestamp:LABEL[:low:high]` (`b:Timestamp:Beresp:-4:1`).
 */
export function histProfile(spec: string): HistProfile {
  const named = Object.hasOwn(HIST_PROFILES, spec) ? HIST_PROFILES[spec] : undefined;
  if (named) return named;
  const parts = spec.split(':');
  let side: 'client' | 'backend' = 'client';
  if (parts[0] === 'c' || parts[0] === 'b') side = parts.shift() === 'b' ? 'backend' : 'client';
  const [tag, label, low = '-6', high = '3'] = parts;
  const lo = Number(low);
  const hi = Number(high);
  if (tag !== 'Timestamp' || !label || parts.length > 4 || !Number.isInteger(lo) || !Number.isInteger(hi) || lo >= hi) {
    throw new ProfileError(`-P ${spec}: one of ${Object.keys(HIST_PROFILES).join(', ')}, or [c|b:]Timestamp:LABEL[:low:high] with whole decades low < high`);
  }
  return { side, value: (r) => r.timings[label], low: lo, high: hi, docs: `${side}: Timestamp ${label}` };
}

/** Values kept: the picture is of the last HIST_N requests, as varnishhist's. */
export const HIST_N = 2000;
/** Buckets per decade. */
export const HIST_RES = 100;
const SCALES = [1, 2, 3, 4, 5, 10, 15, 20, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000];

export class Histogram {
  readonly profile: HistProfile;
  readonly #buckets: number;
  /** Ring of the last HIST_N values: bucket index, and whether it was a hit. */
  readonly #ring: { bucket: number; hit: boolean }[] = [];
  #next = 0;
  readonly #hits: number[];
  readonly #misses: number[];

  constructor(profile: HistProfile) {
    this.profile = profile;
    this.#buckets = (profile.high - profile.low) * HIST_RES;
    this.#hits = new Array(this.#buckets).fill(0);
    this.#misses = new Array(this.#buckets).fill(0);
  }

  get count(): number {
    return this.#ring.length;
  }

  /** Takes a record if it is of the profile's side and has its value. */
  add(r: TxRecord): void {
    if (r.side !== this.profile.side) return;
    const v = this.profile.value(r);
    if (v === undefined || !Number.isFinite(v)) return;
    this.addValue(v, r.handling === 'hit');
  }

  addValue(v: number, hit: boolean): void {
    const at = v > 0 ? Math.floor((Math.log10(v) - this.profile.low) * HIST_RES) : 0;
    const bucket = Math.min(this.#buckets - 1, Math.max(0, at));
    if (this.#ring.length === HIST_N) {
      const old = this.#ring[this.#next];
      (old.hit ? this.#hits : this.#misses)[old.bucket]--;
      this.#ring[this.#next] = { bucket, hit };
      this.#next = (this.#next + 1) % HIST_N;
    } else this.#ring.push({ bucket, hit });
    (hit ? this.#hits : this.#misses)[bucket]++;
  }

  /** The picture in `cols` by `rows` characters (rows ≥ 4): title, bars, axis, decade labels. */
  render(cols: number, rows: number, title = ''): string[] {
    const width = Math.max(1, cols);
    const height = Math.max(1, rows - 3);
    const hits = new Array(width).fill(0);
    const misses = new Array(width).fill(0);
    for (let b = 0; b < this.#buckets; b++) {
      const col = Math.floor((b * width) / this.#buckets);
      hits[col] += this.#hits[b];
      misses[col] += this.#misses[b];
    }
    const tallest = Math.max(0, ...hits.map((h, i) => h + misses[i]));
    const scale = SCALES.find((s) => tallest / s <= height) ?? Math.ceil(tallest / height);
    const grid = Array.from({ length: height }, () => new Array<string>(width).fill(' '));
    // Row 0 is the bottom. Labels first: bars draw over them, as varnishhist's do.
    for (let j = 5; j < height; j += 5) {
      const label = `${j * scale}_`;
      for (let k = 0; k < label.length && k < width; k++) grid[j][k] = label[k];
    }
    for (let c = 0; c < width; c++) {
      const m = Math.floor(misses[c] / scale);
      const all = Math.floor((misses[c] + hits[c]) / scale);
      for (let j = 0; j < all && j < height; j++) grid[j][c] = j < m ? '#' : '|';
    }
    const axis = new Array<string>(width).fill('-');
    const labels = new Array<string>(width).fill(' ');
    for (let d = 0; d < this.profile.high - this.profile.low; d++) {
      const col = Math.floor((d * HIST_RES * width) / this.#buckets);
      axis[col] = '+';
      const text = `|1e${this.profile.low + d}`;
      for (let k = 0; k < text.length && col + k < width; k++) labels[col + k] = text[k];
    }
    const head = `1:${scale}, n = ${this.count}`;
    return [
      `${head}${title.padStart(Math.max(1, width - head.length - 1))}`,
      ...grid.reverse().map((r) => r.join('')),
      axis.join(''),
      labels.join(''),
    ];
  }
}
