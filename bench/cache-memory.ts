// Cache memory: what the process really holds against what `-s` promises. Fills Shellac (and
// varnishd in the same run, when installed) with the loads one after another: small
// objects, 10 KB objects, 1 MB objects, then a mix; after each, prints RSS, SMA g_bytes,
// n_object, the fill's rate (objects per second, evictions included), RSS beyond the bound, and
// Shellac's GC pauses during the fill (from --trace-gc: the longest, and how many passed 50 ms).
// Counts are scaled by --scale (1 = the issue's: 1,000,000 × 200 B, 100,000 × 10 KB, 300 × 1 MB,
// a mix of 100,000) and each fill stops at --max-seconds. While each fill runs, one client asks
// for 100 hot URLs (cached before the fill) in a loop: their p50/p99 is the hit latency while
// the cache evicts. RSS is the cache process's (the manager's child for both servers).
// `--soak SECONDS` then runs the soak on each server in turn (wrk -c20, 10,000 URLs of
// 1 KB plus 20% unique ones) and prints RSS every 10 s, req/s, p99 and the cache process's CPU
// per request (all its threads, and its main thread: Shellac's event loop; varnishd's main
// thread does not serve requests).
// Run: `node bench/cache-memory.ts [--size 256m] [--scale 0.1] [--concurrency 32]
// [--only shellac|varnish] [--soak 120] [--no-fill] [--storage malloc|file] [--node-flags '...']`.

import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const { values: opts } = parseArgs({
  options: {
    size: { type: 'string', default: '256m' },
    scale: { type: 'string', default: '0.1' },
    concurrency: { type: 'string', default: '32' },
    'max-seconds': { type: 'string', default: '120' },
    only: { type: 'string', multiple: true },
    soak: { type: 'string', default: '0' },
    'no-fill': { type: 'boolean', default: false },
    storage: { type: 'string', default: 'malloc' },
    /** V8 flags for Shellac's processes (the child inherits them), to try heap settings. */
    'node-flags': { type: 'string', default: '' },
  },
});
const SOAK_SECONDS = Number(opts.soak);
const STORAGE_DIR = mkdtempSync(join(tmpdir(), 'cache-memory-storage-'));
const SCALE = Number(opts.scale);
const CONCURRENCY = Number(opts.concurrency);
const MAX_MS = Number(opts['max-seconds']) * 1000;
const SIZE_BYTES = Number.parseInt(opts.size, 10) * ({ k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[opts.size.slice(-1).toLowerCase()] ?? 1);
const want = (name: string): boolean => opts.only === undefined || opts.only.includes(name);

/** The loads, in order: a URL prefix, a body size per object (or a size picker), a count. */
const LOADS: readonly { readonly name: string; readonly count: number; readonly size: (i: number) => number }[] = [
  { name: '200 B objects', count: Math.round(1_000_000 * SCALE), size: () => 200 },
  { name: '10 KB objects', count: Math.round(100_000 * SCALE), size: () => 10 * 1024 },
  { name: '1 MB objects', count: Math.max(30, Math.round(300 * SCALE)), size: () => 1024 * 1024 },
  { name: 'a mix', count: Math.round(100_000 * SCALE), size: (i) => [200, 2000, 10 * 1024, 100 * 1024][i % 4] },
];

const children: ChildProcess[] = [];
const cleanups: (() => void)[] = [];
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  for (const f of cleanups) f();
  rmSync(STORAGE_DIR, { recursive: true, force: true });
});

/** `-s` for both servers: malloc, or a file of the same size in a scratch directory. */
function storageFlag(): string {
  return opts.storage === 'file' ? `file,${STORAGE_DIR},${opts.size}` : `malloc,${opts.size}`;
}

async function startOrigin(): Promise<number> {
  const server = createServer((req, res) => {
    const size = Number(/^\/(\d+)\//.exec(req.url ?? '')?.[1] ?? '0');
    res.writeHead(200, { 'Content-Length': String(size), 'Cache-Control': 'max-age=3600' });
    res.end(Buffer.alloc(size, 'x'));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => server.close());
  return (server.address() as AddressInfo).port;
}

function freePort(): Promise<number> {
  const s = createServer();
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => {
    const { port } = s.address() as AddressInfo;
    s.close(() => resolve(port));
  }));
}

interface Target {
  readonly name: string;
  readonly port: number;
  readonly pid: number;
  counters(): Promise<{ gBytes: number; nObject: number }>;
  /** GC pauses (ms) since the last call, from --trace-gc; null for a process without one. */
  takeGcPauses(): number[] | null;
}

/** `... Mark-Compact 300.1 (310.2) -> 250.3 (260.1) MB, 85.23 / 0.00 ms ...`: the pause is the first figure. */
const GC_LINE = /: (?:Scavenge|Mark-Compact|Minor Mark-Sweep|Mark-Sweep)\b.*?MB, (?:pooled: \S+ MB, )?([\d.]+) \/ [\d.]+ ms/;

