// Proxy throughput: wrk against a loopback origin through Shellac, and against the ceiling (a
// bare node:http server serving the same 1 KB buffer), the node:net probe (bench/proxy-net-probe.ts:
// a prebuilt response on node:net, this design's ceiling), and varnishd when installed.
// The server under test runs pinned to one core (SERVER_CORE), wrk and the origin to the other
// (LOAD_CORE), so the load generator never steals the server's CPU. Each load runs a short
// warm-up, then DURATION seconds measured. Prints req/s, p50 and p99 latency, and each rate's
// ratio to the ceiling (and to Varnish's); each figure is the best of a few interleaved rounds,
// as a shared machine's noise only ever slows a run down. Run: `npm run bench:proxy` (options:
// --duration N, --rounds N, --connections N, --only shellac|varnish|ceiling|probe, --hit-only,
// --sizes to add hits of 100 KB and 1 MB objects (with their bytes/s), --idle N to keep N idle
// keep-alive connections open on each server during the loads (and print the memory each costs),
// --pipeline N to add 1 KB hits sent N requests to a write (HTTP pipelining, a wrk Lua script),
// --cpu-prof DIR to profile Shellac, --log-reader to add hits on a second Shellac with a
// `shellac log` reader attached: what transaction records cost when somebody reads them,
// --metrics to add hits on a Shellac serving /metrics, which measures every request's latency
// into the histograms: prints its ratio to the plain hits, whose target is within 3%).
// Two filter loads run beside the plain ones: a hit of a 20 KB gzipped HTML object for a client
// that does not take gzip (gunzip on delivery), and an ESI page of ten cached 1 KB fragments.
// Both servers run the same VCL (the builtin, plus do_esi for the ESI page). --load TEXT (any
// number) keeps only the loads whose name has one of the texts (`--load gunzip --load esi`);
// --param NAME=VALUE (any number) sets a parameter of the main Shellac.
// The machine's load average is printed before and after: the figures mean little without it.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NODE = process.execPath;
const { values: opts } = parseArgs({
  options: {
    duration: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string', multiple: true },
    'cpu-prof': { type: 'string' },
    'hit-only': { type: 'boolean', default: false },
    sizes: { type: 'boolean', default: false },
    idle: { type: 'string' },
    'log-reader': { type: 'boolean', default: false },
    pipeline: { type: 'string' },
    metrics: { type: 'boolean', default: false },
    load: { type: 'string', multiple: true },
    param: { type: 'string', multiple: true },
  },
});
const DURATION = Number(opts.duration);
const CONNECTIONS = Number(opts.connections);
const ROUNDS = Math.max(1, Number(opts.rounds));
const IDLE = opts.idle === undefined ? 0 : Number(opts.idle);
/** With --pipeline N: 1 KB hits sent N to a write (wrk with a Lua script), beside the plain ones. */
const PIPELINE = opts.pipeline === undefined ? 0 : Number(opts.pipeline);
/** With idle connections, both servers must keep them: timeout_idle well past the run. */
const IDLE_PARAMS = IDLE > 0 ? ['-p', 'timeout_idle=3600'] : [];
/** --param NAME=VALUE (any number): parameters for the main Shellac (`-p`), to compare settings. */
const SHELLAC_PARAMS = (opts.param ?? []).flatMap((p) => ['-p', p]);
const SERVER_CORE = '0';
/** The VCL both servers run: the builtin behaviour, plus ESI for the ESI page. */
const BENCH_VCL = (originPort: number): string => `vcl 4.1;
backend default { .host = "127.0.0.1"; .port = "${originPort}"; }
sub vcl_backend_response { if (bereq.url == "/esi") { set beresp.do_esi = true; } }
`;
const LOAD_CORE = '1';

interface Figures {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
  /** Requests completed in the measured run. */
  readonly requests: number;
  /** CPU time the server spent per request, in microseconds (NaN when not measured). */
  readonly cpuUs: number;
}

interface Row {
  readonly name: string;
  readonly f: Figures;
}

const children: ChildProcess[] = [];
const cleanups: (() => void)[] = [];

function pinned(core: string, cmd: string, args: string[]): string[] {
  return hasTaskset() ? ['taskset', '-c', core, cmd, ...args] : [cmd, ...args];
}

