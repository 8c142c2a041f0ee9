// logexpect over Shellac's transaction records, through the runner and a real Shellac instance:
// our case (which real varnishtest passes too, see own-cases.varnish.ts) passes, an expectation
// the log does not meet fails the test with the line it got, and a logexpect that cannot run
// fails the test rather than skipping it.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runVtcFiles } from '../../src/vtc/runner.ts';

const CASES = join(import.meta.dirname, 'cases');
const file = (name: string) => join(CASES, `${name}.vtc`);

describe('logexpect', () => {
  it('matches requests, fetches, VCL calls and std.log lines in order; -d, -g request, -q, -i, ?, fail and -err', async () => {
    const s = await runVtcFiles([file('logexpect-order')], { timeout: 30 });
    expect([s.results[0].status, s.results[0].reason]).toEqual(['passed', undefined]);
    // Each logexpect ended; the matched lines are in the log.
    const log = s.results[0].log.join('\n');
    expect(log).toMatch(/l1 +match\| +1001 VCL_Log +in recv/);
    expect(log).toMatch(/l5 +end\| failed as expected \(-err\)/);
  }, 60_000);

  it('fails the test on an expectation the log does not meet, naming the line it got', async () => {
    const s = await runVtcFiles([file('fail-logexpect-mismatch')], { timeout: 30 });
    expect(s.results[0].status).toBe('failed');
    expect(s.results[0].reason).toBe('l1: expectation failed: expect 0 = ReqURL /bar, got 1001 ReqProtocol HTTP/1.1');
  }, 60_000);

  it('fails, never skips, what it cannot do: -g session', async () => {
    const s = await runVtcFiles([file('fail-logexpect-session')], { timeout: 30 });
    expect(s.results[0].status).toBe('failed');
    expect(s.results[0].reason).toMatch(/^l1: unsupported: logexpect -g session/);
  }, 60_000);
});
