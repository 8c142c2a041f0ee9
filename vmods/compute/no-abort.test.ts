// No way out of a sandbox's time limit ends the process. A sandbox thread that holds a JS
// isolate (isolated-vm) must never be ended by Worker.terminate(): isolated-vm's native
// assertion `IsolateEnvironment::GetCurrent(): environment != nullptr` can then abort the whole
// process. So this runs a real `shellac serve` as a child process and drives every path past
// max_request_time (a slow self-request, a streamed response past its time, a loop in JS, a
// loop in WebAssembly, and a JS thread the main thread gives up on while it builds its
// sandbox), lets threads of both kinds end for being idle, then stops it and checks its exit
// status and everything it wrote to stderr; and ends processes with JS sandbox threads in each
// way a process ends (exit-child.ts).

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, type Origin, startOrigin } from '../../test/helpers/proxy.ts';
import { BUILD_DIR, built, computeVcl, PROGRAM_BY_HEADER, tempDir, write } from './test-setup.ts';

const ROOT = join(import.meta.dirname, '../..');
const MAIN = join(ROOT, 'src/cli/main.ts');

/** What a native abort or a failed assertion leaves on stderr. */
const ABORT_TEXT = /Assertion|environment != nullptr|Aborted|core dumped|FATAL ERROR|SIGABRT/i;

// A JS program whose initialisation takes 0.6 s, run twice to build a sandbox (a trial under
// max_request_time, then the snapshot): a sandbox built for a request (after one that threw)
// outlasts its 1 s limit, and the main thread gives up on a thread that holds an isolate.
const SLOW_INIT = `
function init() { const until = Date.now() + 600; while (Date.now() < until) {} }
function handle(req) {
  if (req.argument === 'throw') throw new Error('thrown on purpose');
  return { status: 200, body: 'slow-init ok' };
}
`;

// One whose initialisation never ends: its trial run stops at max_request_time.
const ENDLESS_INIT = `
function init() { for (;;) {} }
function handle() { return { status: 200, body: 'never' }; }
`;

let origin: Origin;
let child: ChildProcess;
let port = 0;
let stderr = '';
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

beforeAll(async () => {
  await built();
  // What self-requests reach: a page slower than any program may wait.
  origin = await startOrigin((_req, res) => {
    const t = setTimeout(() => res.end('slow'), 5000);
    res.on('close', () => clearTimeout(t));
  });
  const dir = tempDir();
  const lib = write(
    dir,
    'lib.json',
    JSON.stringify({
      js: { filename: join(BUILD_DIR, 'test-limits.js'), max_request_time: 1, concurrency: 1 },
      wasm: { filename: join(BUILD_DIR, 'test-limits.wasm'), max_request_time: 1, concurrency: 1 },
      'slow-init': { filename: write(dir, 'slow-init.js', SLOW_INIT), max_request_time: 1, concurrency: 1 },
      'endless-init': { filename: write(dir, 'endless-init.js', ENDLESS_INIT), max_request_time: 1, concurrency: 1 },
      // Threads that end after half a second without a request.
      'js-idle': { filename: join(BUILD_DIR, 'test-limits.js'), concurrency: 2, thread_idle_timeout: 0.5 },
      'wasm-idle': { filename: join(BUILD_DIR, 'test-limits.wasm'), concurrency: 2, thread_idle_timeout: 0.5 },
    }),
  );
  const vcl = write(
    dir,
    'main.vcl',
    computeVcl(`
sub vcl_init {
  compute.library("${lib}");
  compute.init_self_requests("", "http://127.0.0.1:${origin.port}");
}${PROGRAM_BY_HEADER}`),
  );
  child = spawn(process.execPath, [MAIN, 'serve', '-f', vcl, '-a', '127.0.0.1:0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d;
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d;
  });
  exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  for (let i = 0; i < 400 && port === 0; i++) {
    port = Number(/Listening on a0 127\.0\.0\.1 (\d+)/.exec(stdout + stderr)?.[1] ?? 0);
    if (port === 0) await new Promise((r) => setTimeout(r, 50));
  }
  expect(port, `the server did not start: ${stdout}${stderr}`).toBeGreaterThan(0);
}, 60_000);

afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  await origin?.close();
});

function call(program: string, arg: string) {
  return get(port, '/', { headers: { 'x-program': program, 'x-arg': arg } });
}

/** A streamed response read to its end: what came, and whether it was whole. */
function streamed(program: string, arg: string): Promise<{ text: string; complete: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    const req = request({ host: '127.0.0.1', port, path: '/streamed', headers: { 'x-program': program, 'x-arg': arg }, agent: false }, (res) => {
      res.on('data', (d: Buffer) => {
        text += d;
      });
      res.on('error', () => {});
      res.on('close', () => resolve({ text, complete: res.complete }));
    });
    req.on('error', () => resolve({ text, complete: false }));
    req.end();
  });
}

