// The state of one running test: its macros, log, temporary directory, the entities it has
// declared (servers, clients, varnish instances, barriers) and the one switch that stops
// everything. varnishtest runs entities as threads and ends the process on the first failure;
// here they are async tasks sharing an AbortController, and the first failure trips it.

import type { Barrier } from './barrier.ts';
import type { VtcClient } from './client.ts';
import type { VtcLog } from './log.ts';
import { Macros } from './macros.ts';
import type { VtcServer } from './server.ts';
import type { VarnishDriver } from './varnish-driver.ts';
import type { VtcVarnish } from './varnish.ts';

/** Thrown by the entity that fails the test; the failure is already recorded. */
export class VtcFailure extends Error {
  override name = 'VtcFailure';
}

/** Thrown when a `feature` the test needs is missing: the test is skipped, as varnishtest does. */
export class VtcSkip extends Error {
  override name = 'VtcSkip';
}

/** Thrown out of waits once the test is stopping because something else failed. */
export class VtcAborted extends Error {
  override name = 'VtcAborted';
}

export interface TestSettings {
  /** Seconds a test may run (varnishtest's -t); I/O timeouts derive from it. */
  readonly maxDuration: number;
  /** What `varnish vN` starts: real varnishd or Shellac. */
  readonly driver: VarnishDriver;
}

export class TestContext {
  readonly macros = new Macros();
  readonly log: VtcLog;
  readonly file: string;
  readonly tmpdir: string;
  readonly testdir: string;
  readonly settings: TestSettings;
  readonly servers = new Map<string, VtcServer>();
  readonly clients = new Map<string, VtcClient>();
  readonly varnishes = new Map<string, VtcVarnish>();
  readonly barriers = new Map<string, Barrier>();
  /** Environment variables set by `setenv`, for the processes the test starts. */
  readonly env: Record<string, string> = {};
  /** Sockets and other things to close when the test ends, whatever happened. */
  readonly cleanups = new Set<() => void>();
  readonly #stop = new AbortController();
  #failure: string | undefined;
  #skip: string | undefined;

  constructor(file: string, tmpdir: string, testdir: string, settings: TestSettings, log: VtcLog) {
    this.file = file;
    this.tmpdir = tmpdir;
    this.testdir = testdir;
    this.settings = settings;
    this.log = log;
  }

  get signal(): AbortSignal {
    return this.#stop.signal;
  }

  get failure(): string | undefined {
    return this.#failure;
  }

  get skipReason(): string | undefined {
    return this.#skip;
  }

  /** Default read timeout of an HTTP session, in ms: half the test's duration, as varnishtest. */
  get ioTimeoutMs(): number {
    return (this.settings.maxDuration * 1000) / 2;
  }

  /** Records the first failure, stops every entity and throws. */
  fail(id: string, msg: string): never {
    this.record(id, msg);
    throw new VtcFailure(msg);
  }

  /** Records a failure and stops every entity, for callers outside any awaiting path. */
  record(id: string, msg: string): void {
    if (this.#failure === undefined && this.#skip === undefined) {
      this.#failure = `${id}: ${msg}`;
      this.log.emit(id, 0, msg);
    } else {
      this.log.emit(id, 1, `(after the test stopped) ${msg}`);
    }
    this.#stop.abort();
  }

  /** Ends the test as skipped. */
  skip(id: string, reason: string): never {
    if (this.#failure === undefined && this.#skip === undefined) {
      this.#skip = reason;
      this.log.emit(id, 1, `SKIPPING test: ${reason}`);
    }
    this.#stop.abort();
    throw new VtcSkip(reason);
  }

}

/**
 * An entity's work run in the background (a client, a server, a logexpect): the errors that
 * only mean the test is over end it quietly (a failure is recorded already), anything else is
 * recorded as an internal error of that entity.
 */
export function inBackground(ctx: TestContext, id: string, work: Promise<unknown>): Promise<void> {
  return work.then(
    () => {},
    (e: unknown) => {
      if (e instanceof VtcFailure || e instanceof VtcAborted || e instanceof VtcSkip) return;
      ctx.record(id, `internal error: ${(e as Error).stack ?? String(e)}`);
    },
  );
}

/** Waits `ms`, or throws VtcAborted as soon as `signal` fires. */
export function sleep(signal: AbortSignal, ms: number): Promise<void> {
  return abortable(signal, (resolve) => {
    const t = setTimeout(resolve, ms);
    return () => clearTimeout(t);
  });
}

/**
 * A promise that settles through `start` (which returns its own cleanup) or rejects with
 * VtcAborted when `signal` fires first.
 */
export function abortable<T = void>(
  signal: AbortSignal,
  start: (resolve: (v: T) => void, reject: (e: unknown) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) {
      reject(new VtcAborted('test stopped'));
      return;
    }
    let done = false;
    let cleanup: (() => void) | undefined;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      signal.removeEventListener('abort', onAbort);
      cleanup?.();
      return true;
    };
    const onAbort = () => {
      if (finish()) reject(new VtcAborted('test stopped'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    cleanup = start(
      (v) => {
        if (finish()) resolve(v);
      },
      (e) => {
        if (finish()) reject(e);
      },
    );
    // Settled during start: its cleanup was not known yet when finish() ran.
    if (done) cleanup();
  });
}
