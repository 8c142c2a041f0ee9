// The VMOD platform end to end, with the tplat fixture VMOD (test/fixtures/vmods/tplat) in a
// Shellac on loopback with its admin side: counters in counters.show, VMOD parameters through
// param.set, a VMOD command (with -j, in help, gone with its VCL), server events and their
// versions, a throwing handler, jobs cancelled on cold, the worker pool's limits and shutdown,
// the memory account and report, and $Requires order.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminClient } from '../../src/mgmt/admin-client.ts';
import { get, type Origin, sleep, startOrigin } from '../helpers/proxy.ts';
import { type InProcess, inProcess, okBody, until } from '../ops/helpers.ts';

const VCL = (port: number) => `vcl 4.1;
import tplat;
backend b { .host = "127.0.0.1"; .port = "${port}"; }
sub vcl_init {
  new t1 = tplat.thing();
  tplat.tick_every(0.05s);
}
sub vcl_recv {
  if (req.url == "/bump") { tplat.bump(7); t1.bump(3); return (synth(200, "bumped")); }
  if (req.url == "/own/mode") { return (synth(200, tplat.own("mode"))); }
  if (req.url == "/own/label") { return (synth(200, tplat.own("label"))); }
  if (req.url == "/reserve600") { return (synth(200, tplat.reserve(600B))); }
  if (req.url == "/release600") { tplat.release(600B); return (synth(200, "released")); }
  if (req.url == "/work") { return (synth(200, tplat.work(300))); }
  if (req.url == "/work-skip") { return (synth(200, tplat.work(300, true))); }
  if (req.url == "/slow-limited") { return (synth(200, tplat.work_limited(2000, 0.2s))); }
  if (req.url == "/hog") { return (synth(200, tplat.work_limited(-1, 10s))); }
  if (req.url == "/quick-limited") { return (synth(200, tplat.work_limited(1, 5s))); }
  if (req.url == "/noted") { tplat.note("kept"); return (synth(200, t1.noted())); }
  if (req.url == "/not-noted") { return (synth(200, t1.noted())); }
  if (req.url == "/fail") { return (fail); }
  if (req.url == "/cached") { return (hash); }
  if (req.url == "/restart" && req.restarts == 0) { return (restart); }
  if (req.url == "/pipe") { return (pipe); }
  if (req.url == "/ban") { ban("obj.http.x-gone == yes"); return (synth(200, "banned")); }
  return (pass);
}
sub vcl_backend_response {
  if (bereq.url == "/retry" && bereq.retries == 0) { return (retry); }
  if (bereq.url == "/berror") { return (error(503)); }
}
`;

let origin: Origin;
beforeAll(async () => {
  origin = await startOrigin((_req, res) => res.end('from origin'));
});
afterAll(() => origin.close());

/** counters.show -j as name → value. */
async function counters(c: AdminClient, glob: string): Promise<Record<string, number>> {
  const json = JSON.parse(await okBody(c, ['counters.show', '-j', glob])) as { counters: Record<string, { value: number }> };
  return Object.fromEntries(Object.entries(json.counters).map(([k, v]) => [k, v.value]));
}

/** Requests `url` and returns the first request event the VMOD heard, as its command lists it. */
async function firstRequestEvent(p: InProcess, url: string): Promise<Record<string, unknown>> {
  const c = await p.admin();
  try {
    await get(p.port, url);
    let events: Record<string, unknown>[] = [];
    await until(async () => {
      events = await jsonItems(c, ['tplat.events', '-j', 'request']);
      return events.length > 0;
    }, 3000);
    return events[0];
  } finally {
    c.close();
  }
}

/** Each step's three times agree: absolute = start + since start, since last = the difference. */
function expectConsistentSteps(steps: readonly { label: string; time: number; sinceStart: number; sinceLast: number }[]): void {
  expect(steps[0]).toMatchObject({ label: 'Start', sinceStart: 0, sinceLast: 0 });
  for (const [i, st] of steps.entries()) {
    expect(st.time).toBeCloseTo(steps[0].time + st.sinceStart, 5);
    if (i > 0) {
      expect(st.sinceStart).toBeGreaterThanOrEqual(steps[i - 1].sinceStart);
      expect(st.sinceLast).toBeCloseTo(st.sinceStart - steps[i - 1].sinceStart, 5);
    }
  }
}