describe('a shellac serve process, every sandbox driven past max_request_time', () => {
  // First: the threads asked to end have long gone by the count of terminated threads below.
  it.each(['js-idle', 'wasm-idle'])('%s: threads idle past thread_idle_timeout end by themselves, and the next request starts one', async (name) => {
    const stats = async () => JSON.parse((await get(port, '/stats')).body)[name];
    const replies = await Promise.all([call(name, 'hi'), call(name, 'hi'), call(name, 'hi')]);
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200]);
    expect((await stats()).threads).toBeGreaterThanOrEqual(1);
    // Bounded: the threads end 0.5 s after their last request, and are looked at every 50 ms.
    let now = await stats();
    for (let i = 0; i < 200 && now.threads > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      now = await stats();
    }
    expect(now).toMatchObject({ threads: 0, instances: 0, threads_terminated: 0 });
    expect(now.threads_ended_idle).toBeGreaterThanOrEqual(1);
    expect((await call(name, 'hi')).status).toBe(200);
    expect((await stats()).threads).toBe(1);
  }, 30_000);

  it.each(['js', 'wasm'])('%s: a self-request slower than the program may wait fails the request, and the next is served', async (kind) => {
    expect((await call(kind, 'self:/slow')).status).toBe(503);
    expect((await call(kind, 'hi')).status).toBe(200);
  });

  it.each(['js', 'wasm'])('%s: a response streamed past its time is broken off, and the next is served', async (kind) => {
    const r = await streamed(kind, 'stream:/slow');
    expect(r).toEqual({ text: 'first\n', complete: false });
    expect((await call(kind, 'hi')).status).toBe(200);
  });

  it.each(['js', 'wasm'])('%s: a loop fails the request, and the next is served', async (kind) => {
    expect((await call(kind, 'loop')).status).toBe(503);
    expect((await call(kind, 'hi')).status).toBe(200);
  });

  it('a JS thread given up on while it builds its sandbox fails the request and ends by itself', async () => {
    expect((await call('slow-init', 'hi')).status).toBe(200);
    // The sandbox that threw is dropped: the next request builds one (1.2 s) past its 1 s.
    expect((await call('slow-init', 'throw')).status).toBe(503);
    expect((await call('slow-init', 'hi')).status).toBe(503);
    // The thread given up on finishes its build, sees it was asked to quit, and goes; the
    // process lives on.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await call('js', 'hi')).status).toBe(200);
  }, 30_000);

  it('a JS initialisation that never ends fails its requests in time, and holds no thread', async () => {
    for (let i = 0; i < 2; i++) {
      const started = Date.now();
      expect((await call('endless-init', 'hi')).status).toBe(503);
      expect(Date.now() - started).toBeLessThan(10_000);
    }
    // Its start failed (the program is not kept loaded: the next request tries again), and the
    // threads that tried are gone: the process goes on, and ends cleanly below.
    expect((await call('js', 'hi')).status).toBe(200);
  }, 30_000);

  it("terminated no thread that held an isolate: only the WebAssembly loop's", async () => {
    const stats = JSON.parse((await get(port, '/stats')).body);
    expect(stats.js.timeouts).toBeGreaterThanOrEqual(3);
    expect(stats['slow-init'].timeouts).toBeGreaterThanOrEqual(1);
    expect(stats.js.threads_terminated).toBe(0);
    expect(stats['slow-init'].threads_terminated).toBe(0);
    expect(stats['js-idle'].threads_terminated).toBe(0);
    expect(stats['wasm-idle'].threads_terminated).toBe(0);
    expect(stats.wasm.threads_terminated).toBeGreaterThanOrEqual(1);
  });

  it('stops on SIGTERM with exit status 0 and nothing of an abort on stderr', async () => {
    child.kill('SIGTERM');
    expect(await exited).toEqual({ code: 0, signal: null });
    expect(stderr).not.toMatch(ABORT_TEXT);
  });
});

describe('a process whose JS sandbox threads hold isolates, ended', () => {
  // Each used to abort (exit status 134): a thread ended by process.exit() inside it, or by
  // Node at the process's exit, while isolated-vm held an isolate in it.
  it.each(['close-exit', 'exit', 'drain'])('%s: exits 0 with nothing of an abort on stderr', (how) => {
    const r = spawnSync(process.execPath, [join(import.meta.dirname, 'exit-child.ts'), how], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout).toContain('answered 16');
    expect(r.stderr).not.toMatch(ABORT_TEXT);
    expect({ status: r.status, signal: r.signal }).toEqual({ status: 0, signal: null });
  }, 70_000);
});
