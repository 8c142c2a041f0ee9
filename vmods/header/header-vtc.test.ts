// header through a running Shellac: header.vtc, a varnishtest case that also passes on varnishd 7.1
// with varnish-modules (`shellac test --varnishd vmods/header/header.vtc`).

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runVtcFile } from '../../src/vtc/runner.ts';

it('header.vtc passes', async () => {
  const r = await runVtcFile(join(import.meta.dirname, 'header.vtc'));
  expect([r.status, r.reason]).toEqual(['passed', undefined]);
});
