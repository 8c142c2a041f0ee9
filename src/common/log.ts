// Logging: the pino logger of the process (level and destination from flags), and the
// per-transaction records: one JSON object per client request and per backend fetch, with the
// VCL calls and returns, std.log lines, timings, handling and bytes.
//
// A record costs nothing unless someone wants it: the proxy asks `hub.begin(...)`, which answers
// null (one boolean read) when the transaction level is off in pino and no live reader is
// attached; every later step is `tx?.call('recv')`. Records go to pino and to live readers (the
// admin connection's log.stream), each with its own query filter and grouping.

import { type DestinationStream, type Level, type Logger, pino } from 'pino';
import type { StepTimes } from './step-times.ts';

// ---- the process logger ----

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** info by default. */
  readonly level?: string;
  /** `stderr` (default), `stdout`, or a file path (appended to). */
  readonly destination?: string;
  /** Write each line before returning (default); false buffers, for heavy transaction logging. */
  readonly sync?: boolean;
  /** Another stream (tests). */
  readonly stream?: DestinationStream;
}

/** Flags a command can declare and pass to loggerOptionsFromFlags. */
export const LOG_FLAGS = {
  '--log-level': { value: true },
  '--log-file': { value: true },
} as const;

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  return openLogger(opts).logger;
}

/**
 * The logger, and `reopen`, which opens its file again by name: after logrotate moved it away,
 * the next lines go to a new file at the path (SIGUSR1 on `shellac serve`). On stderr, stdout or
 * a stream it does nothing.
 */
export function openLogger(opts: LoggerOptions = {}): { logger: Logger; reopen: () => void } {
  const level = opts.level ?? 'info';
  if (!isLogLevel(level)) throw new Error(`unknown log level '${level}' (one of ${LOG_LEVELS.join(', ')})`);
  const dest = opts.destination ?? 'stderr';
  const file = dest !== 'stderr' && dest !== 'stdout' && dest !== '-';
  const sonic = opts.stream
    ? undefined
    : pino.destination({ dest: dest === 'stderr' ? 2 : file ? dest : 1, sync: opts.sync ?? true, mkdir: file });
  // A file that cannot be written (its folder removed, a full disk) is said on stderr; the
  // process goes on.
  sonic?.on('error', (e: Error) => process.stderr.write(`log file ${dest}: ${e.message}\n`));
  const logger = pino({ level, base: { pid: process.pid } }, opts.stream ?? sonic);
  const reopen = (): void => {
    if (!file || !sonic) return;
    try {
      sonic.reopen();
    } catch (e) {
      process.stderr.write(`log file ${dest}: reopen failed: ${(e as Error).message}\n`);
    }
  };
  return { logger, reopen };
}

/** Calls `reopen` on each SIGUSR1, as logrotate's postrotate expects; returns the undo. */
export function reopenOnUsr1(reopen: () => void): () => void {
  const onUsr1 = (): void => reopen();
  process.on('SIGUSR1', onUsr1);
  return () => process.off('SIGUSR1', onUsr1);
}

/** `--log-level` and `--log-file` as parseArgs gives them. */
export function loggerOptionsFromFlags(flags: ReadonlyMap<string, readonly string[]>): LoggerOptions {
  return { level: flags.get('--log-level')?.[0], destination: flags.get('--log-file')?.[0] };
}

/** A logger that writes nothing: the default of library parts nobody configured. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

// ---- transaction records ----

export type TxSide = 'client' | 'backend';

/** A request or response as logged: first line fields and headers in order. */
export interface TxHttp {
  method?: string;
  url?: string;
  proto?: string;
  status?: number;
  reason?: string;
  headers: [string, string][];
}