/** The items of a -j reply after varnishd's envelope (version, argv, time). */
async function jsonItems(c: AdminClient, argv: string[]): Promise<Record<string, unknown>[]> {
  return (JSON.parse(await okBody(c, argv)) as unknown[]).slice(3) as Record<string, unknown>[];
}

describe('a VMOD on the platform, in a running server', () => {
  let p: InProcess;
  let c: AdminClient;
  beforeAll(async () => {
    p = await inProcess(VCL(origin.port), [['tplat.label', 'given at start']]);
    c = await p.admin();
  });
  afterAll(async () => {
    c.close();
    await p.close();
  });

  it('shows its $Counters and an instance\'s as TPLAT.<name> and TPLAT.<instance>.<name>', async () => {
    expect((await get(p.port, '/bump')).status).toBe(200);
    expect((await get(p.port, '/bump')).status).toBe(200);
    const got = await counters(c, 'TPLAT.*');
    expect(got['TPLAT.calls']).toBe(2);
    expect(got['TPLAT.level']).toBe(7);
    expect(got['TPLAT.t1.calls']).toBe(2);
    expect(got['TPLAT.t1.level']).toBe(3);
  });

  it('declares its $Params: param.show with docs, param.set validated, readonly refused', async () => {
    expect((await get(p.port, '/own/mode')).reason).toBe('fast');
    expect((await get(p.port, '/own/label')).reason).toBe('given at start');
    const show = await okBody(c, ['param.show', 'tplat.mode']);
    expect(show).toContain('Value is: fast');
    expect(show).toContain('Which way to go.');
    const bad = await c.command(['param.set', 'tplat.mode', 'sideways']);
    expect(bad.status).toBe(106);
    expect(bad.body).toContain('Must be one of fast, slow (sideways)');
    expect(bad.body).toContain("(attempting to set param 'tplat.mode' to 'sideways')");
    expect((await c.command(['param.set', 'tplat.mode', 'slow'])).status).toBe(200);
    expect((await get(p.port, '/own/mode')).reason).toBe('slow');
    const ro = await c.command(['param.set', 'tplat.label', 'other']);
    expect(ro.status).toBe(106);
    expect(ro.body).toContain('not tunable online');
    const list = await okBody(c, ['param.show']);
    expect(list).toMatch(/^tplat\.max_memory\s+1k \[bytes\] \(default\)$/m);
  });

  it("reaches a function's PRIV_TASK from a method through the handle's privKey, per task", async () => {
    expect((await get(p.port, '/noted')).reason).toBe('kept');
    expect((await get(p.port, '/not-noted')).reason).toBe('(none)');
  });

  it('serves its $Command with -j, lists it in help', async () => {
    const help = await okBody(c, ['help']);
    expect(help).toContain('tplat.events [<event>]');
    expect(await okBody(c, ['help', 'tplat.ticks'])).toContain('How many times the recurring job ran.');
    const ticks = await jsonItems(c, ['tplat.ticks', '-j']);
    expect(ticks[0].ticks).toBeGreaterThanOrEqual(0);
  });

  it('accounts memory up to max_memory and reports it in `memory`', async () => {
    expect((await get(p.port, '/reserve600')).reason).toBe('true');
    expect((await get(p.port, '/reserve600')).reason).toBe('false');
    const report = (await jsonItems(c, ['memory', '-j']))[0] as { vmods: { vmod: string; bytes: number; limit: number }[]; heap: { space: string }[]; storage: unknown[] };
    expect(report.vmods).toContainEqual({ vmod: 'tplat', bytes: 600, limit: 1024 });
    expect(report.heap.map((h) => h.space)).toContain('old_space');
    expect(report.storage).toHaveLength(1);
    expect(await okBody(c, ['memory'])).toMatch(/tplat\s+600b \/ 1k/);
    await get(p.port, '/release600');
  });

  it('hears request, fetch, cli, ban and vcl events after the work, with the fields of its version', async () => {
    await okBody(c, ['ping']);
    expect((await get(p.port, '/via-origin', { headers: { host: 'example.test' } })).body).toBe('from origin');
    await get(p.port, '/ban');
    await okBody(c, ['vcl.inline', 'other', 'vcl 4.1; backend x none;']);
    let events: Record<string, unknown>[] = [];
    expect(
      await until(async () => {
        events = await jsonItems(c, ['tplat.events', '-j']);
        return events.some((e) => e.event === 'vcl' && e.vcl === 'other');
      }, 5000),
    ).toBe(true);
    const req = events.find((e) => e.event === 'request' && e.url === '/via-origin')!;
    expect(req).toMatchObject({ version: 3, method: 'GET', host: 'example.test', status: 200, handling: 'pass', bytesOut: 11, backend: 'b', vcl: 'boot', error: null });
    expect((req.timestamps as { start: number; end: number }).end).toBeGreaterThanOrEqual((req.timestamps as { start: number }).start);
    // Version 3: Varnish's Timestamp records of the steps, in order, each consistent with the last.
    const steps = req.steps as { label: string; time: number; sinceStart: number; sinceLast: number }[];
    expect(steps.map((st) => st.label)).toEqual(['Start', 'Req', 'Fetch', 'Process', 'Resp']);
    expectConsistentSteps(steps);
    const fetch = events.find((e) => e.event === 'fetch' && e.url === '/via-origin')!;
    expect(fetch).toMatchObject({ version: 2, status: 200, backend: 'b', mode: 'pass', parentXid: req.xid });
    // Version 2: the backend side's Timestamp records.
    const fetchSteps = fetch.steps as { label: string; time: number; sinceStart: number; sinceLast: number }[];
    expect(fetchSteps.map((st) => st.label)).toEqual(['Start', 'Fetch', 'Connected', 'Bereq', 'Beresp', 'Process', 'BerespBody']);
    expectConsistentSteps(fetchSteps);
    const ping = events.find((e) => e.event === 'cli' && e.command === 'ping')!;
    expect(ping).toMatchObject({ status: 200, outcome: 'ok', args: [] });
    expect(events.find((e) => e.event === 'ban')).toMatchObject({ expression: 'obj.http.x-gone == yes', origin: 'vcl' });
    expect(events.filter((e) => e.event === 'vcl' && e.vcl === 'other').map((e) => e.change)).toEqual(['loaded', 'warm']);
  });

  it('names the steps of a miss, a hit, a restart, a synth and a pipe in its request events (version 3)', async () => {
    await get(p.port, '/cached');
    await get(p.port, '/cached');
    await get(p.port, '/restart');
    await get(p.port, '/bump');
    expect((await get(p.port, '/pipe')).body).toBe('from origin');
    let events: Record<string, unknown>[] = [];
    expect(
      await until(async () => {
        events = await jsonItems(c, ['tplat.events', '-j', 'request']);
        return events.filter((e) => e.url === '/cached').length === 2 && ['/restart', '/bump', '/pipe'].every((u) => events.some((e) => e.url === u));
      }, 5000),
    ).toBe(true);
    type Steps = { label: string; time: number; sinceStart: number; sinceLast: number }[];
    const labels = (e: Record<string, unknown>) => (e.steps as Steps).map((st) => st.label);
    const [miss, hit] = events.filter((e) => e.url === '/cached');
    expect(miss.handling).toBe('miss');
    expect(labels(miss)).toEqual(['Start', 'Req', 'Fetch', 'Process', 'Resp']);
    expect(hit.handling).toBe('hit');
    expect(labels(hit)).toEqual(['Start', 'Req', 'Process', 'Resp']);
    const restarted = events.find((e) => e.url === '/restart')!;
    expect(labels(restarted)).toEqual(['Start', 'Req', 'Restart', 'Fetch', 'Process', 'Resp']);
    expect(labels(events.find((e) => e.url === '/bump')!)).toEqual(['Start', 'Req', 'Process', 'Resp']);
    expect(labels(events.find((e) => e.url === '/pipe')!)).toEqual(['Start', 'Req', 'Process', 'Pipe', 'PipeSess']);
    for (const e of [miss, hit, restarted]) expectConsistentSteps(e.steps as Steps);
  });

  it('names the steps of a retried fetch and of one that ends in vcl_backend_error in its fetch events (version 2)', async () => {
    await get(p.port, '/retry');
    expect((await get(p.port, '/berror')).status).toBe(503);
    let events: Record<string, unknown>[] = [];
    expect(
      await until(async () => {
        events = await jsonItems(c, ['tplat.events', '-j', 'fetch']);
        return ['/retry', '/berror'].every((u) => events.some((e) => e.url === u));
      }, 5000),
    ).toBe(true);
    type Steps = { label: string; time: number; sinceStart: number; sinceLast: number }[];
    const retried = events.find((e) => e.url === '/retry')!;
    expect((retried.steps as Steps).map((st) => st.label)).toEqual(['Start', 'Fetch', 'Connected', 'Bereq', 'Beresp', 'Retry', 'Fetch', 'Connected', 'Bereq', 'Beresp', 'Process', 'BerespBody']);
    expectConsistentSteps(retried.steps as Steps);
    const failed = events.find((e) => e.url === '/berror')!;
    expect(failed).toMatchObject({ error: 'vcl_backend_error' });
    expect((failed.steps as Steps).map((st) => st.label)).toEqual(['Start', 'Fetch', 'Connected', 'Bereq', 'Beresp', 'Error']);
  });

  it('reports a denied command and a failed authentication as their own outcomes, never the secret', async () => {
    const { AdminClient: Client } = await import('../../src/mgmt/admin-client.ts');
    const { connect } = await import('node:net');
    // An unauthenticated client asks for a command: denied, and the connection closes.
    await new Promise<void>((resolve) => {
      const s = connect(p.ops.adminAddress.port, '127.0.0.1', () => s.write('vcl.list\n'));
      s.on('data', () => {});
      s.on('close', () => resolve());
    });
    await expect(Client.connect({ host: '127.0.0.1', port: p.ops.adminAddress.port, secretFile: `${p.dir}/no-such-secret`, timeoutMs: 3000 })).rejects.toThrow();
    let cli: Record<string, unknown>[] = [];
    await until(async () => {
      cli = await jsonItems(c, ['tplat.events', '-j', 'cli']);
      return cli.some((e) => e.outcome === 'denied');
    }, 3000);
    expect(cli.find((e) => e.outcome === 'denied')).toMatchObject({ command: 'vcl.list', status: 101 });
    expect(JSON.stringify(cli)).not.toContain('in-process secret');
  });

  it('purges from outside a request what the builtin vcl_hash filed', async () => {
    const fetches = () => origin.seen.filter((r) => r.url === '/cached').length;
    const before = fetches();
    await get(p.port, '/cached', { headers: { host: 'site.test' } });
    await get(p.port, '/cached', { headers: { host: 'site.test' } });
    expect(fetches()).toBe(before + 1);
    expect(await okBody(c, ['tplat.purge', '/cached', 'site.test'])).toBe('1 purged\n');
    await get(p.port, '/cached', { headers: { host: 'site.test' } });
    expect(fetches()).toBe(before + 2);
  });

  it('names a failed request in its event', async () => {
    expect((await get(p.port, '/fail')).status).toBe(503);
    let events: Record<string, unknown>[] = [];
    await until(async () => {
      events = await jsonItems(c, ['tplat.events', '-j', 'request']);
      return events.some((e) => e.url === '/fail');
    }, 3000);
    expect(events.find((e) => e.url === '/fail')).toMatchObject({ status: 503, handling: 'synth', error: 'VCL failed' });
    expect(events.find((e) => e.url === '/bump')).toMatchObject({ status: 200, error: null });
  });

  it('delivers to the others and answers the request when a handler throws, counting the failure', async () => {
    const before = (await counters(c, 'VMOD.events_failed'))['VMOD.events_failed'];
    expect((await get(p.port, '/throw')).status).toBe(200);
    expect(await until(async () => (await counters(c, 'VMOD.events_failed'))['VMOD.events_failed'] === before + 1, 3000)).toBe(true);
  });

  it('runs jobs while the VCL is warm and cancels them when it goes cold', async () => {
    await okBody(c, ['vcl.inline', 'v2', VCL(origin.port)]);
    const ticksOf = async () => Number((await okBody(c, ['tplat.ticks'])).trim());
    // The command runs the active VCL's VMOD: make v2 active to read its ticks.
    await okBody(c, ['vcl.use', 'v2']);
    expect(await until(async () => (await ticksOf()) >= 2, 3000)).toBe(true);
    await okBody(c, ['vcl.use', 'boot']);
    await okBody(c, ['vcl.state', 'v2', 'cold']);
    await okBody(c, ['vcl.use', 'v2']);
    // Using it warms it again, but the job was cancelled at cold: it stays where it stopped.
    const stopped = await ticksOf();
    await sleep(300);
    expect(await ticksOf()).toBe(stopped);
    await okBody(c, ['vcl.use', 'boot']);
  });

  it('keeps a VCL warm while one of its jobs runs', async () => {
    await okBody(c, ['vcl.inline', 'busy', 'vcl 4.1;\nimport tplat;\nbackend x none;\nsub vcl_init { tplat.busy_job(1s); }\n']);
    // The job starts on the next turn of the event loop; then it holds the VCL.
    expect(await until(async () => (await okBody(c, ['vcl.list'])).includes('held by job of tplat'), 2000)).toBe(true);
    const refused = await c.command(['vcl.state', 'busy', 'cold']);
    expect(refused.status).toBe(300);
    expect(refused.body).toContain('job of tplat');
    expect(await until(async () => (await c.command(['vcl.state', 'busy', 'cold'])).status === 200, 3000)).toBe(true);
    await okBody(c, ['vcl.discard', 'busy']);
  });

  it('removes a VMOD command when the last VCL importing the VMOD is discarded', async () => {
    await okBody(c, ['vcl.inline', 'plain', 'vcl 4.1; backend x none;']);
    await okBody(c, ['vcl.use', 'plain']);
    for (const name of ['boot', 'v2']) await okBody(c, ['vcl.discard', name]);
    const gone = await c.command(['tplat.ticks']);
    expect(gone.status).toBe(101);
  });
});

