// Health probes, with Varnish's semantics: every `.interval` one exchange (see probe-poke.ts)
// is shifted into 64-bit history bitmaps; the backend is healthy while at least `.threshold` of
// the last `.window` exchanges were happy. `.initial` happy results are assumed at creation
// (default threshold - 1, so a new backend turns healthy with its first good probe). Changes of
// health are logged; a cold VCL's probes are stopped.

import type { BackendAddress } from './address.ts';
import { poke, type PokeResult, probeRequestText } from './probe-poke.ts';
import type { TProbe } from '../../vcl/tir.ts';

/** The logger health changes go to: pino's signature, so a pino logger fits. */
export interface HealthLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

/** A probe's settings with Varnish's defaults applied; durations in seconds. */
export interface ProbeSettings {
  readonly url: string | undefined;
  readonly request: readonly string[] | undefined;
  readonly expectedResponse: number;
  readonly timeout: number;
  readonly interval: number;
  readonly window: number;
  readonly threshold: number;
  readonly initial: number;
}

export function probeSettings(p: TProbe): ProbeSettings {
  const threshold = p.threshold ?? 3;
  return {
    url: p.request === undefined ? (p.url ?? '/') : undefined,
    request: p.request,
    expectedResponse: p.expectedResponse ?? 200,
    timeout: p.timeout ?? 2,
    interval: p.interval ?? 5,
    window: p.window ?? 8,
    threshold,
    initial: Math.min(p.initial ?? threshold - 1, threshold),
  };
}

/** The history bitmaps, newest result in bit 0; each letter is what Varnish's log shows for it. */
const BITMAPS = [
  ['goodIpv4', '4'],
  ['goodIpv6', '6'],
  ['goodUnix', 'U'],
  ['errXmit', 'x'],
  ['goodXmit', 'X'],
  ['errRecv', 'r'],
  ['goodRecv', 'R'],
  ['happy', 'H'],
] as const;
export type BitmapName = (typeof BITMAPS)[number][0];

const MASK64 = (1n << 64n) - 1n;
/** How many good probes the running average of response times spans at most. */
const AVG_RATE = 4;

export interface ProbeTarget {
  /** `vcl.backend`, as logs and backend.list name it. */
  readonly name: string;
  /** Where to connect; null while the backend's host name is being resolved. */
  readonly address: () => BackendAddress | null;
  /** The Host header of `.url` probes. */
  readonly hostHeader: string | undefined;
}

export interface ProbeStatus {
  readonly healthy: boolean;
  readonly good: number;
  readonly threshold: number;
  readonly window: number;
  /** Seconds of the last exchange, and the running average of good ones. */
  readonly last: number;
  readonly average: number;
  /** The last response line or error. */
  readonly message: string;
  /** Each history bitmap as 64 characters, oldest first, '-' for unset bits. */
  readonly bitmaps: Readonly<Record<BitmapName, string>>;
}

