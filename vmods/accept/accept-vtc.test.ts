// accept through a running Shellac: accept.vtc, a varnishtest case that also passes on varnishd 7.1
// with varnish-modules (`shellac test --varnishd vmods/accept/accept.vtc`).

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runVtcFile } from '../../src/vtc/runner.ts';

it('accept.vtc passes', async () => {
  const r = await runVtcFile(join(import.meta.dirname, 'accept.vtc'));
  expect([r.status, r.reason]).toEqual(['passed', undefined]);
});
