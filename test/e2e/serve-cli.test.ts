// `shellac serve` as a process: SIGTERM mid-request lets the request finish and exits 0; bad
// flags exit 2 and a bad VCL exits 1, each with a message and before any port is opened.

import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, get, type Origin, sleep, startOrigin } from '../helpers/proxy.ts';
import { MAIN, NODE, ROOT } from '../ops/helpers.ts';


let origin: Origin | undefined;
let proc: ChildProcess | undefined;
afterEach(async () => {
  proc?.kill('SIGKILL');
  await origin?.close();
  proc = origin = undefined;
});

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: readonly string[], command = 'serve', logLevel = 'error'): { proc: ChildProcess; done: Promise<Run>; stdout: () => string } {
  const p = spawn(NODE, [MAIN, command, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SHELLAC_LOG_LEVEL: logLevel } });
  let stdout = '';
  let stderr = '';
  p.stdout!.on('data', (d: Buffer) => {
    stdout += d;
  });
  p.stderr!.on('data', (d: Buffer) => {
    stderr += d;
  });
  const done = new Promise<Run>((r) => p.once('exit', (code) => r({ code, stdout, stderr })));
  return { proc: p, done, stdout: () => stdout };
}


/** Whether something accepts connections on the port now. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('shellac serve', () => {
  it('on SIGTERM finishes the request in flight, stops accepting and exits 0', async () => {
    origin = await startOrigin((_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'Cache-Control': 'max-age=60' });
        res.end('finished');
      }, 800);
    });
    const port = await freePort();
    const r = run(['-a', `127.0.0.1:${port}`, '-b', `127.0.0.1:${origin.port}`, '-T', '127.0.0.1:0']);
    proc = r.proc;
    for (let i = 0; i < 200 && !/Listening on/.test(r.stdout()); i++) await sleep(50);
    expect(r.stdout()).toContain(`Listening on a0 127.0.0.1 ${port}`);
    const inFlight = get(port, '/slow');
    await sleep(300);
    proc.kill('SIGTERM');
    await sleep(100);
    expect(await listening(port)).toBe(false);
    const reply = await inFlight;
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('finished');
    const end = await r.done;
    expect(end.code).toBe(0);
  });

  it.each([
    ['an unknown flag', ['-x']],
    ['a bad listen address', ['-a', 'nohost:notaport', '-b', '127.0.0.1:80']],
    ['an unknown parameter', ['-p', 'no_such_param=1', '-b', '127.0.0.1:80']],
    ['a parameter out of bounds', ['-p', 'max_restarts=-5', '-b', '127.0.0.1:80']],
    ['a bad storage size', ['-s', 'malloc,lots', '-b', '127.0.0.1:80']],
  ])('exits 2 on %s, with a message, before opening a port', async (_what, args) => {
    const port = await freePort();
    const r = run(['-a', `127.0.0.1:${port}`, ...args]);
    proc = r.proc;
    const end = await r.done;
    expect(end.code).toBe(2);
    expect(end.stderr.length).toBeGreaterThan(0);
    expect(end.stdout).not.toContain('Listening');
    expect(await listening(port)).toBe(false);
  });

  it('exits 1 on a VCL that does not compile, with the compiler message, before opening a port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shellac-serve-'));
    const file = join(dir, 'bad.vcl');
    writeFileSync(file, 'vcl 4.1;\nbackend default { .host = "127.0.0.1"; }\nsub vcl_recv { set req.http.x = ; }\n');
    const port = await freePort();
    const r = run(['-a', `127.0.0.1:${port}`, '-f', file]);
    proc = r.proc;
    const end = await r.done;
    expect(end.code).toBe(1);
    expect(end.stderr).toContain('bad.vcl');
    expect(end.stdout).not.toContain('Listening');
    expect(await listening(port)).toBe(false);
  });

  // The demo backend starts healthy (`.initial` in default.vcl): a backend that starts sick
  // answered 503 to a request that came before the first probe did, which a loaded machine
  // made happen, and printed "Went sick" at every start.
  it('npm start: the demo origin behind default.vcl shows a miss, then a hit; no warning at start', async () => {
    const port = await freePort();
    const r = run(['-a', `127.0.0.1:${port}`], 'start', 'info');
    proc = r.proc;
    for (let i = 0; i < 200 && !/curl/.test(r.stdout()); i++) await sleep(50);
    expect(r.stdout()).toContain(`http://127.0.0.1:${port}`);
    const first = await get(port, '/');
    const second = await get(port, '/');
    expect(first.status).toBe(200);
    expect(String(first.headers['x-cache'])).toMatch(/MISS/);
    expect(String(second.headers['x-cache'])).toMatch(/HIT/);
    expect(second.body).toBe(first.body);
    proc.kill('SIGINT');
    const end = await r.done;
    expect(end.code).toBe(0);
    expect(end.stderr).not.toMatch(/Went sick|"level":(40|50)/);
  });
});
