// Hot reload under traffic on a running `shellac serve`: 100 vcl.use switches while requests
// are in flight lose none, and each request finishes on the VCL it started on; SIGHUP reloads
// the -f file (compile, load, use, discard the old one after its last request), and a file
// that no longer compiles changes nothing.

import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, type Origin, startOrigin } from '../helpers/proxy.ts';
import { okBody, type Served, serve, tempDir, until, writeIn } from './helpers.ts';

/** A VCL that stamps its name at vcl_recv and at vcl_deliver. */
function vclText(port: number, name: string): string {
  return `vcl 4.1;
backend default { .host = "127.0.0.1"; .port = "${port}"; }
sub vcl_recv { set req.http.x-start = "${name}"; return (pass); }
sub vcl_deliver { set resp.http.x-vcl = "${name}"; set resp.http.x-start = req.http.x-start; }
`;
}

let origin: Origin;
beforeAll(async () => {
  // Each answer takes a few milliseconds, so that requests are in flight during switches; /slow
  // takes longer, to hold a request across a reload.
  origin = await startOrigin((req, res) => {
    const ms = req.url === '/slow' ? 800 : 3;
    setTimeout(() => res.end(`body of ${req.url}`), ms);
  });
});
afterAll(async () => {
  await origin.close();
});

describe('vcl.use under load', () => {
  let s: Served;
  afterAll(async () => {
    expect(await s.stop()).toBe(0);
  });

  it('switches VCL 100 times while requests flow, with no failed request', async () => {
    const dir = tempDir();
    s = await serve(['-f', writeIn(dir, 'v0.vcl', vclText(origin.port, 'v0'))]);
    const c = await s.admin();
    await okBody(c, ['vcl.load', 'v1', writeIn(dir, 'v1.vcl', vclText(origin.port, 'v1'))]);
    await okBody(c, ['vcl.load', 'v2', writeIn(dir, 'v2.vcl', vclText(origin.port, 'v2'))]);

    let switching = true;
    const failures: string[] = [];
    const seen = new Map<string, number>();
    let total = 0;
    const worker = async (id: number): Promise<void> => {
      // Bounded: stops when the switches are done, or after 5000 requests at the most.
      for (let i = 0; switching && i < 5000; i++) {
        try {
          const r = await get(s.port, `/w${id}/${i}`);
          total++;
          const vcl = String(r.headers['x-vcl']);
          if (r.status !== 200 || r.body !== `body of /w${id}/${i}`) failures.push(`${r.status} ${r.body}`);
          else if (r.headers['x-start'] !== vcl) failures.push(`started on ${r.headers['x-start']}, delivered by ${vcl}`);
          seen.set(vcl, (seen.get(vcl) ?? 0) + 1);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    };
    const workers = Array.from({ length: 8 }, (_, i) => worker(i));
    for (let n = 0; n < 100; n++) {
      await okBody(c, ['vcl.use', n % 2 === 0 ? 'v1' : 'v2']);
      await new Promise((r) => setTimeout(r, 10));
    }
    switching = false;
    await Promise.all(workers);
    c.close();
    expect(failures).toEqual([]);
    expect(total).toBeGreaterThan(100);
    expect(seen.get('v1')).toBeGreaterThan(0);
    expect(seen.get('v2')).toBeGreaterThan(0);
    // The last switch was to v2: it answers now, and no VCL is left busy.
    expect((await get(s.port, '/after')).headers['x-vcl']).toBe('v2');
    const c2 = await s.admin();
    const rows = JSON.parse(await okBody(c2, ['vcl.list', '-j'])).slice(3) as { name: string; busy: number }[];
    expect(rows.map((r) => [r.name, r.busy])).toEqual([
      ['boot', 0],
      ['v1', 0],
      ['v2', 0],
    ]);
    c2.close();
  });
});

describe('SIGHUP', () => {
  it('reloads the -f file, lets a request in flight finish on the old VCL, then discards it', async () => {
    const dir = tempDir();
    const file = writeIn(dir, 'main.vcl', vclText(origin.port, 'first'));
    const s = await serve(['-f', file]);
    try {
      expect((await get(s.port, '/')).headers['x-vcl']).toBe('first');
      const slow = get(s.port, '/slow');
      await new Promise((r) => setTimeout(r, 200));
      writeFileSync(file, vclText(origin.port, 'second'));
      s.proc.kill('SIGHUP');
      expect(await until(async () => (await get(s.port, '/')).headers['x-vcl'] === 'second', 10_000)).toBe(true);
      const r = await slow;
      expect(r.status).toBe(200);
      expect(r.headers['x-vcl']).toBe('first');
      const c = await s.admin();
      const list = await okBody(c, ['vcl.list']);
      expect(list).toMatch(/^active\s+auto\s+warm\s+0\s+reload_\d+_1$/m);
      expect(list).not.toMatch(/\bboot\b/);

      // A file that no longer compiles: logged, nothing changes.
      writeFileSync(file, 'vcl 4.1;\nsub vcl_recv { set req.nosuch = 1; }\n');
      s.proc.kill('SIGHUP');
      expect(await until(() => s.stderr().includes('was not loaded'), 10_000)).toBe(true);
      expect(s.stderr()).toContain("Symbol not found: 'req.nosuch'");
      expect((await get(s.port, '/')).headers['x-vcl']).toBe('second');
      expect(await okBody(c, ['vcl.list'])).toBe(list);
      c.close();
    } finally {
      expect(await s.stop()).toBe(0);
    }
  });
});
