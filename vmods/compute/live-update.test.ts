// Live update and operations, in a Shellac with its admin side on loopback: a program swapped
// by POST (key-guarded, size-bounded) and from a file, its state carried over by the state
// callbacks, a bad binary refused with the old program still serving; invalidation reloading a
// program with state callbacks at once; and the counters and admin commands of the VMOD.

import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminClient } from '../../src/mgmt/admin-client.ts';
import { get } from '../../test/helpers/proxy.ts';
import { type InProcess, inProcess, okBody } from '../../test/ops/helpers.ts';
import { BUILD_DIR, built, computeVcl, tempDir, write } from './test-setup.ts';

let s: InProcess;
let admin: AdminClient;
let dir: string;

beforeAll(async () => {
  await built();
  dir = tempDir();
  // The programs live in the temp folder: live_update_file replaces them there.
  for (const f of ['test-limits.wasm', 'test-limits.js', 'hello.wasm']) copyFileSync(join(BUILD_DIR, f), join(dir, f));
  write(dir, 'next.js', "function handle(req) { return { status: 200, body: 'next ' + req.argument }; }");
  write(dir, 'broken.js', 'function handle( {');
  const lib = write(
    dir,
    'lib.json',
    JSON.stringify({
      groups: { default: { key: 'sesame', concurrency: 1 } },
      counter: { filename: 'test-limits.wasm', ephemeral: false },
      'counter-js': { filename: 'test-limits.js', ephemeral: false },
      keyless: { filename: 'hello.wasm', key: '' },
    }),
  );
  s = await inProcess(
    computeVcl(`
sub vcl_init {
  compute.library("${lib}");
}
sub vcl_recv {
  return (pass);
}
sub vcl_backend_fetch {
  if (bereq.method == "POST" && bereq.http.x-live-update) {
    set bereq.backend = compute.live_update(bereq.http.x-program, bereq.http.x-live-update, 100KB);
  } else {
    set bereq.backend = compute.program(bereq.http.x-program, bereq.http.x-arg);
  }
}
sub vcl_deliver {
  if (req.http.x-file) {
    set resp.http.x-swapped = compute.live_update_file(req.http.x-program, req.http.x-file);
  }
  if (req.http.x-invalidate) {
    set resp.http.x-invalidated = compute.invalidate_programs(req.http.x-invalidate);
  }
}`),
  );
  admin = await s.admin();
}, 60_000);
afterAll(async () => {
  admin?.close();
  await s?.close();
});

function call(program: string, arg: string, headers: Record<string, string> = {}) {
  return get(s.port, '/', { headers: { 'x-program': program, 'x-arg': arg, ...headers } });
}

function post(program: string, key: string, body: string | Buffer) {
  return get(s.port, '/update', { method: 'POST', headers: { 'x-program': program, 'x-live-update': key }, body: body as string });
}

async function counters(): Promise<Record<string, number>> {
  const json = JSON.parse(await okBody(admin, ['counters.show', '-j', 'COMPUTE.*'])) as { counters: Record<string, { value: number }> };
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(json.counters)) out[k.slice('COMPUTE.'.length)] = v.value;
  return out;
}

describe('live update by POST', () => {
  it('swaps a JS program, carrying its state over, and refuses a bad one keeping the old', async () => {
    expect((await call('counter-js', 'count')).body).toBe('count 1');
    expect((await call('counter-js', 'count')).body).toBe('count 2');
    // The new version has no counter of its own: it answers, and the old state went through
    // saveState/restoreState (checked on the wasm program below, which keeps counting).
    const ok = await post('counter-js', 'sesame', "let counter = 0; function restoreState(s) { counter = Number(s); } function handle() { counter++; return { body: 'v2 count ' + counter }; }");
    expect(ok.status).toBe(200);
    expect(ok.body).toBe('Update successful: counter-js\n');
    expect((await call('counter-js', 'count')).body).toBe('v2 count 3');
    const bad = await post('counter-js', 'sesame', 'function handle( {');
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('the old program goes on');
    expect((await call('counter-js', 'count')).body).toBe('v2 count 4');
  });

  it('refuses a wrong key, a program without a key, and a body over max_size', async () => {
    expect((await post('counter-js', 'wrong', 'function handle() { return {}; }')).status).toBe(403);
    expect((await post('keyless', '', 'x')).status).toBe(403);
    expect((await post('counter-js', 'sesame', Buffer.alloc(102_401, 32))).status).toBe(413);
    expect((await call('counter-js', 'count')).body).toBe('v2 count 5');
  });

  it('refuses a WebAssembly binary that is not one, keeping the old', async () => {
    expect((await call('counter', 'count')).body).toBe('count 1');
    const bad = await post('counter', 'sesame', 'not wasm at all');
    expect(bad.status).toBe(400);
    expect((await call('counter', 'count')).body).toBe('count 2');
  });
});

