// The transaction log of one Shellac instance under test, as logexpect reads it. Varnish's
// logexpect reads the shared-memory log; Shellac has none, so the runner opens a second admin
// connection to the instance and streams its transaction records (log.stream), keeping every
// record of the test in order. A logexpect then reads from the head of this list (-d 1) or from
// where it stood when the logexpect started (-d 0). The stream is opened as soon as the
// instance runs when the test uses logexpect at all, so that -d 1 sees the first request.

import { readFileSync } from 'node:fs';
import { AdminClient } from '../mgmt/admin-client.ts';
import type { TxRecord } from '../mgmt/log.ts';
import type { TestContext } from './context.ts';
import type { VtcVarnish } from './varnish.ts';

/** Records kept per instance at most: a test that logs more is failed rather than trimmed. */
const MAX_RECORDS = 100_000;

export class LogFeed {
  readonly records: TxRecord[] = [];
  /** Backend transactions by the client request they fetch for: the Link lines of that request. */
  readonly fetches = new Map<number, number[]>();
  /** Why the feed stopped early: records were dropped, the connection failed. */
  broken: string | undefined;
  closed = false;
  /** Stopped because the test is over: a logexpect still reading ends quietly. */
  testOver = false;
  #wake = new Set<() => void>();

  add(r: TxRecord): void {
    if (this.records.length >= MAX_RECORDS) {
      this.stop(`more than ${MAX_RECORDS} transaction records`);
      return;
    }
    this.records.push(r);
    if (r.side === 'backend' && r.parent !== undefined) {
      const list = this.fetches.get(r.parent) ?? [];
      list.push(r.vxid);
      this.fetches.set(r.parent, list);
    }
    this.#notify();
  }

  stop(why?: string): void {
    this.broken ??= why;
    this.closed = true;
    this.#notify();
  }

  /** Calls `fn` once, when a record arrives or the feed stops; returns the way to cancel that. */
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
const opened = new WeakMap<VtcVarnish, LogFeed>();

/** The instance's feed if it is open already: where a logexpect with -d 0 starts reading. */
export function openedFeed(v: VtcVarnish): LogFeed | undefined {
  return opened.get(v);
}
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

/** The instance's feed, opened on first use; throws when the instance cannot stream records. */
export function logFeed(v: VtcVarnish): Promise<LogFeed> {
  let feed = feeds.get(v);
  if (!feed) {
    feed = openFeed(v);
    feeds.set(v, feed);
  }
  return feed;
}

async function openFeed(v: VtcVarnish): Promise<LogFeed> {
  const o = v.launchOptions;
  if (!v.ctx.settings.driver.logStream) {
    throw new Error(`unsupported: logexpect on ${v.ctx.settings.driver.name} (the runner reads Shellac's transaction records)`);
  }
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
  opened.set(v, feed);
  void (async () => {
    try {
      for await (const f of client.frames()) {
        if (f.status !== 200) {
          feed.stop(`the instance dropped transaction records: ${f.body.trim()}`);
          break;
        }
        for (const rec of JSON.parse(f.body) as TxRecord[]) feed.add(rec);
      }
    } catch (e) {
      feed.stop(`log stream failed: ${(e as Error).message}`);
    }
    feed.stop();
  })();
  return feed;
}
