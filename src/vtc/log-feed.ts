// The transaction log of one instance under test, as logexpect reads it: every transaction
// that ended, in order, as varnishlog's tagged lines. Varnish's logexpect reads the shared-memory
// log; the runner reads what each kind of instance offers:
// - Shellac: a second admin connection streams its transaction records (log.stream), each
//   turned into lines by the code `shellac log` prints with (mgmt/log-text.ts);
// - real varnishd: `varnishlog -d -g raw`, read again and again, gathered into transactions.
// A logexpect reads all of it (-d 1) or the transactions that ended after it started (-d 0).
// Shellac's log is streamed from the instance's launch when the test uses logexpect at all,
// so that -d 1 sees the first request.

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { AdminClient } from '../mgmt/admin-client.ts';
import type { TxRecord } from '../common/log.ts';
import { type VslLine, vslLines } from '../mgmt/log-text.ts';
import type { TestContext } from './context.ts';
import type { VtcVarnish } from './varnish.ts';

/** One transaction, whole. */
export interface LogTx {
  readonly vxid: number;
  /** What it is, from its Begin line: req, bereq, sess. */
  readonly kind: string;
  /** The transaction it belongs to (Begin's second word): the session of a request, the request of a fetch. */
  readonly parent: number;
  readonly lines: readonly VslLine[];
  /** When it ended, seconds since the epoch: its last Timestamp, else when it was read. */
  readonly ended: number;
}

/** The latest time a transaction's Timestamp lines give (`Label: ABSOLUTE ...`), or undefined. */
function lastTimestamp(lines: readonly VslLine[]): number | undefined {
  let last: number | undefined;
  for (const [tag, data] of lines) {
    if (tag !== 'Timestamp') continue;
    const t = Number(data.split(' ')[1]);
    if (Number.isFinite(t)) last = Math.max(last ?? t, t);
  }
  return last;
}

/** Transactions kept per instance at most: a test that logs more fails rather than trims. */
const MAX_TXS = 100_000;

export class LogFeed {
  readonly txs: LogTx[] = [];
  /** Why the feed stopped early: records were dropped, the source failed. */
  broken: string | undefined;
  closed = false;
  /** Stopped because the test is over: a logexpect still reading ends quietly. */
  testOver = false;
  #wake = new Set<() => void>();

  add(tx: LogTx): void {
    if (this.txs.length >= MAX_TXS) {
      this.stop(`more than ${MAX_TXS} transactions`);
      return;
    }
    this.txs.push(tx);
    this.#notify();
  }

  stop(why?: string): void {
    this.broken ??= why;
    this.closed = true;
    this.#notify();
  }

  /** Calls `fn` once, when a transaction arrives or the feed stops; returns the way to cancel that. */
  onNext(fn: () => void): () => void {
    this.#wake.add(fn);
    return () => this.#wake.delete(fn);
  }

  #notify(): void {
    const waiting = [...this.#wake];
    this.#wake.clear();
    for (const w of waiting) w();
  }
}

const feeds = new WeakMap<VtcVarnish, Promise<LogFeed>>();
const usesLogexpect = new WeakMap<TestContext, boolean>();

/** Whether the test file has a logexpect command anywhere: then each instance is logged from its start. */
export function testUsesLogexpect(ctx: TestContext): boolean {
  let uses = usesLogexpect.get(ctx);
  if (uses === undefined) {
    try {
      uses = /^\s*logexpect\s/m.test(readFileSync(ctx.file, 'latin1'));
    } catch {
      uses = false;
    }
    usesLogexpect.set(ctx, uses);
  }
  return uses;
}

/** The instance's feed, opened on first use; rejects when the log cannot be read. */
export function logFeed(v: VtcVarnish): Promise<LogFeed> {
  let feed = feeds.get(v);
  if (!feed) {
    feed = v.ctx.settings.driver.log === 'admin' ? openAdminFeed(v) : openVarnishlogFeed(v);
    feeds.set(v, feed);
  }
  return feed;
}

