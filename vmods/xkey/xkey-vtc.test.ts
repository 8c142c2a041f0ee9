// xkey through a running Shellac: xkey.vtc, a xkeynishtest case that also passes on xkeynishd 7.1
// with xkeynish-modules (`shellac test --xkeynishd vmods/xkey/xkey.vtc`).

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runVtcFile } from '../../src/vtc/runner.ts';

it('xkey.vtc passes', async () => {
  const r = await runVtcFile(join(import.meta.dirname, 'xkey.vtc'));
  expect([r.status, r.reason]).toEqual(['passed', undefined]);
});