let tasksetKnown: boolean | undefined;
function hasTaskset(): boolean {
  tasksetKnown ??= which('taskset');
  return tasksetKnown;
}

function which(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Starts a process and waits until `ready` matches a line of its stdout; resolves with that match. */
function start(argv: string[], ready: RegExp, env?: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${argv.join(' ')}: not ready after 20s\n${out}${err}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d;
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d;
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${argv.join(' ')} exited ${code}\n${out}${err}`));
    });
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 8000);
  await exited;
  clearTimeout(t);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, path: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}${path}`);
      await r.arrayBuffer();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`nothing answers on port ${port}`);
}

function wrk(url: string, seconds: number, headers: readonly string[], script?: string): Figures {
  const hdr = headers.flatMap((h) => ['-H', h]);
  const lua = script === undefined ? [] : ['-s', script];
  const args = pinned(LOAD_CORE, 'wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '--latency', ...lua, ...hdr, url]);
  const out = execFileSync(args[0], args.slice(1), { encoding: 'utf8', timeout: (seconds + 30) * 1000 });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? Number.NaN);
  const lat = (p: string): number => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s)\\s*$`, 'm').exec(out);
    if (!m) return Number.NaN;
    const scale = m[2] === 'us' ? 0.001 : m[2] === 'ms' ? 1 : 1000;
    return Number(m[1]) * scale;
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (sockErr ? sockErr.slice(1, 5).reduce((a, b) => a + Number(b), 0) : 0);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? Number.NaN);
  return { rps, p50: lat('50'), p99: lat('99'), errors, requests, cpuUs: Number.NaN };
}

/**
 * CPU seconds (user + system) used so far by these processes and, for varnishd, by the worker
 * process its manager started. Unlike req/s, CPU time per request hardly moves when other work
 * on the machine steals cycles: it is the steadier measure of what a request costs.
 */
function cpuSeconds(pids: readonly number[]): number {
  const tick = 100; // USER_HZ on Linux
  const all = withChildren(pids);
  if (all === null) return Number.NaN;
  let sum = 0;
  for (const pid of all) {
    const stat = readStat(pid);
    if (stat !== null) sum += stat.cpu;
  }
  return sum / tick;
}

/** The processes and their children (varnishd's work is in its child). */
function withChildren(pids: readonly number[]): number[] | null {
  const all = [...pids];
  try {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      const stat = readStat(Number(d));
      if (stat !== null && pids.includes(stat.ppid) && !all.includes(Number(d))) all.push(Number(d));
    }
  } catch {
    return null;
  }
  return [...new Set(all)];
}

/** Resident memory of the processes and their children, in KB. */
function rssKb(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of withChildren(pids) ?? pids) {
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) sum += Number(m[1]);
    } catch {
      // gone
    }
  }
  return sum;
}

/** Opens `n` connections that each get one answer and then stay open, idle, until the end. */
async function openIdle(port: number, n: number): Promise<void> {
  for (let done = 0; done < n; ) {
    const batch = Math.min(200, n - done);
    await Promise.all(
      Array.from(
        { length: batch },
        () =>
          new Promise<void>((resolve, reject) => {
            const s = connect(port, '127.0.0.1', () => s.write('GET /hit HTTP/1.1\r\nHost: x\r\n\r\n'));
            s.once('data', () => resolve());
            s.once('error', reject);
            cleanups.push(() => s.destroy());
          }),
      ),
    );
    done += batch;
  }
}

function readStat(pid: number): { ppid: number; cpu: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpu: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

/** A warm-up second, then the measured run, with the server's CPU time per request. */
function load(port: number, path: string, headers: readonly string[], pids: readonly number[], script?: string): Figures {
  wrk(`http://127.0.0.1:${port}${path}`, 1, headers, script);
  const before = cpuSeconds(pids);
  const f = wrk(`http://127.0.0.1:${port}${path}`, DURATION, headers, script);
  const used = cpuSeconds(pids) - before;
  return { ...f, cpuUs: (used / f.requests) * 1e6 };
}

/** A wrk script that sends `n` requests per write on each connection (HTTP pipelining). */
function pipelineScript(n: number): string {
  return `init = function(args)\n  local r = {}\n  for i = 1, ${n} do r[i] = wrk.format(nil) end\n  req = table.concat(r)\nend\nrequest = function() return req end\n`;
}

