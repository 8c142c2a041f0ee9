// Transaction records from a running server, read live over the admin connection: shellac log
// with a query, shellac ncsa, each seeing the requests made while it listens.

import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { get } from '../helpers/proxy.ts';
import { readWhileTraffic, type Served, serve, tempDir, writeIn } from './helpers.ts';

let served: Served | undefined;
let reader: ChildProcess | undefined;
afterEach(async () => {
  reader?.kill('SIGTERM');
  await served?.stop();
  served = reader = undefined;
});

const VCL = `vcl 4.1;
import std;
backend default none;
sub vcl_recv {
  std.log("seen " + req.url);
  if (req.url == "/bad") { return (synth(503, "Nope")); }
  return (synth(200, "Fine"));
}`;

/** Starts a reader command and resolves with its output once `done` says so (bounded). */
async function read(args: string[], start: () => Promise<void>, done: (out: string) => boolean): Promise<string> {
  const r = readWhileTraffic(args, start, { done });
  reader = r.proc;
  const { out } = await r.result;
  if (!done(out)) throw new Error(`the reader ended without the expected output: ${out}`);
  return out;
}

describe('live transaction records', () => {
  it('shellac log -q shows the requests the query picks, with their VCL calls and std.log lines', async () => {
    const dir = tempDir();
    served = await serve(['-f', writeIn(dir, 'a.vcl', VCL)]);
    const s = served;
    const target = ['-T', `127.0.0.1:${s.adminPort}`, '-S', s.secretFile];
    const out = await read(
      ['log', ...target, '-q', 'RespStatus >= 500'],
      async () => {
        await get(s.port, '/good');
        await get(s.port, '/bad');
      },
      (o) => o.includes('/bad'),
    );
    expect(out).toContain('/bad');
    expect(out).toContain('seen /bad');
    expect(out).not.toContain('/good');
  });

  it('shellac ncsa prints a combined log line per request', async () => {
    const dir = tempDir();
    served = await serve(['-f', writeIn(dir, 'a.vcl', VCL)]);
    const s = served;
    const out = await read(
      ['ncsa', '-T', `127.0.0.1:${s.adminPort}`, '-S', s.secretFile],
      async () => {
        await get(s.port, '/page?x=1');
      },
      (o) => o.includes('/page'),
    );
    expect(out).toMatch(/^127\.0\.0\.1 - - \[[^\]]+\] "GET (http:\/\/[^/]+)?\/page\?x=1 HTTP\/1\.1" 200 \d+ /m);
  });
});
