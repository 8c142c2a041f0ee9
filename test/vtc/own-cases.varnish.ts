// Our cases that exercise what real Varnish has (logexpect, vmod vtc) hold for Varnish itself:
// varnishtest 7.1 passes the passing ones and fails the failing one, as Shellac's runner does
// (logexpect.test.ts, vmods/vtc/vtc-vcl.test.ts); and our runner's logexpect, reading real
// varnishd's log, says the same. Run by `npm run conformance:varnish` only.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runVtcFiles } from '../../src/vtc/runner.ts';
import { varnishdDriver } from '../../src/vtc/varnish-driver.ts';

const CASES = join(import.meta.dirname, 'cases');
const varnishtest = (name: string) =>
  promisify(execFile)('varnishtest', ['-q', '-t', '60', join(CASES, `${name}.vtc`)]).then(
    () => 0,
    (e: { code?: number }) => e.code ?? -1,
  );

describe('our cases on varnishtest', () => {
  it('passes logexpect-order and fails fail-logexpect-mismatch', async () => {
    expect(await varnishtest('logexpect-order')).toBe(0);
    expect(await varnishtest('fail-logexpect-mismatch')).not.toBe(0);
  });

  it('passes vmod-vtc', async () => {
    expect(await varnishtest('vmod-vtc')).toBe(0);
  });
});

describe('our runner on real varnishd: logexpect reads varnishlog', () => {
  it('passes logexpect-order and fails fail-logexpect-mismatch with the line Varnish logged', async () => {
    const files = ['logexpect-order', 'fail-logexpect-mismatch'].map((n) => join(CASES, `${n}.vtc`));
    const s = await runVtcFiles(files, { keepGoing: true, timeout: 30, driver: varnishdDriver() });
    expect(s.results.map((r) => [r.status, r.reason])).toEqual([
      ['passed', undefined],
      ['failed', 'l1: expectation failed: expect 0 = ReqURL /bar, got 1001 ReqProtocol HTTP/1.1'],
    ]);
  });
});