// A pass in the builtin VCL, for Shellac and Varnish alike: a request with credentials.
const PASS_HEADERS = ['Authorization: Basic YTpi'];

/** With --sizes: hits of larger objects, whose figure that matters is bytes per second. */
function sizeLoads(server: string, port: number, pids: readonly number[]): Load[] {
  if (!opts.sizes) return [];
  return [
    { name: `${server}: hit, 100 KB`, port, path: '/100k', pids, bytes: 100 * 1024 },
    { name: `${server}: hit, 1 MB`, port, path: '/1m', pids, bytes: 1024 * 1024 },
  ];
}

interface Load {
  /** Body bytes per response, when the load is about throughput. */
  readonly bytes?: number;
  readonly name: string;
  readonly port: number;
  readonly path: string;
  readonly headers?: readonly string[];
  /** A wrk Lua script (--pipeline's). */
  readonly script?: string;
  /** The server's processes, for its CPU time. */
  readonly pids: readonly number[];
}

/** The filter loads: gunzip on delivery (wrk sends no Accept-Encoding) and an ESI page. */
function filterLoads(server: string, port: number, pids: readonly number[]): Load[] {
  return [
    { name: `${server}: gunzip hit, 20 KB html`, port, path: '/gz', pids },
    { name: `${server}: esi, 10 x 1 KB frags`, port, path: '/esi', pids },
  ];
}