describe('the worker pool', () => {
  it('runs off the event loop with the class limits: one running, one waiting, the next refused', async () => {
    const p = await inProcess(VCL(origin.port));
    try {
      const started = Date.now();
      const replies = await Promise.all([get(p.port, '/work'), get(p.port, '/work'), get(p.port, '/work')]);
      const statuses = replies.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 200, 503]);
      // A worker thread, not the main one (thread 0).
      for (const r of replies.filter((x) => x.status === 200)) expect(Number(r.reason)).toBeGreaterThan(0);
      // One after the other: the second waited for the first.
      expect(Date.now() - started).toBeGreaterThanOrEqual(550);
    } finally {
      await p.close();
    }
  });

  it('ends a run past its timeout or its heap limit, and the class goes on working', async () => {
    const p = await inProcess(VCL(origin.port));
    try {
      const started = Date.now();
      expect((await get(p.port, '/slow-limited')).reason).toBe('worker pool tplat-limited: timed out after 200 ms');
      expect(Date.now() - started).toBeLessThan(1500);
      expect((await get(p.port, '/hog')).reason).toMatch(/memory limit|out of memory/i);
      expect(Number((await get(p.port, '/quick-limited')).reason)).toBeGreaterThan(0);
    } finally {
      await p.close();
    }
  }, 30_000);

  it('drops skip-on-shutdown work at shutdown and lets the rest finish', async () => {
    const p = await inProcess(VCL(origin.port));
    try {
      const first = get(p.port, '/work');
      await sleep(50);
      const skipped = get(p.port, '/work-skip');
      await sleep(50);
      await p.srv.platform.close(2000);
      expect((await skipped).status).toBe(503);
      expect((await first).status).toBe(200);
    } finally {
      await p.close();
    }
  });
});