async function startShellac(originPort: number): Promise<Target> {
  const port = await freePort();
  const metricsPort = await freePort();
  const flags = opts['node-flags'].split(' ').filter((f) => f !== '');
  const child = spawn(process.execPath, ['--trace-gc', ...flags, 'src/cli/main.ts', 'serve', '-a', `127.0.0.1:${port}`, '-b', `127.0.0.1:${originPort}`, '-s', storageFlag(), '-p', `metrics_listen=127.0.0.1:${metricsPort}`], { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(child);
  let pauses: number[] = [];
  let partial = '';
  child.stdout!.on('data', (b: Buffer) => {
    const lines = (partial + b.toString()).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const m = GC_LINE.exec(line);
      if (m) pauses.push(Number(m[1]));
    }
  });
  await waitUp(port);
  const group = opts.storage === 'file' ? 'smf' : 'sma';
  return {
    name: 'shellac',
    takeGcPauses() {
      const taken = pauses;
      pauses = [];
      return taken;
    },
    port,
    get pid() {
      return cacheProcess(child.pid!);
    },
    async counters() {
      const text = await fetchText(metricsPort, '/metrics');
      const pick = (re: RegExp) => Number(re.exec(text)?.[1] ?? Number.NaN);
      return { gBytes: pick(new RegExp(`^shellac_${group}_g_bytes(?:_bytes)?\\{storage="s0"\\} (\\S+)`, 'm')), nObject: pick(/^shellac_main_n_object (\S+)/m) };
    },
  };
}

async function startVarnish(originPort: number): Promise<Target | null> {
  const varnishd = existsSync('/usr/sbin/varnishd') ? '/usr/sbin/varnishd' : null;
  if (varnishd === null) return null;
  const port = await freePort();
  const workdir = mkdtempSync(join(tmpdir(), 'cache-memory-varnish-'));
  rmSync(workdir, { recursive: true });
  cleanups.push(() => rmSync(workdir, { recursive: true, force: true }));
  const child = spawn(varnishd, ['-F', '-a', `127.0.0.1:${port}`, '-b', `127.0.0.1:${originPort}`, '-n', workdir, '-s', storageFlag()], { stdio: 'ignore' });
  children.push(child);
  await waitUp(port);
  const stat = (): Record<string, { value: number }> => {
    const out = execFileSync('varnishstat', ['-n', workdir, '-1', '-j', '-f', `${group}.s0.g_bytes`, '-f', 'MAIN.n_object'], { encoding: 'utf8' });
    const j = JSON.parse(out) as { counters?: Record<string, { value: number }> } & Record<string, { value: number }>;
    return j.counters ?? j;
  };
  const group = opts.storage === 'file' ? 'SMF' : 'SMA';
  return {
    name: 'varnishd',
    takeGcPauses: () => null,
    port,
    get pid() {
      return cacheProcess(child.pid!);
    },
    async counters() {
      const s = stat();
      return { gBytes: s[`${group}.s0.g_bytes`]?.value ?? Number.NaN, nObject: s['MAIN.n_object']?.value ?? Number.NaN };
    },
  };
}

async function waitUp(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await fetchText(port, '/0/up');
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`nothing listening on ${port}`);
}

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });

