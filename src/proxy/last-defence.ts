// The last line of defence: an error that escapes every catch (a VMOD's timer that throws, a
// promise it rejects and never awaits, a bug of ours in a callback) would end node's process,
// and the whole cache with it. Once the server is serving, such an error is counted
// (MAIN.uncaught_error), logged with the xid of the request it came from, and ends that request
// (a 503 if nothing was sent yet) and its connection; the process serves on. Before serving
// starts nothing is installed: a crash at start-up stays a crash, with node's own report.
//
// Which request an error came from: the client request runs inside `requestXid.run(xid)`, and
// node carries that value into everything the request starts (timers, promises, fetches), so
// the handlers read it back. A frame per request costs about a tenth of a hit, so a request
// enters one only where it may wait on a VMOD, or from its first await on (client.ts `run`;
// the figures are in docs/operations.md).

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';

/** The xid of the client request whose code runs now, or undefined outside one. */
export const requestXid = new AsyncLocalStorage<number>();

export interface DefenceCounters {
  uncaught_error: number;
}

/** What the defence ends: a request still in flight, found by its xid. */
export interface AbortableRequests {
  /** Ends the request with this xid and closes its connection; false when it is not in flight. */
  abortRequest(xid: number): boolean;
}

/** At most this many errors are logged each second; the rest are counted and summed up. */
const LOGGED_PER_SECOND = 10;

export interface LastDefence {
  readonly counters: DefenceCounters;
  /** Takes the handlers off again (tests, shutdown). */
  uninstall(): void;
}

export function installLastDefence(requests: AbortableRequests, logger: Logger): LastDefence {
  const counters: DefenceCounters = { uncaught_error: 0 };
  let second = 0;
  let logged = 0;
  let suppressed = 0;
  const caught = (kind: 'uncaught exception' | 'unhandled rejection', err: unknown): void => {
    counters.uncaught_error++;
    const xid = requestXid.getStore();
    let ended = false;
    try {
      ended = xid !== undefined && requests.abortRequest(xid);
    } catch (e) {
      logger.error({ err: e, xid }, 'last line of defence: could not end the request');
    }
    const now = Math.floor(Date.now() / 1000);
    if (now !== second) {
      second = now;
      logged = 0;
    }
    if (++logged > LOGGED_PER_SECOND) {
      suppressed++;
      return;
    }
    const more = suppressed;
    suppressed = 0;
    const where = xid === undefined ? 'outside any request' : ended ? `request ${xid} ended` : `request ${xid} (already over)`;
    logger.error({ err, xid, ended, ...(more > 0 ? { suppressed: more } : {}) }, `${kind} caught, ${where}; serving on`);
  };
  const onException = (err: unknown): void => caught('uncaught exception', err);
  const onRejection = (reason: unknown): void => caught('unhandled rejection', reason);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return {
    counters,
    uninstall: () => {
      process.off('uncaughtException', onException);
      process.off('unhandledRejection', onRejection);
    },
  };
}
