// The hand-over of requests and answers between the main thread and sandbox threads (slot.ts)
// every way it can go, over loopback: a thread that spins for its next request or sleeps, a
// main thread that looks for a quick program's answer on its event loop's turns or waits to
// be woken, and a quick program that turns slow past the main thread's look (it must then be
// woken). Each answer must be its own request's, one at a time and many at once. The main
// thread waits for all the answers in flight at once: a request's own max_request_time must
// still end it when a longer one is waited for.

import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, type Origin, type ProxyHandle, startOrigin } from '../../test/helpers/proxy.ts';
import { BUILD_DIR, built, computeVcl, PROGRAM_BY_HEADER, serveVcl, tempDir, write } from './test-setup.ts';

let p: ProxyHandle;
let origin: Origin;

/** thread_spin_us and answer_poll_us of each program: the defaults, neither, and both at most. */
const TUNINGS = {
  defaults: {},
  neither: { thread_spin_us: 0, answer_poll_us: 0 },
  most: { thread_spin_us: 10000, answer_poll_us: 10000 },
  // Looks for an answer for 2 ms only: a self-request of 200 ms outlasts it.
  short: { thread_spin_us: 10000, answer_poll_us: 2000 },
} as const;

beforeAll(async () => {
  await built();
  origin = await startOrigin((req, res) => {
    setTimeout(() => res.end('slow'), req.url === '/slower' ? 3000 : 200);
  });
  const programs: Record<string, unknown> = {};
  const filename = join(BUILD_DIR, 'test-limits.wasm');
  for (const [name, tuning] of Object.entries(TUNINGS)) programs[name] = { filename, concurrency: 2, ...tuning };
  programs.patient = { filename, max_request_time: 8 };
  programs.hasty = { filename, max_request_time: 1 };
  const lib = write(tempDir(), 'lib.json', JSON.stringify(programs));
  p = await serveVcl(
    computeVcl(`
sub vcl_init {
  compute.library("${lib}");
  compute.init_self_requests("", "http://127.0.0.1:${origin.port}");
}${PROGRAM_BY_HEADER}`),
  );
}, 60_000);
afterAll(async () => {
  await p?.close();
  await origin?.close();
});

function call(program: string, arg: string) {
  return get(p.port, '/', { headers: { 'x-program': program, 'x-arg': arg } });
}

async function stats(program: string): Promise<Record<string, number>> {
  return JSON.parse((await get(p.port, '/stats')).body)[program];
}

describe('requests and answers cross between the threads', () => {
  it.each(Object.keys(TUNINGS))('%s: one at a time, then 16 at once, each answer its own', async (program) => {
    // Enough that the program counts as quick (its average run under answer_poll_us) and
    // the main thread looks for its answers.
    for (let i = 0; i < 100; i++) expect((await call(program, `one-${i}`)).body).toBe(`limits v1 one-${i}`);
    for (let round = 0; round < 10; round++) {
      const args = Array.from({ length: 16 }, (_, i) => `many-${round}-${i}`);
      const replies = await Promise.all(args.map((a) => call(program, a)));
      expect(replies.map((r) => r.body)).toEqual(args.map((a) => `limits v1 ${a}`));
    }
    const s = await stats(program);
    expect(s).toMatchObject({ requests: 260, failures: 0, timeouts: 0 });
    expect(s.exec_time_p50_ms).toBeLessThan(2);
  }, 60_000);

  it('a quick program whose run outlasts the look for its answer is answered when it wakes the main thread', async () => {
    // Quick first: its average run falls under the 2 ms look.
    for (let i = 0; i < 60; i++) await call('short', 'quick');
    const started = performance.now();
    const r = await call('short', 'self:/slow');
    expect(r.body).toBe('200 slow');
    // Woken when the answer came (200 ms), not at max_request_time (8 s).
    expect(performance.now() - started).toBeLessThan(4000);
    expect((await call('short', 'after')).body).toBe('limits v1 after');
  }, 30_000);

  it('a request past its max_request_time fails then, while the main thread waits for a longer one', async () => {
    const seen = origin.seen.length;
    let patientDone = 0;
    const patient = call('patient', 'self:/slower').then((r) => {
      patientDone = performance.now();
      return r;
    });
    // The patient one runs (its self-request is at the origin): the main thread waits for it.
    for (let i = 0; i < 200 && origin.seen.length === seen; i++) await new Promise((r) => setTimeout(r, 10));
    const started = performance.now();
    const hasty = await call('hasty', 'loop');
    const hastyDone = performance.now();
    expect(hasty.status).toBe(503);
    // Ended at its own 1 s, not when the patient one's answer (3 s) or its limit (8 s) came.
    expect(hastyDone - started).toBeLessThan(2500);
    expect((await patient).body).toBe('200 slow');
    expect(patientDone).toBeGreaterThan(hastyDone);
    expect((await stats('hasty')).timeouts).toBe(1);
  }, 30_000);
});