function fetchText(port: number, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** The cache process: the manager's child (varnishd's and Shellac's both fork one), else itself. */
function cacheProcess(pid: number): number {
  try {
    const kids = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n');
    return Number(kids[0]) || pid;
  } catch {
    return pid;
  }
}

/**
 * CPU time of a process (all its threads) and of its main thread so far, in µs (/proc, in
 * ticks of 10 ms): a soak's cost per request, beside its rate.
 */
function cpuUs(pid: number): { all: number; main: number } {
  const ticks = (file: string): number => {
    const f = readFileSync(file, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat; `rest` starts at field 3.
    return Number(rest[11]) + Number(rest[12]);
  };
  return { all: ticks(`/proc/${pid}/stat`) * 10_000, main: ticks(`/proc/${pid}/task/${pid}/stat`) * 10_000 };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** Requests `count` distinct objects, CONCURRENCY at a time; stops at MAX_MS. */
async function fill(t: Target, load: (typeof LOADS)[number], tag: number): Promise<{ done: number; ms: number; errors: number }> {
  const started = performance.now();
  let next = 0;
  let errors = 0;
  const worker = async (): Promise<void> => {
    while (next < load.count && performance.now() - started < MAX_MS) {
      const i = next++;
      // A body cut short (its storage could not make room) counts as an error, not a crash.
      await fetchText(t.port, `/${load.size(i)}/${tag}/${i}`).catch(() => errors++);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { done: next, ms: performance.now() - started, errors };
}

/** The hot URLs a hit loop asks for during each fill; fetched once before it. */
const HOT = Array.from({ length: 100 }, (_, i) => `/1024/hot/${i}`);

/** Asks for the hot URLs one after another until `stop()`; returns each request's milliseconds. */
function hitLoop(t: Target): { stop: () => Promise<number[]> } {
  const times: number[] = [];
  let running = true;
  const loop = (async () => {
    for (let i = 0; running; i++) {
      const t0 = performance.now();
      await fetchText(t.port, HOT[i % HOT.length]).catch(() => {});
      times.push(performance.now() - t0);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return times;
    },
  };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function latencySummary(times: number[]): string {
  const sorted = times.slice().sort((a, b) => a - b);
  return `${percentile(sorted, 0.5).toFixed(2)} / ${percentile(sorted, 0.99).toFixed(2)} ms (${sorted.length})`;
}

/**
 * The soak: wrk -c20 for SOAK_SECONDS over 10,000 URLs of 1 KB, one request in five to a
 * URL never asked before; RSS every 10 s. Returns the lines to print.
 */
async function soak(t: Target, tag: string): Promise<string[]> {
  const script = join(STORAGE_DIR, `soak-${tag}.lua`);
  writeFileSync(
    script,
    `local n = 0
local thread_id = 0
setup = function(thread) thread:set("id", thread_id); thread_id = thread_id + 1 end
init = function() math.randomseed(os.time() + id * 7919) end
request = function()
  n = n + 1
  if math.random(5) == 1 then return wrk.format("GET", "/1024/${tag}u/" .. id .. "/" .. n) end
  return wrk.format("GET", "/1024/${tag}k/" .. math.random(10000))
end
`,
  );
  const rss: string[] = [];
  const cpu0 = cpuUs(t.pid);
  const sampler = setInterval(() => rss.push(rssMb(t.pid).toFixed(0)), 10_000);
  const out = await new Promise<string>((resolve, reject) =>
    execFile('wrk', ['-t2', '-c20', `-d${SOAK_SECONDS}s`, '--latency', '-s', script, `http://127.0.0.1:${t.port}/`], { timeout: (SOAK_SECONDS + 30) * 1000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
  );
  clearInterval(sampler);
  const cpu1 = cpuUs(t.pid);
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? '?';
  const p99 = /^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? '?';
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? Number.NaN);
  const perRequest = (us: number): string => (us / requests).toFixed(1);
  const cpu = `${perRequest(cpu1.all - cpu0.all)} / ${perRequest(cpu1.main - cpu0.main)}`;
  const c = await t.counters();
  return [`| ${t.name} | ${Number(rate).toFixed(0)} | ${p99} | ${cpu} | ${rss.join(', ')} | ${(c.gBytes / 1024 ** 2).toFixed(1)} | ${c.nObject} | ${gcSummary(t.takeGcPauses())} |`];
}

function gcSummary(pauses: number[] | null): string {
  if (pauses === null) return 'no GC';
  if (pauses.length === 0) return 'none';
  return `${Math.max(...pauses).toFixed(1)} ms, ${pauses.filter((p) => p > 50).length} of ${pauses.length}`;
}

async function main(): Promise<void> {
  const origin = await startOrigin();
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`cache-memory: -s ${storageFlag()}, scale ${SCALE}, concurrency ${CONCURRENCY}, load average ${load}`);
  const targets: Target[] = [];
  if (want('shellac')) targets.push(await startShellac(origin));
  if (want('varnish')) {
    const v = await startVarnish(origin);
    if (v !== null) targets.push(v);
  }
  const bound = SIZE_BYTES / 1024 ** 2;
  if (!opts['no-fill']) {
    console.log('| server | after | objects fetched | errors | fill rate (obj/s) | hits during the fill: p50 / p99 | RSS MB | RSS − bound MB | g_bytes MB | n_object | RSS per object beyond g_bytes | GC pauses: max, > 50 ms |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const t of targets) {
      const c0 = await t.counters();
      t.takeGcPauses();
      console.log(`| ${t.name} | start | 0 | | | | ${rssMb(t.pid).toFixed(0)} | ${(rssMb(t.pid) - bound).toFixed(0)} | ${(c0.gBytes / 1024 ** 2).toFixed(1)} | ${c0.nObject} | | |`);
      for (const [k, l] of LOADS.entries()) {
        for (const url of HOT) await fetchText(t.port, url);
        const hits = hitLoop(t);
        const { done, ms, errors } = await fill(t, l, k);
        const times = await hits.stop();
        const c = await t.counters();
        const rss = rssMb(t.pid);
        const perObject = c.nObject > 0 ? `${((rss * 1024 ** 2 - c.gBytes) / c.nObject).toFixed(0)} B` : '';
        console.log(
          `| ${t.name} | ${l.name} | ${done} | ${errors} | ${(done / (ms / 1000)).toFixed(0)} | ${latencySummary(times)} | ${rss.toFixed(0)} | ${(rss - bound).toFixed(0)} | ${(c.gBytes / 1024 ** 2).toFixed(1)} | ${c.nObject} | ${perObject} | ${gcSummary(t.takeGcPauses())} |`,
        );
      }
    }
  }
  if (SOAK_SECONDS > 0) {
    console.log(`\nsoak: wrk -c20 ${SOAK_SECONDS} s, 10,000 URLs of 1 KB + 20% unique; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    console.log('| server | req/s | p99 | CPU µs per request: all threads / main thread | RSS MB every 10 s | g_bytes MB | n_object | GC pauses: max, > 50 ms |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const [i, t] of targets.entries()) {
      t.takeGcPauses();
      for (const line of await soak(t, `s${i}`)) console.log(line);
    }
  }
  agent.destroy();
  process.exit(0);
}

await main();
