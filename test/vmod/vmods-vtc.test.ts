// Every varnishtest case a shipped VMOD keeps beside its manifest (vmods/NAME/*.vtc), run
// against a fresh Shellac. Each also passes on varnishd 7.1 with the upstream VMOD installed
// (`shellac test --varnishd vmods/NAME/*.vtc`): that is how these cases were checked.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { runVtcFile } from '../../src/vtc/runner.ts';

const VMODS = join(import.meta.dirname, '../../vmods');
const CASES = readdirSync(VMODS, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) => readdirSync(join(VMODS, d.name)).filter((f) => f.endsWith('.vtc')).map((f) => `${d.name}/${f}`))
  .sort();

it('finds the cases', () => {
  expect(CASES.length).toBeGreaterThanOrEqual(9);
});

it.each(CASES)('%s passes', async (name) => {
  const r = await runVtcFile(join(VMODS, name));
  expect([r.status, r.reason]).toEqual(['passed', undefined]);
});