export interface TxRecord {
  side: TxSide;
  /** This transaction's id (X-Varnish). */
  vxid: number;
  /** The client request a backend fetch works for; the session for a client request. */
  parent?: number;
  /** When it began, seconds since the epoch. */
  start: number;
  /** The VCL it ran on. */
  vcl?: string;
  /** Client side: the peer. */
  client?: { ip: string; port: number };
  /** Backend side: the backend used. */
  backend?: string;
  /** Backend side: the connection the request went out on (BackendOpen). */
  backendOpen?: { fd: number; remoteAddress: string; remotePort: number; localAddress: string; localPort: number; how: string };
  req?: TxHttp;
  resp?: TxHttp;
  bereq?: TxHttp;
  beresp?: TxHttp;
  /** Client: hit, miss, pass, pipe, synth, purge, hitpass, hitmiss. Backend: fetch, error, abandon, retry... */
  handling?: string;
  restarts?: number;
  /** Each VCL subroutine called, in order, with the action it returned. */
  calls: { sub: string; ret: string }[];
  /** std.log lines. */
  logs: string[];
  /**
   * For each std.log line, how many VCL subroutines had been entered when it was logged, so
   * that a reader can place it between the VCL_call and VCL_return it came from.
   */
  logAt?: number[];
  /** VCL failures and fetch errors. */
  errors: string[];
  /** Seconds since start when each step was reached: Start, Req, Fetch, Process, Resp... */
  timings: Record<string, number>;
  /** Head and body bytes received (req) and sent (resp); on the backend side, bereq sent, beresp received. */
  bytes: { reqHdr: number; reqBody: number; respHdr: number; respBody: number };
}

/** Anything with ordered headers: the runtime's VclHttp, or [name, value] pairs. */
/** A transaction filter: what `-q` compiles to (src/mgmt/log-query.ts). */
export type TxPredicate = (r: TxRecord) => boolean;

export type HeaderList =
  | { readonly count: number; nameAt(i: number): string; valueAt(i: number): string }
  | readonly (readonly [string, string])[];

function copyHeaders(h: HeaderList | undefined): [string, string][] {
  if (!h) return [];
  if (Array.isArray(h)) return h.map(([n, v]) => [n, v]);
  const list = h as Exclude<HeaderList, readonly unknown[]>;
  const out: [string, string][] = [];
  for (let i = 0; i < list.count; i++) out.push([list.nameAt(i), list.valueAt(i)]);
  return out;
}

/** Builds one transaction's record; `end()` hands it to the hub once. */
export class TxLog {
  readonly record: TxRecord;
  readonly #hub: LogHub;
  readonly #t0: number;
  #ended = false;

  constructor(hub: LogHub, side: TxSide, vxid: number, parent?: number) {
    this.#hub = hub;
    this.#t0 = performance.now();
    this.record = {
      side,
      vxid,
      parent,
      start: Date.now() / 1000,
      calls: [],
      logs: [],
      errors: [],
      timings: { Start: 0 },
      bytes: { reqHdr: 0, reqBody: 0, respHdr: 0, respBody: 0 },
    };
  }

  /** A VCL subroutine is entered (`recv`, `backend_fetch`...). */
  call(sub: string): void {
    this.record.calls.push({ sub, ret: '' });
  }

  /** The action the last called subroutine returned. */
  ret(action: string): void {
    const last = this.record.calls[this.record.calls.length - 1];
    if (last) last.ret = action;
  }

  /** A std.log line. */
  log(line: string): void {
    this.record.logs.push(line);
    this.record.logAt ??= [];
    this.record.logAt.push(this.record.calls.length);
  }

  /** A VCL failure or fetch error message. */
  error(message: string): void {
    this.record.errors.push(message);
  }

