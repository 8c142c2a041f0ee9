// The runner over our own VTC files (servers and clients only, no varnish): each supported
// command passes where it should, and the files that must fail are reported failed for the
// right reason (a logexpect with no varnish to read too); skips are skips. Then the `shellac
// test` command's output and exit status.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { formatResultLine, runVtcFiles, type VtcResult } from '../../src/vtc/runner.ts';

const CASES = join(import.meta.dirname, 'cases');
const MAIN = join(import.meta.dirname, '../../src/cli/main.ts');

const PASSING = [
  'http-basic',
  'http-chunked',
  'http-raw',
  'http-gzip',
  'barrier-delay',
  'server-modes',
  'macros-shell',
  'non-fatal',
  'extensions',
];

/** File → the reason it must fail with. */
const FAILING: Record<string, RegExp> = {
  'fail-expect': /^c1: EXPECT resp\.status \(404\) == "200" failed$/,
  'fail-unexpected-url': /^s1: EXPECT req\.url \(\/surprise\) == "\/expected" failed$/,
  'fail-extra-request': /^c1: HTTP header is incomplete/,
  'fail-timeout': /^c1: HTTP rx timeout \(500 ms\)$/,
  'fail-unsupported': /^c1: unsupported: unknown command 'frobnicate'$/,
  'fail-macro': /^top: Macro \$\{no_such_macro\} not found$/,
  'fail-barrier': /^top: Barrier\(b1\) use error: more waiters than the 2 expected$/,
  'fail-shell': /^top: shell_exit not as expected: got 1 wanted 0$/,
  'fail-logexpect': /^l1: -v: no varnish instance 'v1'$/,
};

const SKIPPED: Record<string, RegExp> = {
  'feature-skip': /^lacking: cmd$/,
};

const file = (name: string) => join(CASES, `${name}.vtc`);

describe('runVtcFiles', () => {
  it('runs every case and reports each as it should end', async () => {
    const names = [...PASSING, ...Object.keys(FAILING), ...Object.keys(SKIPPED)];
    const seen: VtcResult[] = [];
    const summary = await runVtcFiles(names.map(file), { jobs: 6, keepGoing: true, timeout: 20, onResult: (r) => seen.push(r) });
    const byName = new Map(summary.results.map((r) => [r.file, r]));
    for (const n of PASSING) {
      const r = byName.get(file(n));
      expect({ n, status: r?.status, reason: r?.reason }).toEqual({ n, status: 'passed', reason: undefined });
    }
    for (const [n, why] of Object.entries(FAILING)) {
      const r = byName.get(file(n));
      expect({ n, status: r?.status }).toEqual({ n, status: 'failed' });
      expect(r?.reason).toMatch(why);
      // The log says where it failed: a level-0 line.
      expect(r?.log.some((l) => l.startsWith('---- '))).toBe(true);
    }
    for (const [n, why] of Object.entries(SKIPPED)) {
      const r = byName.get(file(n));
      expect({ n, status: r?.status }).toEqual({ n, status: 'skipped' });
      expect(r?.reason).toMatch(why);
    }
    expect(summary).toMatchObject({
      passed: PASSING.length,
      failed: Object.keys(FAILING).length,
      skipped: Object.keys(SKIPPED).length,
    });
    expect(seen).toHaveLength(names.length);
  }, 60_000);

  it('fails a test that runs past its timeout, and stops what it started', async () => {
    const t0 = performance.now();
    const s = await runVtcFiles([file('fail-test-timeout')], { timeout: 1 });
    expect(s.results[0].status).toBe('failed');
    expect(s.results[0].reason).toBe('top: TEST timed out after 1 s');
    expect(performance.now() - t0).toBeLessThan(10_000);
  }, 20_000);

  it('starts no new file after a failure unless told to keep going', async () => {
    const s = await runVtcFiles([file('fail-expect'), file('http-basic')], { jobs: 1 });
    expect(s.results.map((r) => r.status)).toEqual(['failed']);
    expect(s).toMatchObject({ passed: 0, failed: 1, skipped: 0 });
  }, 20_000);

  it('reports a file it cannot read as failed', async () => {
    const s = await runVtcFiles([join(CASES, 'no-such-file.vtc')]);
    expect(s.results[0].status).toBe('failed');
    expect(s.results[0].reason).toMatch(/^cannot read/);
  });

  it('formats one line per file', () => {
    const line = formatResultLine({ file: 'a.vtc', status: 'passed', duration: 1.2345, log: [] });
    expect(line).toBe('#    top  TEST a.vtc passed (1.234)');
    expect(formatResultLine({ file: 'b.vtc', status: 'failed', reason: 'c1: boom', duration: 0, log: [] })).toBe(
      '#    top  TEST b.vtc FAILED (0.000) c1: boom',
    );
  });
});

describe('shellac test', () => {
  const run = promisify(execFile);

  it('prints a line per file and the summary, exit 0 when none failed', async () => {
    const { stdout } = await run(process.execPath, [MAIN, 'test', '-j', '2', file('http-basic'), file('feature-skip')]);
    expect(stdout).toMatch(/TEST .*http-basic\.vtc passed \(\d+\.\d{3}\)/);
    expect(stdout).toMatch(/TEST .*feature-skip\.vtc skipped/);
    expect(stdout.trimEnd().split('\n').at(-1)).toBe('1 passed, 0 failed, 1 skipped');
  }, 20_000);

  it('exits 1 and shows the failing log when a file fails', async () => {
    const err = await run(process.execPath, [MAIN, 'test', '-k', file('fail-expect'), file('http-raw')]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 1 });
    const out = (err as { stdout: string }).stdout;
    expect(out).toContain('---- c1    EXPECT resp.status (404) == "200" failed');
    expect(out.trimEnd().split('\n').at(-1)).toBe('1 passed, 1 failed, 0 skipped');
  }, 20_000);

  it('exits 2 on bad usage', async () => {
    const err = await run(process.execPath, [MAIN, 'test']).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 2 });
  });
});
