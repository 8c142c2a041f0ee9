// Sandboxes and their limits, for both kinds of program (WebAssembly and JS), over loopback:
// a request cannot see what the previous one left (ephemeral), a request past max_request_time
// fails and the next one runs in a new sandbox, memory past max_memory fails the request and
// not the process, a trap or exception fails only its request, and requests beyond
// concurrency wait in a bounded queue whose overflow fails at once.

import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, type Origin, type ProxyHandle, startOrigin } from '../../test/helpers/proxy.ts';
import { BUILD_DIR, built, computeVcl, PROGRAM_BY_HEADER, serveVcl, tempDir, write } from './test-setup.ts';

let p: ProxyHandle;
let origin: Origin;

const KINDS = [
  { kind: 'wasm', file: 'test-limits.wasm', fail: 'trap' },
  { kind: 'js', file: 'test-limits.js', fail: 'throw' },
] as const;

beforeAll(async () => {
  await built();
  // What self-requests reach here: a page that takes its time, to keep a sandbox busy.
  origin = await startOrigin((req, res) => {
    setTimeout(() => res.end('slow'), req.url === '/slower' ? 6000 : 800);
  });
  const dir = tempDir();
  const programs: Record<string, unknown> = {};
  for (const k of KINDS) {
    const filename = join(BUILD_DIR, k.file);
    // max_request_time counts a new thread's start after a timeout: 3 s leaves room for a
    // loaded machine.
    programs[`${k.kind}`] = { filename, max_request_time: 3, max_memory: 32, concurrency: 2 };
    programs[`${k.kind}-kept`] = { filename, ephemeral: false, concurrency: 1 };
    programs[`${k.kind}-narrow`] = { filename, concurrency: 1, max_queue: 1 };
    programs[`${k.kind}-single`] = { filename, concurrency: 1, max_request_time: 2 };
  }
  const lib = write(dir, 'lib.json', JSON.stringify(programs));
  p = await serveVcl(
    computeVcl(`
sub vcl_init {
  compute.library("${lib}");
  compute.init_self_requests("", "http://127.0.0.1:${origin.port}");
  compute.start("wasm-narrow", async = false);
  compute.start("js-narrow", async = false);
}${PROGRAM_BY_HEADER}`),
  );
}, 60_000);
afterAll(async () => {
  await p?.close();
  await origin?.close();
});

async function statsOf(program: string): Promise<Record<string, unknown>> {
  const r = await get(p.port, '/stats');
  return JSON.parse(r.body)[program] ?? {};
}

