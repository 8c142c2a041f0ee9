// Runs VTC files: each in a fresh temporary directory with its own macros and instances,
// bounded by a timeout, then reset as varnishtest does (wait for clients, stop servers, stop
// each varnish and check it did not panic), and reported as passed, failed or skipped.
// Several files run at once with `jobs`.

import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { TestContext, VtcAborted, VtcFailure, VtcSkip } from './context.ts';
import { VtcLog } from './log.ts';
import { type Env, runSpec } from './spec.ts';
import { TOP_COMMANDS } from './top.ts';
import { shellacDriver, type VarnishDriver } from './varnish-driver.ts';

export type VtcStatus = 'passed' | 'failed' | 'skipped';

export interface VtcResult {
  readonly file: string;
  readonly status: VtcStatus;
  /** Why it failed or was skipped ("c1: EXPECT resp.status (503) == "200" failed"). */
  readonly reason?: string;
  /** Seconds. */
  readonly duration: number;
  readonly log: readonly string[];
}

export interface VtcSummary {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  /** In the order the files were given; files not run (after a failure without keepGoing) are absent. */
  readonly results: readonly VtcResult[];
}

export interface VtcRunOptions {
  /** Files run at once (varnishtest -j); 1 by default. */
  readonly jobs?: number;
  /** Go on after a failure (-k); otherwise no new file starts once one failed. */
  readonly keepGoing?: boolean;
  /** Seconds one file may take (-t); 60 by default. */
  readonly timeout?: number;
  /** What `varnish vN` starts; Shellac by default. */
  readonly driver?: VarnishDriver;
  /** Where temporary directories go; the OS's by default. */
  readonly tmpRoot?: string;
  /** Keep each test's temporary directory. */
  readonly leaveTemp?: boolean;
  /** Called as each file finishes, in finishing order. */
  readonly onResult?: (r: VtcResult) => void;
}

/** Loopback address and port that refuse connections: a port that was just closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r, j) => {
    s.once('error', j);
    s.listen({ host: '127.0.0.1', port: 0 }, () => r());
  });
  const a = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  if (a === null || typeof a === 'string') throw new Error('no TCP address');
  return a.port;
}

export async function runVtcFile(file: string, opts: VtcRunOptions = {}): Promise<VtcResult> {
  const t0 = performance.now();
  const log = new VtcLog();
  const done = (status: VtcStatus, reason?: string): VtcResult => ({
    file,
    status,
    reason,
    duration: (performance.now() - t0) / 1000,
    log: log.lines(),
  });
  let text: string;
  try {
    text = await readFile(file, 'latin1');
  } catch (e) {
    return done('failed', `cannot read: ${(e as Error).message}`);
  }
  const maxDuration = opts.timeout ?? 60;
  const dir = await mkdtemp(join(opts.tmpRoot ?? tmpdir(), 'vtc.'));
  // varnishd's unprivileged child must reach sockets and files in here.
  await chmod(dir, 0o755);
  const ctx = new TestContext(file, dir, dirname(resolve(file)), { maxDuration, driver: opts.driver ?? shellacDriver() }, log);
  log.emit('top', 1, `TEST ${file} starting`);
  defineBuiltinMacros(ctx, await closedPort());
  const env: Env = { ctx, id: 'top', signal: ctx.signal };

  const timer = setTimeout(() => ctx.record('top', `TEST timed out after ${maxDuration} s`), maxDuration * 1000);
  const stopped = new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }));
  try {
    // Once the test stops, stop waiting: whatever the top level waits for is being torn down.
    await Promise.race([runSpec(env, text, TOP_COMMANDS, undefined).catch((e: unknown) => settle(ctx, e)), stopped]);
    log.emit('top', 1, `RESETTING after ${file}`);
    await reset(ctx);
  } finally {
    clearTimeout(timer);
    await teardown(ctx);
    if (!opts.leaveTemp) await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
  if (ctx.skipReason !== undefined) return done('skipped', ctx.skipReason);
  if (ctx.failure !== undefined) return done('failed', ctx.failure);
  log.emit('top', 1, `TEST ${file} completed`);
  return done('passed');
}

function defineBuiltinMacros(ctx: TestContext, badPort: number): void {
  const m = ctx.macros;
  m.define('pwd', process.cwd());
  m.define('localhost', '127.0.0.1');
  m.define('bad_backend', `127.0.0.1:${badPort}`);
  m.define('bad_ip', '127.0.0.255');
  m.define('listen_addr', '127.0.0.1:0');
  m.define('testdir', ctx.testdir);
  m.define('tmpdir', ctx.tmpdir);
}

/** Turns what ended the top level into the test's outcome. */
function settle(ctx: TestContext, e: unknown): void {
  if (e instanceof VtcFailure || e instanceof VtcSkip || e instanceof VtcAborted) return;
  ctx.record('top', `internal error: ${(e as Error).stack ?? String(e)}`);
}

/** The end of a test that is still good: clients finish, servers stop, each varnish is checked. */
async function reset(ctx: TestContext): Promise<void> {
  try {
    for (const c of ctx.clients.values()) if (c.running) await c.wait();
    for (const s of ctx.servers.values()) await s.break();
    for (const v of ctx.varnishes.values()) {
      if (ctx.signal.aborted) break;
      await v.wait();
    }
  } catch (e) {
    settle(ctx, e);
  }
}

/** Whatever happened: stop what still runs, kill what will not stop, close every socket. */
async function teardown(ctx: TestContext): Promise<void> {
  for (const s of ctx.servers.values()) await s.break().catch(() => {});
  await Promise.all([...ctx.varnishes.values()].map((v) => v.teardown().catch(() => {})));
  for (const f of ctx.cleanups) {
    try {
      f();
    } catch {
      // Closing what is already closed.
    }
  }
}

export async function runVtcFiles(files: readonly string[], opts: VtcRunOptions = {}): Promise<VtcSummary> {
  const jobs = Math.max(1, opts.jobs ?? 1);
  const results: (VtcResult | undefined)[] = new Array(files.length);
  let next = 0;
  let stop = false;
  const worker = async () => {
    while (!stop && next < files.length) {
      const i = next++;
      const r = await runVtcFile(files[i], opts);
      results[i] = r;
      opts.onResult?.(r);
      if (r.status === 'failed' && !opts.keepGoing) stop = true;
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, files.length) }, worker));
  const ran = results.filter((r): r is VtcResult => r !== undefined);
  return {
    passed: ran.filter((r) => r.status === 'passed').length,
    failed: ran.filter((r) => r.status === 'failed').length,
    skipped: ran.filter((r) => r.status === 'skipped').length,
    results: ran,
  };
}

/** The one line varnishtest prints per file: `#    top  TEST b00001.vtc passed (1.234)`. */
export function formatResultLine(r: VtcResult): string {
  const word = r.status === 'failed' ? 'FAILED' : r.status;
  const why = r.reason !== undefined ? ` ${r.reason.split('\n')[0]}` : '';
  return `#    top  TEST ${r.file} ${word} (${r.duration.toFixed(3)})${why}`;
}

export function formatSummary(s: VtcSummary): string {
  return `${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`;
}

