// bodyaccess through a running Shellac: bodyaccess.vtc, a varnishtest case that also passes on varnishd 7.1
// with varnish-modules (`shellac test --varnishd vmods/bodyaccess/bodyaccess.vtc`).

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runVtcFile } from '../../src/vtc/runner.ts';

it('bodyaccess.vtc passes', async () => {
  const r = await runVtcFile(join(import.meta.dirname, 'bodyaccess.vtc'));
  expect([r.status, r.reason]).toEqual(['passed', undefined]);
});