export class Probe {
  readonly settings: ProbeSettings;
  readonly #target: ProbeTarget;
  readonly #request: string;
  readonly #logger: HealthLogger | undefined;
  readonly #onResult: (changed: boolean) => void;
  readonly #bits: Record<BitmapName, bigint> = {
    goodIpv4: 0n,
    goodIpv6: 0n,
    goodUnix: 0n,
    errXmit: 0n,
    goodXmit: 0n,
    errRecv: 0n,
    goodRecv: 0n,
    happy: 0n,
  };
  #healthy: boolean;
  #good = 0;
  #last = 0;
  #average = 0;
  #rate = 0;
  #message = '';
  #timer: NodeJS.Timeout | null = null;
  #running = false;
  #started = false;

  /** `onResult` runs after each exchange, told whether the health changed. */
  constructor(settings: ProbeSettings, target: ProbeTarget, onResult: (changed: boolean) => void, logger?: HealthLogger) {
    this.settings = settings;
    this.#target = target;
    this.#request = probeRequestText(settings.url, settings.request, target.hostHeader);
    this.#onResult = onResult;
    this.#logger = logger;
    // The assumed results count as good exchanges of no duration, in the average too.
    for (let i = 0; i < settings.initial; i++) {
      this.#bits.happy = ((this.#bits.happy << 1n) | 1n) & MASK64;
      if (this.#rate < AVG_RATE) this.#rate += 1;
    }
    this.#good = this.#countGood();
    this.#healthy = this.#good >= settings.threshold;
  }

  get healthy(): boolean {
    return this.#healthy;
  }

  /** The happy bitmap's low 52 bits, exact as a number (the VBE `happy` counter). */
  get happyBits(): number {
    return Number(this.#bits.happy & ((1n << 52n) - 1n));
  }

  /** Whether probing is on (the VCL is warm). */
  get running(): boolean {
    return this.#timer !== null;
  }

  /** Starts probing: one exchange now, then one every interval. */
  start(): void {
    if (this.#timer !== null) return;
    if (!this.#started) {
      // As Varnish does, the state the backend starts in is logged like a change.
      this.#started = true;
      this.#log(this.#healthy ? 'Went healthy' : 'Went sick', `-------${this.settings.initial > 0 ? 'H' : '-'}`, true);
    }
    this.#schedule(0);
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  status(): ProbeStatus {
    const bitmaps = {} as Record<BitmapName, string>;
    for (const [name, letter] of BITMAPS) {
      bitmaps[name] = this.#bits[name].toString(2).padStart(64, '0').replace(/0/g, '-').replace(/1/g, letter);
    }
    return {
      healthy: this.#healthy,
      good: this.#good,
      threshold: this.settings.threshold,
      window: this.settings.window,
      last: this.#last,
      average: this.#average,
      message: this.#message,
      bitmaps,
    };
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => this.#tick(), delayMs);
    this.#timer.unref();
  }

  #tick(): void {
    // The next exchange is due an interval after this one starts, not after it ends; an
    // exchange still running when the next is due (timeout > interval) makes that one skip.
    this.#schedule(this.settings.interval * 1000);
    if (this.#running) return;
    this.#running = true;
    void poke(this.#target.address(), this.#request, this.settings.expectedResponse, this.settings.timeout * 1000).then((result) => {
      this.#running = false;
      this.#record(result);
    });
  }

  #record(r: PokeResult): void {
    const a = this.#target.address();
    const family = a?.kind === 'unix' ? 'goodUnix' : a?.kind === 'tcp' && a.family === 6 ? 'goodIpv6' : 'goodIpv4';
    const now: Record<BitmapName, boolean> = {
      goodIpv4: family === 'goodIpv4' && r.connected,
      goodIpv6: family === 'goodIpv6' && r.connected,
      goodUnix: family === 'goodUnix' && r.connected,
      errXmit: r.connected && !r.sent,
      goodXmit: r.sent,
      errRecv: r.recvError,
      goodRecv: r.received,
      happy: r.happy,
    };
    let letters = '';
    for (const [name, letter] of BITMAPS) {
      this.#bits[name] = ((this.#bits[name] << 1n) | (now[name] ? 1n : 0n)) & MASK64;
      letters += now[name] ? letter : '-';
    }
    this.#message = r.message;
    if (r.received) this.#last = r.seconds;
    if (r.happy) {
      if (this.#rate < AVG_RATE) this.#rate += 1;
      this.#average += (r.seconds - this.#average) / this.#rate;
    }
    this.#good = this.#countGood();
    const healthy = this.#good >= this.settings.threshold;
    const event = healthy ? (this.#healthy ? 'Still healthy' : 'Went healthy') : this.#healthy ? 'Went sick' : 'Still sick';
    const changed = healthy !== this.#healthy;
    this.#healthy = healthy;
    this.#log(event, letters, changed);
    this.#onResult(changed);
  }

  /** A change goes to info (healthy) or warn (sick); the same state again only to debug. */
  #log(event: string, bits: string, changed: boolean): void {
    const logger = this.#logger;
    if (!logger) return;
    const record = {
      backend: this.#target.name,
      event,
      bits,
      good: this.#good,
      threshold: this.settings.threshold,
      window: this.settings.window,
      last: this.#last,
      average: this.#average,
      response: this.#message,
    };
    const msg = `backend ${this.#target.name}: ${event}`;
    if (!changed) logger.debug?.(record, msg);
    else if (this.#healthy) logger.info(record, msg);
    else logger.warn(record, msg);
  }

  #countGood(): number {
    let bits = this.#bits.happy & ((1n << BigInt(this.settings.window)) - 1n);
    let n = 0;
    while (bits !== 0n) {
      n += Number(bits & 1n);
      bits >>= 1n;
    }
    return n;
  }
}