async function main(): Promise<void> {
  if (!which('wrk')) {
    console.error('bench:proxy needs wrk (apt-get install wrk)');
    process.exit(1);
  }
  const want = (name: string): boolean => opts.only === undefined || opts.only.includes(name);
  const originPort = await freePort();
  await start(pinned(LOAD_CORE, NODE, ['bench/proxy-origin.ts', String(originPort)]), /ready (\d+)/);
  const vclFile = join(tmpdir(), `shellac-bench-${process.pid}.vcl`);
  writeFileSync(vclFile, BENCH_VCL(originPort), { mode: 0o644 });
  cleanups.push(() => rmSync(vclFile, { force: true }));
  console.log(
    `wrk -t1 -c${CONNECTIONS}, ${DURATION}s per load, best of ${ROUNDS} rounds; server on core ${SERVER_CORE}, wrk and origin on core ${LOAD_CORE}${hasTaskset() ? '' : ' (no taskset: not pinned)'}`,
  );

  // Every server is started first and sits idle on its core while the others are loaded; the
  // rounds interleave the loads so that a burst of noise on the machine hits all of them alike.
  const loads: Load[] = [];
  if (want('ceiling')) {
    const port = await freePort();
    const { child } = await start(pinned(SERVER_CORE, NODE, ['bench/proxy-origin.ts', String(port)]), /ready (\d+)/);
    loads.push({ name: 'ceiling: node:http, 1 KB buffer', port, path: '/hit', pids: [child.pid!] });
  }
  if (want('ceiling') || want('probe')) {
    const port = await freePort();
    const { child } = await start(pinned(SERVER_CORE, NODE, ['bench/proxy-net-probe.ts', String(port)]), /ready (\d+)/);
    loads.push({ name: 'probe: node:net, prebuilt 1 KB', port, path: '/hit', pids: [child.pid!] });
  }
  let shellac: ChildProcess | undefined;
  if (want('shellac')) {
    const port = await freePort();
    const nodeArgs = opts['cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${opts['cpu-prof']}`] : [];
    ({ child: shellac } = await start(
      pinned(SERVER_CORE, NODE, [...nodeArgs, 'src/cli/main.ts', 'serve', '-a', `127.0.0.1:${port}`, '-f', vclFile, '-s', 'malloc,64m', ...IDLE_PARAMS, ...SHELLAC_PARAMS]),
      /Listening on/,
      { SHELLAC_LOG_LEVEL: 'error' },
    ));
    await waitForPort(port, '/hit');
    const pids = [shellac.pid!];
    loads.push({ name: 'shellac: hit, 1 KB', port, path: '/hit', pids });
    if (!opts['hit-only']) {
      loads.push({ name: 'shellac: pass, 1 KB', port, path: '/pass', headers: PASS_HEADERS, pids });
      loads.push(...filterLoads('shellac', port, pids));
    }
    loads.push(...sizeLoads('shellac', port, pids));
  }
  if (want('shellac') && opts['log-reader']) {
    const port = await freePort();
    const secret = join(tmpdir(), `shellac-bench-secret-${process.pid}`);
    writeFileSync(secret, 'bench\n', { mode: 0o600 });
    cleanups.push(() => rmSync(secret, { force: true }));
    const { child, match } = await start(
      pinned(SERVER_CORE, NODE, ['src/cli/main.ts', 'serve', '-a', `127.0.0.1:${port}`, '-b', `127.0.0.1:${originPort}`, '-s', 'malloc,64m', '-T', '127.0.0.1:0', '-S', secret]),
      /Admin on \S+ (\d+)/,
      { SHELLAC_LOG_LEVEL: 'error' },
    );
    await waitForPort(port, '/hit');
    // The reader prints every record; its output goes nowhere, its cost to the server counts.
    const reader = spawn(NODE, ['src/cli/main.ts', 'log', '-T', `127.0.0.1:${match[1]}`, '-S', secret], { cwd: ROOT, stdio: 'ignore' });
    children.push(reader);
    await new Promise((r) => setTimeout(r, 1500));
    loads.push({ name: 'shellac: hit, 1 KB, log reader', port, path: '/hit', pids: [child.pid!] });
  }
  if (want('shellac') && opts.metrics) {
    const port = await freePort();
    const { child } = await start(
      pinned(SERVER_CORE, NODE, ['src/cli/main.ts', 'serve', '-a', `127.0.0.1:${port}`, '-b', `127.0.0.1:${originPort}`, '-s', 'malloc,64m', '-p', 'metrics_listen=127.0.0.1:0']),
      /Listening on/,
      { SHELLAC_LOG_LEVEL: 'error' },
    );
    await waitForPort(port, '/hit');
    loads.push({ name: 'shellac: hit, 1 KB, /metrics on', port, path: '/hit', pids: [child.pid!] });
  }
  if (want('varnish') && which('varnishd')) {
    const port = await freePort();
    // varnishd makes the folder itself: its compiler runs as another user and must write there.
    const workdir = join(tmpdir(), `shellac-bench-vn-${process.pid}`);
    cleanups.push(() => rmSync(workdir, { recursive: true, force: true }));
    const varnishd = existsSync('/usr/sbin/varnishd') ? '/usr/sbin/varnishd' : 'varnishd';
    const argv = pinned(SERVER_CORE, varnishd, ['-F', '-a', `127.0.0.1:${port}`, '-f', vclFile, '-n', workdir, '-s', 'malloc,64m', ...IDLE_PARAMS]);
    const varnish = spawn(argv[0], argv.slice(1), { stdio: 'ignore' });
    children.push(varnish);
    await waitForPort(port, '/hit');
    const pids = [varnish.pid!];
    loads.push({ name: 'varnish: hit, 1 KB', port, path: '/hit', pids });
    if (!opts['hit-only']) {
      loads.push({ name: 'varnish: pass, 1 KB', port, path: '/pass', headers: PASS_HEADERS, pids });
      loads.push(...filterLoads('varnish', port, pids));
    }
    loads.push(...sizeLoads('varnish', port, pids));
  }

  if (PIPELINE > 1) {
    const script = join(tmpdir(), `shellac-bench-pipeline-${process.pid}.lua`);
    writeFileSync(script, pipelineScript(PIPELINE));
    cleanups.push(() => rmSync(script, { force: true }));
    for (const l of loads.filter((x) => /: (hit, 1 KB|node:net, prebuilt 1 KB)$/.test(x.name))) loads.push({ ...l, name: `${l.name}, pipelined x${PIPELINE}`, script });
  }
  if (opts.load !== undefined) {
    const keep = opts.load;
    loads.splice(0, loads.length, ...loads.filter((l) => keep.some((k) => l.name.includes(k))));
  }
  console.log(`load average before: ${loadavg().map((n) => n.toFixed(2)).join(' ')} (${cpus().length} cores)`);

  // Idle keep-alive connections, opened once per server and kept through the loads.
  const idleNotes: string[] = [];
  if (IDLE > 0) {
    const servers = new Map(loads.filter((l) => !l.name.startsWith('ceiling')).map((l) => [l.name.split(':')[0], l]));
    for (const [name, l] of servers) {
      const before = rssKb(l.pids);
      await openIdle(l.port, IDLE);
      await new Promise((r) => setTimeout(r, 1000));
      const after = rssKb(l.pids);
      idleNotes.push(`${name}: ${IDLE} idle connections, ${((after - before) / IDLE).toFixed(1)} KB of resident memory each (${before} KB before, ${after} KB after)`);
    }
  }

  // Noise only ever slows a run down: the best req/s (with its latencies) and, separately, the
  // least CPU per request of the rounds are the figures nearest the truth.
  const best = new Map<string, Figures>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const l of loads) {
      const f = load(l.port, l.path, l.headers ?? [], l.pids, l.script);
      const b = best.get(l.name);
      if (b === undefined) best.set(l.name, f);
      else best.set(l.name, { ...(f.rps > b.rps ? f : b), cpuUs: Math.min(f.cpuUs, b.cpuUs) });
    }
  }
  // A profile is written when the process exits of itself.
  if (shellac) await stop(shellac);
  print(loads.map((l) => ({ name: l.name, f: best.get(l.name)! })));
  console.log(`load average after: ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
  for (const n of idleNotes) console.log(n);
  for (const l of loads) {
    if (l.bytes !== undefined) console.log(`${l.name}: ${((best.get(l.name)!.rps * l.bytes) / 1e6).toFixed(0)} MB/s of bodies`);
  }
}

function print(rows: readonly Row[]): void {
  const find = (name: string): Figures | undefined => rows.find((r) => r.name === name)?.f;
  const ceiling = rows.find((r) => r.name.startsWith('ceiling'))?.f;
  const probe = rows.find((r) => r.name.startsWith('probe'))?.f;
  console.log('');
  console.log('req/s and latency: the best round; cpu us: the least CPU time the server spent per request in a round.');
  console.log(
    "Ratios: req/s over the node:http ceiling's, the node:net probe's (this design's ceiling, hits only) or Varnish's (and, in brackets, the same from CPU time per request).",
  );
  console.log(
    `${'load'.padEnd(46)}${'req/s'.padStart(9)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(8)}${'cpu us'.padStart(8)}${'/ceiling'.padStart(16)}${'/probe'.padStart(16)}${'/varnish'.padStart(16)}${'errors'.padStart(7)}`,
  );
  for (const r of rows) {
    const kind = r.name.includes('pass') ? 'pass' : 'hit';
    // Each Shellac load against Varnish's of the same name (the variants against its plain hit).
    const v = r.name.startsWith('shellac') ? (find(r.name.replace(/^shellac:/, 'varnish:')) ?? find(`varnish: ${kind}, 1 KB`)) : undefined;
    const p = r.name.includes('pipelined') ? find(`probe: node:net, prebuilt 1 KB${r.name.slice(r.name.indexOf(', pipelined'))}`) : probe;
    const ratio = (base: Figures | undefined): string =>
      base === undefined ? '' : `${(r.f.rps / base.rps).toFixed(2)} (${(base.cpuUs / r.f.cpuUs).toFixed(2)})`;
    console.log(
      `${r.name.padEnd(46)}${r.f.rps.toFixed(0).padStart(9)}${r.f.p50.toFixed(2).padStart(8)}${r.f.p99.toFixed(2).padStart(8)}${r.f.cpuUs.toFixed(1).padStart(8)}${ratio(ceiling).padStart(16)}${(/: hit, 1 KB/.test(r.name) ? ratio(p) : '').padStart(16)}${ratio(v).padStart(16)}${String(r.f.errors).padStart(7)}`,
    );
  }
  const plain = find('shellac: hit, 1 KB');
  const measured = find('shellac: hit, 1 KB, /metrics on');
  if (plain && measured) {
    console.log(
      `\nhits with /metrics on over hits without: req/s ${(measured.rps / plain.rps).toFixed(3)}, CPU per request ${(measured.cpuUs / plain.cpuUs).toFixed(3)} (target: within 3%)`,
    );
  }
}

try {
  await main();
} finally {
  for (const c of children) await stop(c);
  for (const c of cleanups) c();
}