/** Polls until `pred` holds (every 20 ms, at most 10 s). */
async function until(pred: () => boolean | Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 500; i++) {
    if (await pred()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

function call(program: string, arg: string, url = '/') {
  return get(p.port, url, { headers: { 'x-program': program, 'x-arg': arg } });
}

describe('JS programs handing the host what is not bytes', () => {
  it('fail the request without the host allocating it, and the next one is served', async () => {
    // The program began its response, then failed: the request fails whichever the host heard
    // first (the begun response cut short, or the failure before any response: a 503).
    const r = await call('js', 'badchunk').catch(() => null);
    expect(r === null || r.body === '' || r.status === 503).toBe(true);
    expect((await call('js', 'after')).status).toBe(200);
  });
});

describe.each(KINDS)('$kind programs', ({ kind, fail }) => {
  it('start each request from the post-init state: nothing a request left is seen by the next', async () => {
    for (const url of ['/secret-1', '/secret-2', '/secret-3']) {
      const r = await call(kind, 'leak', url);
      expect(r.body).toBe('left: ');
    }
  });

  it('get a POST body and the method, and answer with what they make of it', async () => {
    const r = await get(p.port, '/upload', { method: 'POST', headers: { 'x-program': kind, 'x-arg': 'echo' }, body: 'posted bytes' });
    expect(r.status).toBe(200);
    expect(r.body).toBe('posted bytes');
    expect(r.headers['x-method']).toBe('POST');
  });

  it('get a POST body many times the hand-over slot, and answer one as big, whole and in order', async () => {
    // 256 KB of slot each way: both the request and the answer go through it in frames.
    const line = (i: number) => `${String(i).padStart(6, '0')} héllo wörld ${'x'.repeat(40)}\n`;
    const body = Array.from({ length: 20_000 }, (_, i) => line(i)).join('');
    expect(Buffer.byteLength(body)).toBeGreaterThan(1024 * 1024);
    const r = await get(p.port, '/big', { method: 'POST', headers: { 'x-program': kind, 'x-arg': 'echo' }, body });
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(body.length);
    expect(r.body === body).toBe(true);
    // The thread goes on serving small requests after the big ones.
    expect((await call(kind, 'hi')).body).toBe(`limits${kind === 'js' ? '-js' : ''} v1 hi`);
  });

  it('stream a response begun in pieces: the client has the first piece before the program ends', async () => {
    const arrivals: { at: number; text: string }[] = [];
    const started = Date.now();
    const { status, headers } = await new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: p.port, path: '/streamed', headers: { 'x-program': kind, 'x-arg': 'stream:/slow' } }, (res) => {
        res.on('data', (d: Buffer) => arrivals.push({ at: Date.now() - started, text: d.toString() }));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    expect(headers['x-streamed']).toBe('yes');
    expect(arrivals.map((a) => a.text).join('')).toBe('first\nthen 200\n');
    // The slow self-request (800 ms) sits between the two pieces.
    expect(arrivals[0].text).toBe('first\n');
    expect(arrivals[arrivals.length - 1].at - arrivals[0].at).toBeGreaterThanOrEqual(500);
  });

  it('break off a streamed response whose program runs past max_request_time', async () => {
    // The self-request takes longer than the program may (3 s): the first piece has gone, the
    // rest never comes, and the response ends incomplete.
    const { text, complete } = await new Promise<{ text: string; complete: boolean }>((resolve) => {
      let text = '';
      const req = request({ host: '127.0.0.1', port: p.port, path: '/cut', headers: { 'x-program': kind, 'x-arg': 'stream:/slower' } }, (res) => {
        res.on('data', (d: Buffer) => {
          text += d.toString();
        });
        res.on('error', () => {});
        res.on('close', () => resolve({ text, complete: res.complete }));
      });
      req.on('error', () => resolve({ text, complete: false }));
      req.end();
    });
    expect(text).toBe('first\n');
    expect(complete).toBe(false);
  });

  it('drop response headers that would split the response', async () => {
    const r = await call(kind, 'headers');
    expect(r.status).toBe(200);
    expect(r.headers['x-ok']).toBe('yes');
    expect(r.headers['x-bad']).toBeUndefined();
    expect(r.headers.injected).toBeUndefined();
  });

  it('keep state between requests when not ephemeral (what the reset prevents)', async () => {
    await call(`${kind}-kept`, 'leak', '/first');
    expect((await call(`${kind}-kept`, 'leak', '/second')).body).toBe('left: /first');
  });

  it('fail a request past max_request_time, and serve the next one from a new sandbox', async () => {
    const started = Date.now();
    const r = await call(kind, 'loop');
    expect(r.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect((await call(kind, 'hi')).body).toBe(`limits${kind === 'js' ? '-js' : ''} v1 hi`);
  });

  it('fail a request that needs more than max_memory, not the process', async () => {
    expect((await call(kind, 'alloc:64')).status).toBe(503);
    const small = await call(kind, 'alloc:1');
    expect(small.status).toBe(200);
  });

  it(`fail only the request that ${fail}s`, async () => {
    expect((await call(kind, fail)).status).toBe(503);
    expect((await call(kind, 'after')).status).toBe(200);
  });

  it('run a request that waited behind one past max_request_time on a new thread: it never began', async () => {
    const single = `${kind}-single`;
    expect((await call(single, 'hi')).status).toBe(200);
    const before = await statsOf(single);
    const looping = call(single, 'loop', '/loop');
    expect(await until(async () => (await statsOf(single)).requests === (before.requests as number) + 1)).toBe(true);
    // The one thread runs the loop: this one waits in its other slot.
    const behind = call(single, 'hi', '/behind');
    expect((await looping).status).toBe(503);
    const r = await behind;
    expect(r.status).toBe(200);
    expect(r.body).toBe(`limits${kind === 'js' ? '-js' : ''} v1 hi`);
    const after = await statsOf(single);
    expect(after.queue_waits).toBe((before.queue_waits as number) + 1);
    expect(after.timeouts).toBe((before.timeouts as number) + 1);
    expect(after.failures).toBe((before.failures as number) + 1);
  });

  it('queue requests beyond concurrency, and refuse at once past the queue', async () => {
    // One runs (waiting on a slow self-request), one waits, the third finds the queue full.
    const narrow = `${kind}-narrow`;
    const slowSeen = origin.seen.length;
    let runningDone = false;
    const running = call(narrow, 'self:/slow', '/a').finally(() => {
      runningDone = true;
    });
    expect(await until(() => origin.seen.length > slowSeen)).toBe(true);
    const waits = (await statsOf(narrow)).queue_waits as number;
    const waiting = call(narrow, 'quick', '/b');
    expect(await until(async () => (await statsOf(narrow)).queue_waits === waits + 1)).toBe(true);
    const refused = await call(narrow, 'quick', '/c');
    expect(refused.status).toBe(503);
    // Refused while the first still runs: it did not wait for a sandbox.
    expect(runningDone).toBe(false);
    expect((await running).body).toBe('200 slow');
    expect((await waiting).status).toBe(200);
  });
});
