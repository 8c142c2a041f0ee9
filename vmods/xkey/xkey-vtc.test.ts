// xkey through a running Shellac: xkey.vtc, a varnishtest case that also passes on varnishd 7.1
// with varnish-modules (`shellac test --varnishd vmods/xkey/xkey.vtc`).

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runVtcFile } from '../../src/vtc/runner.ts';

it('xkey.vtc passes', async () => {
  const r = await runVtcFile(join(import.meta.dirname, 'xkey.vtc'));
  expect([r.status, r.reason]).toEqual(['passed', undefined]);
});
