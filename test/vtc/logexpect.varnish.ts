// Our logexpect cases hold for real Varnish: varnishtest 7.1 passes the passing one and fails
// the failing ones, as Shellac's runner does (logexpect.test.ts). Run by `npm run
// conformance:varnish` only.

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const CASES = join(import.meta.dirname, 'cases');
const varnishtest = (name: string) =>
  promisify(execFile)('varnishtest', ['-q', '-t', '60', join(CASES, `${name}.vtc`)]).then(
    () => 0,
    (e: { code?: number }) => e.code ?? -1,
  );

describe('logexpect cases on varnishtest', () => {
  it('passes logexpect-order and fails fail-logexpect-mismatch', async () => {
    expect(await varnishtest('logexpect-order')).toBe(0);
    expect(await varnishtest('fail-logexpect-mismatch')).not.toBe(0);
  });
});
