// saintmode through a running Shellac: saintmode.vtc, a varnishtest case that also passes on varnishd 7.1
// with varnish-modules (`shellac test --varnishd vmods/saintmode/saintmode.vtc`).

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runVtcFile } from '../../src/vtc/runner.ts';

it('saintmode.vtc passes', async () => {
  const r = await runVtcFile(join(import.meta.dirname, 'saintmode.vtc'));
  expect([r.status, r.reason]).toEqual(['passed', undefined]);
});
