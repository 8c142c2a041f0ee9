// str through a running Shellac: str.vtc, a varnishtest case that also passes on varnishd 7.1
// with varnish-modules (`shellac test --varnishd vmods/str/str.vtc`).

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runVtcFile } from '../../src/vtc/runner.ts';

it('str.vtc passes', async () => {
  const r = await runVtcFile(join(import.meta.dirname, 'str.vtc'));
  expect([r.status, r.reason]).toEqual(['passed', undefined]);
});
