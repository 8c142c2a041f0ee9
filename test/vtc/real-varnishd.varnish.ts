// The runner against real varnishd 7.1 (installed with `apt-get install -y varnish`): three of
// Varnish's own test cases pass, our case covering the varnish command passes, and a case with
// a wrong counter fails. Run by `npm run conformance:varnish` only.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runVtcFiles } from '../../src/vtc/runner.ts';
import { varnishdDriver } from '../../src/vtc/varnish-driver.ts';

const CORE = join(import.meta.dirname, '../../../shared/conformance/vtc/core');
const CASES = join(import.meta.dirname, 'cases');

describe('shellac test --varnishd', () => {
  it('passes Varnish test cases on real varnishd: pipe and counters, CLI here-documents, unix sockets', async () => {
    const files = ['b00001.vtc', 'r00917.vtc', 'v00054.vtc'].map((f) => join(CORE, f));
    const s = await runVtcFiles(files, { jobs: 3, keepGoing: true, driver: varnishdDriver() });
    expect(s.results.map((r) => [r.file, r.status, r.reason])).toEqual(files.map((f) => [f, 'passed', undefined]));
  });

  it('drives every varnish option of our own case', async () => {
    const s = await runVtcFiles([join(CASES, 'varnish-commands.vtc')], { driver: varnishdDriver() });
    expect([s.results[0].status, s.results[0].reason]).toEqual(['passed', undefined]);
  });

  it('fails a test whose counter does not match', async () => {
    const s = await runVtcFiles([join(CASES, 'varnish-fail-counter.vtc')], { driver: varnishdDriver() });
    expect(s.results[0].status).toBe('failed');
    expect(s.results[0].reason).toBe('v1: Not true: client_req (1) == 2 (2)');
  });
});
