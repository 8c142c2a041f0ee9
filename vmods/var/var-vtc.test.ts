// var through a running Shellac: var.vtc, a varnishtest case that also passes on varnishd 7.1
// with varnish-modules (`shellac test --varnishd vmods/var/var.vtc`).

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runVtcFile } from '../../src/vtc/runner.ts';

it('var.vtc passes', async () => {
  const r = await runVtcFile(join(import.meta.dirname, 'var.vtc'));
  expect([r.status, r.reason]).toEqual(['passed', undefined]);
});