describe('live update from a file', () => {
  it('swaps the program, its state carried over by the callbacks', async () => {
    const r = await call('counter', 'x', { 'x-file': join(dir, 'test-limits.wasm') });
    expect(r.headers['x-swapped']).toBe('true');
    expect((await call('counter', 'count')).body).toBe('count 3');
  });

  it('keeps the old program when the file does not load', async () => {
    const r = await call('counter-js', 'x', { 'x-file': join(dir, 'broken.js') });
    expect(r.headers['x-swapped']).toBe('false');
    // v2 counts every request, the one that tried the file included.
    expect((await call('counter-js', 'count')).body).toBe('v2 count 7');
    const swapped = await call('counter-js', 'x', { 'x-file': join(dir, 'next.js') });
    expect(swapped.headers['x-swapped']).toBe('true');
    expect((await call('counter-js', 'y')).body).toBe('next y');
  });
});

describe('invalidation', () => {
  it('reloads a program with state callbacks at once, carrying its state', async () => {
    const r = await call('counter', 'x', { 'x-invalidate': '^counter$' });
    expect(r.headers['x-invalidated']).toBe('1');
    expect((await call('counter', 'count')).body).toBe('count 4');
  });
});

describe('operations', () => {
  it('names the program and its timing in the fetch\'s transaction record', async () => {
    const records: { side: string; backend?: string; logs: string[] }[] = [];
    const hub = s.srv.txLog;
    if (hub === null) throw new Error('the admin side has no log hub');
    const detach = hub.attach({ write: (group) => records.push(...group) });
    try {
      await call('counter', 'logged');
    } finally {
      detach();
    }
    const fetch = records.find((r) => r.side === 'backend');
    expect(fetch?.backend).toBe('compute.counter');
    expect(fetch?.logs.find((l) => l.startsWith('compute: counter 200'))).toMatch(/^compute: counter 200 exec \d+\.\d{3} ms, wall \d+\.\d{3} ms$/);
  });

  it('counts requests, failures and live updates', async () => {
    const c = await counters();
    expect(c.requests).toBeGreaterThanOrEqual(10);
    expect(c.live_updates).toBe(3);
    // Two bad programs by POST, a wrong key, no key, too big, and a bad file.
    expect(c.live_update_refused).toBe(6);
    expect(c['counter.requests']).toBeGreaterThanOrEqual(5);
  });

  it('lists the programs, prints their stats and invalidates through admin commands', async () => {
    const list = await okBody(admin, ['compute.list']);
    expect(list).toContain('counter wasm loaded concurrency=1');
    expect(list).toContain('keyless wasm unloaded');
    const stats = JSON.parse(await okBody(admin, ['compute.stats', '^counter']));
    expect(Object.keys(stats).sort()).toEqual(['counter', 'counter-js']);
    expect(stats.counter.live_updates).toBe(1);
    const envelope = JSON.parse(await okBody(admin, ['compute.stats', '-j', '^counter$']));
    expect(JSON.stringify(envelope)).toContain('"live_updates":1');
    expect((await okBody(admin, ['compute.invalidate', '^counter-js$'])).trim()).toBe('1 programs invalidated');
    expect(await okBody(admin, ['compute.list'])).toContain('counter-js js unloaded');
  });
});