  /** Marks a step (`Req`, `Fetch`, `Process`, `Resp`, `Bereq`, `Beresp`, `BerespBody`...). */
  time(label: string): void {
    this.record.timings[label] = Math.round((performance.now() - this.#t0) * 1000) / 1e6;
  }

  /** Takes a task's step times as its timings (the client side keeps them in one StepTimes). */
  steps(times: StepTimes): void {
    this.record.start = times.start;
    this.record.timings = times.sinceStart();
  }

  req(method: string, url: string, proto: string, headers?: HeaderList): void {
    this.record.req = { method, url, proto, headers: copyHeaders(headers) };
  }

  resp(status: number, reason: string, proto: string, headers?: HeaderList): void {
    this.record.resp = { status, reason, proto, headers: copyHeaders(headers) };
  }

  bereq(method: string, url: string, proto: string, headers?: HeaderList): void {
    this.record.bereq = { method, url, proto, headers: copyHeaders(headers) };
  }

  beresp(status: number, reason: string, proto: string, headers?: HeaderList): void {
    this.record.beresp = { status, reason, proto, headers: copyHeaders(headers) };
  }

  /** Sets a plain field: vcl, client, backend, handling, restarts, parent (when known only later). */
  set<K extends 'vcl' | 'client' | 'backend' | 'backendOpen' | 'handling' | 'restarts' | 'parent'>(key: K, value: TxRecord[K]): void {
    this.record[key] = value;
  }

  /** Adds to the byte counts. */
  bytes(reqHdr: number, reqBody: number, respHdr: number, respBody: number): void {
    const b = this.record.bytes;
    b.reqHdr += reqHdr;
    b.reqBody += reqBody;
    b.respHdr += respHdr;
    b.respBody += respBody;
  }

  /** Finishes the record and hands it to pino and the readers; later calls do nothing. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#hub.emit(this.record);
  }
}

// ---- the fan-out ----

/** A live reader: gets each group of records its filter accepts. */
export interface LogReader {
  /** Records (or, grouped by request, any record of the group) must satisfy it. */
  readonly filter?: TxPredicate;
  /** vxid: each record alone (default); request: a client record with its backend fetches. */
  readonly grouping?: 'vxid' | 'request';
  write(group: readonly TxRecord[]): void;
}

/** How many backend records wait for their client record in request grouping, at most. */
const MAX_WAITING = 1000;

interface AttachedReader {
  readonly reader: LogReader;
  /** request grouping: backend records by the client vxid they wait for. */
  readonly waiting: Map<number, TxRecord[]>;
  /** request grouping: client vxids already written, so a late fetch goes out alone. */
  readonly done: Set<number>;
}

export interface LogHubOptions {
  /** Where records go when its level allows; none: only to readers. */
  readonly logger?: Logger;
  /** The pino level of transaction records: debug by default. */
  readonly txLevel?: Level;
}

export class LogHub {
  /** True when a record would go somewhere; read by begin() and by hot paths. */
  active = false;
  readonly #readers: AttachedReader[] = [];
  readonly #logger: Logger | undefined;
  readonly #txLevel: Level;

  constructor(opts: LogHubOptions = {}) {
    this.#logger = opts.logger;
    this.#txLevel = opts.txLevel ?? 'debug';
    this.#logger?.on('level-change', () => this.#refresh());
    this.#refresh();
  }

  /** A record builder, or null when nobody would read the record. */
  begin(side: TxSide, vxid: number, parent?: number): TxLog | null {
    return this.active ? new TxLog(this, side, vxid, parent) : null;
  }

  /** Attaches a live reader; returns the detach function. */
  attach(reader: LogReader): () => void {
    const a: AttachedReader = { reader, waiting: new Map(), done: new Set() };
    this.#readers.push(a);
    this.#refresh();
    return () => {
      const i = this.#readers.indexOf(a);
      if (i >= 0) this.#readers.splice(i, 1);
      this.#refresh();
    };
  }

  get readerCount(): number {
    return this.#readers.length;
  }

  emit(record: TxRecord): void {
    if (this.#logger?.isLevelEnabled(this.#txLevel)) this.#logger[this.#txLevel](record, 'tx');
    for (const a of this.#readers) deliver(a, record);
  }

  #refresh(): void {
    this.active = this.#readers.length > 0 || (this.#logger?.isLevelEnabled(this.#txLevel) ?? false);
  }
}

function deliver(a: AttachedReader, record: TxRecord): void {
  if (a.reader.grouping !== 'request') {
    writeIfMatch(a.reader, [record]);
    return;
  }
  if (record.side === 'backend' && record.parent !== undefined && !a.done.has(record.parent)) {
    let list = a.waiting.get(record.parent);
    if (!list) {
      if (a.waiting.size >= MAX_WAITING) {
        // The oldest client request never ended (or was not logged): let its fetches go alone.
        const [oldest, records] = a.waiting.entries().next().value as [number, TxRecord[]];
        a.waiting.delete(oldest);
        writeIfMatch(a.reader, records);
      }
      list = [];
      a.waiting.set(record.parent, list);
    }
    list.push(record);
    return;
  }
  const group = [record];
  if (record.side === 'client') {
    group.push(...(a.waiting.get(record.vxid) ?? []));
    a.waiting.delete(record.vxid);
    a.done.add(record.vxid);
    if (a.done.size > MAX_WAITING) a.done.delete(a.done.values().next().value as number);
  }
  writeIfMatch(a.reader, group);
}

function writeIfMatch(reader: LogReader, group: readonly TxRecord[]): void {
  if (!reader.filter || group.some(reader.filter)) reader.write(group);
}
