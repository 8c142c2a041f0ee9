// The VMOD platform as a VMOD sees it (re-exported by api.ts): what a VMOD reaches outside one
// request. Its event function's context, its admin commands, event handlers and jobs all get a
// VmodHousekeeping; during a request, `ctx.vmod<Handle>('name')` gives the same handle for the
// running VCL.
//
// The handle belongs to one VMOD in one loaded VCL. Its subscriptions and jobs end when that
// VCL goes cold; its instance counters and commands go when the VCL is discarded. Counters
// named in the manifest (`$Counter`) are the VMOD's own for the life of the process, so a
// reloaded VCL (or rebuilt code) keeps counting where the old one stopped.

import type { TransferListItem } from 'node:worker_threads';
import type { BackendSpec, Director } from './api.ts';
import type { EventPayload, ServerEventName } from './events.ts';

/** The Shellac VMOD API version a manifest's `$ABI MAJOR.MINOR` is checked against. */
export const VMOD_API_VERSION = '2.0';

/** A timed or recurring job: cancel() stops it (a run in progress finishes). */
export interface JobHandle {
  cancel(): void;
  readonly cancelled: boolean;
}

export interface WorkerPoolOptions {
  /** Runs at once in this class, each in its own worker thread. */
  readonly concurrency: number;
  /** Runs waiting beyond that; past it, run() rejects at once. */
  readonly queue: number;
  /** The V8 heap of each worker thread, in MB: a run that needs more fails, not the process. */
  readonly maxMemoryMb?: number;
  /**
   * Lets a thread's event loop run between two runs (timers, setImmediate: work a run leaves
   * for after its answer, as compute's sandbox reset). By default an idle thread blocks until
   * the next run, which answers a little sooner.
   */
  readonly idleEventLoop?: boolean;
}

export interface WorkerRunOptions {
  /** Dropped (rejected) at shutdown instead of being waited for. */
  readonly skipOnShutdown?: boolean;
  /** Objects moved to the worker instead of copied (ArrayBuffers...). */
  readonly transfer?: readonly TransferListItem[];
  /** A run (waiting included) that takes longer is aborted: it rejects and its thread is replaced. */
  readonly timeoutMs?: number;
}

/**
 * A class of worker jobs (Momentum's job classes): a module's exported function runs in a
 * worker thread, at most `concurrency` at once, `queue` more waiting. The function takes one
 * structured-cloneable argument and returns (or resolves to) one.
 */
export interface WorkerPool {
  readonly name: string;
  run<T = unknown>(module: string | URL, fn: string, arg?: unknown, opts?: WorkerRunOptions): Promise<T>;
  /** Runs in progress and waiting, now. */
  readonly running: number;
  readonly queued: number;
}

/** What a VMOD says it holds, for the `memory` report and its `max_memory` parameter. */
export interface MemoryAccount {
  /**
   * Accounts `bytes` more; false (and nothing accounted) when that would pass the VMOD's
   * `$Param max_memory BYTES`, if it declares one.
   */
  reserve(bytes: number): boolean;
  release(bytes: number): void;
  readonly bytes: number;
}

/** What commands, jobs, event handlers and the event function get. */
export interface VmodHousekeeping<C extends object = Record<string, number>, P extends object = Record<string, unknown>> {
  /** The VMOD's name. */
  readonly module: string;
  /**
   * The key of the PRIV_TASK and PRIV_TOP holders this VMOD's functions get in this VCL:
   * `ctx.privTask(handle.privKey)` reaches them from a method too (methods' own holders are
   * keyed by their object: `ctx.privTask(this)`).
   */
  readonly privKey: object;
  readonly vclName: string;
  /** A log line (the process log, at info), naming the VMOD and the VCL. */
  log(message: string): void;
  /** A core parameter (`default_ttl`) or one of any VMOD (`ratelimit.burst`), or undefined. */
  param(name: string): unknown;
  /** One of this VMOD's own `$Param`s, by its short name. */
  own<K extends keyof P & string>(name: K): P[K];
  /** Called after a `param.set` or `param.reset` of one of this VMOD's parameters. */
  onParamChange(name: keyof P & string, fn: (value: unknown) => void): () => void;
  /** The VMOD's `$Counter`s: bump a field (`counters.denied++`), one integer add. */
  readonly counters: C;
  /** The `$Counter`s of one object instance, shown as `<MODULE>.<instance>.<NAME>`. */
  instanceCounters(instance: string): C;
  /** Subscribes to a server event; see docs/writing-a-vmod.md for each event's fields. */
  subscribe(event: ServerEventName, version: number, handler: (payload: EventPayload) => void | Promise<void>): () => void;
  /** Runs `fn` once after `seconds`. */
  after(seconds: number, fn: (ctx: VmodHousekeeping<C, P>) => void | Promise<void>): JobHandle;
  /** Runs `fn` every `seconds` (the next run is timed from the end of the previous one). */
  every(seconds: number, fn: (ctx: VmodHousekeeping<C, P>) => void | Promise<void>): JobHandle;
  /** The worker pool of a job class; the first call of a class sets its limits. */
  pool(jobClass: string, opts: WorkerPoolOptions): WorkerPool;
  readonly memory: MemoryAccount;
  /** Adds a ban; null, or why it was refused. */
  ban(expression: string): string | null;
  /**
   * Purges the object (and its variants) a request for `url` with Host `host` finds when
   * vcl_hash is the builtin one (url, then host); soft with a ttl, grace or keep. Returns how
   * many objects it hit.
   */
  purge(url: string, host: string, options?: { ttl?: number; grace?: number; keep?: number }): number;
  /** Makes a backend owned by this VCL, as VmodContext.newBackend does. */
  newBackend(spec: BackendSpec): Director;
  deleteBackend(backend: Director): void;
}

/** What a `$Command` handler gets: the housekeeping context and whether -j was given. */
export interface VmodCommandContext<C extends object = Record<string, number>, P extends object = Record<string, unknown>>
  extends VmodHousekeeping<C, P> {
  readonly json: boolean;
}

/**
 * A `$Command` handler: returns its answer (a string is the text; anything else is shown as
 * JSON, in varnishd's JSON envelope with -j). Throwing fails the command (status 300).
 */
export type VmodCommandHandler<C extends object = Record<string, number>, P extends object = Record<string, unknown>> = (
  ctx: VmodCommandContext<C, P>,
  args: readonly string[],
) => unknown;