async function openAdminFeed(v: VtcVarnish): Promise<LogFeed> {
  const o = v.launchOptions;
  if (!o) throw new Error(`${v.name} is not running`);
  const client = await AdminClient.connect({ host: o.cliHost, port: o.cliPort, secretFile: o.secretFile });
  const feed = new LogFeed();
  v.ctx.cleanups.add(() => {
    feed.testOver = true;
    feed.stop();
    client.close();
  });
  const r = await client.command(['log.stream', '-g', 'vxid']);
  if (r.status !== 200) {
    client.close();
    throw new Error(`log.stream failed (${r.status}): ${r.body.trim()}`);
  }
  // A request's Link lines name the fetches that ended before it did (a fetch ends first).
  const fetches = new Map<number, number[]>();
  void (async () => {
    try {
      for await (const f of client.frames()) {
        if (f.status !== 200) {
          feed.stop(`the instance dropped transaction records: ${f.body.trim()}`);
          break;
        }
        for (const rec of JSON.parse(f.body) as TxRecord[]) {
          if (rec.side === 'backend' && rec.parent !== undefined) fetches.set(rec.parent, [...(fetches.get(rec.parent) ?? []), rec.vxid]);
          const lines = vslLines(rec, fetches.get(rec.vxid));
          const ended = lastTimestamp(lines) ?? Date.now() / 1000;
          feed.add({ vxid: rec.vxid, kind: rec.side === 'client' ? 'req' : 'bereq', parent: rec.parent ?? 0, lines, ended });
        }
      }
    } catch (e) {
      feed.stop(`log stream failed: ${(e as Error).message}`);
    }
    feed.stop();
  })();
  return feed;
}

/**
 * Real varnishd's log, read by `varnishlog -d -g raw` (the whole log, then exit) every
 * POLL_MS: `VXID TAG SIDE DATA` lines gathered per vxid, and each transaction whose End is
 * there added once, in the log's order. A varnishlog that follows the log would miss what
 * happens before it attaches; reading from the head each time misses nothing.
 */
async function openVarnishlogFeed(v: VtcVarnish): Promise<LogFeed> {
  const feed = new LogFeed();
  const seen = new Set<number>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const poll = (): Promise<void> => {
    running ??= dumpLog(v.workdir)
      .then((txs) => {
        for (const tx of txs) {
          if (seen.has(tx.vxid)) continue;
          seen.add(tx.vxid);
          feed.add(tx);
        }
      })
      .catch((e: Error) => feed.stop(`varnishlog: ${e.message}`))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const loop = () => {
    timer = setTimeout(() => void poll().then(() => feed.closed || loop()), POLL_MS);
  };
  v.ctx.cleanups.add(() => {
    clearTimeout(timer);
    feed.testOver = true;
    feed.stop();
  });
  await poll();
  loop();
  return feed;
}

const POLL_MS = 100;

/** The log so far; nothing while there is none yet (varnishlog waits for a child to start: it is stopped). */
function dumpLog(workdir: string): Promise<LogTx[]> {
  return new Promise((resolve, reject) => {
    const opts = { encoding: 'latin1' as const, maxBuffer: 256 * 1024 * 1024, timeout: DUMP_TIMEOUT_MS };
    execFile('varnishlog', ['-n', workdir, '-g', 'raw', '-d', '-t', 'off'], opts, (err, stdout) => {
      if (err && (err as { killed?: boolean }).killed) resolve([]);
      else if (err) reject(err);
      else resolve(parseRaw(stdout));
    });
  });
}

const DUMP_TIMEOUT_MS = 3000;

/** Whole transactions of `varnishlog -g raw` output, in the order their End lines come. */
function parseRaw(text: string): LogTx[] {
  const open = new Map<number, { kind: string; parent: number; lines: VslLine[] }>();
  const out: LogTx[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+) (\S+)\s+[cbs-] ?(.*)$/.exec(line);
    if (!m || m[1] === '0') continue;
    const vxid = Number(m[1]);
    const [tag, data] = [m[2], m[3].trimEnd()];
    let tx = open.get(vxid);
    if (!tx) {
      tx = { kind: '', parent: 0, lines: [] };
      open.set(vxid, tx);
    }
    if (tag === 'Begin') {
      const [kind, parent] = data.split(' ');
      tx.kind = kind ?? '';
      tx.parent = Number(parent ?? 0);
    }
    tx.lines.push([tag, data]);
    if (tag === 'End') {
      open.delete(vxid);
      out.push({ vxid, ...tx, ended: lastTimestamp(tx.lines) ?? Date.now() / 1000 });
    }
  }
  return out;
}
