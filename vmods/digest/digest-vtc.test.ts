// digest through a running Shellac: digest.vtc, a varnishtest case that also passes on varnishd 7.1
// with libvmod-digest (Debian varnish-vmod-digest) (`shellac test --varnishd vmods/digest/digest.vtc`).

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runVtcFile } from '../../src/vtc/runner.ts';

it('digest.vtc passes', async () => {
  const r = await runVtcFile(join(import.meta.dirname, 'digest.vtc'));
  expect([r.status, r.reason]).toEqual(['passed', undefined]);
});
