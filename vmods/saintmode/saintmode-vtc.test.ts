// saintmode through a running Shellac: varnishtest cases that also pass on varnishd 7.1 with
// varnish-modules (`shellac test --varnishd vmods/saintmode/*.vtc`).

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runVtcFile } from '../../src/vtc/runner.ts';

it.each(['saintmode.vtc', 'saintmode-threshold.vtc'])('%s passes', async (name) => {
  const r = await runVtcFile(join(import.meta.dirname, name));
  expect([r.status, r.reason]).toEqual(['passed', undefined]);
});