describe('$Requires and event versions', () => {
  it('imports the required VMOD with it and runs its events first', async () => {
    const g = globalThis as { __shellacEventOrder?: string[] };
    g.__shellacEventOrder = [];
    const order = g.__shellacEventOrder;
    const p = await inProcess(VCL(origin.port), [['tplat.event_version', '1']]);
    try {
      const boot = order.filter((e) => e.endsWith(':boot'));
      expect(boot.slice(0, 4)).toEqual(['tbase:load:boot', 'tplat:load:boot', 'tbase:warm:boot', 'tplat:warm:boot']);
      // A version 1 subscriber gets version 1's fields only.
      const event = await firstRequestEvent(p, '/v1');
      expect(event).toMatchObject({ version: 1, url: '/v1' });
      expect(event).not.toHaveProperty('timestamps');
      expect(event).not.toHaveProperty('backend');
      expect(event).not.toHaveProperty('steps');
    } finally {
      await p.close();
    }
  });

  it('gives a version 2 subscriber the shape of version 2, without the steps of version 3', async () => {
    const p = await inProcess(VCL(origin.port), [['tplat.event_version', '2']]);
    try {
      const event = await firstRequestEvent(p, '/v2');
      expect(event).toMatchObject({ version: 2, url: '/v2', backend: 'b' });
      expect(Object.keys(event.timestamps as object)).toEqual(['start', 'end']);
      expect(event).not.toHaveProperty('steps');
    } finally {
      await p.close();
    }
  });

  it('refuses a -p value the VMOD parameter does not accept, at load', async () => {
    await expect(inProcess(VCL(origin.port), [['tplat.event_version', '4']])).rejects.toThrow(/tplat\.event_version: Must be no more than 3/);
  });
});
