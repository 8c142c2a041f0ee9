// The VCL bench/compile.ts times must stay valid VCL, or the bench would time error paths.

import { expect, it } from 'vitest';
import { generateVcl } from '../../bench/compile.ts';
import { listed, check } from './check-util.ts';

it('the generated bench VCL checks clean, without warnings', () => {
  const r = check(generateVcl(3));
  expect([...listed(r), ...listed(r, 'warning')]).toEqual([]);
  expect(r.checked?.backends.map((b) => b.name)).toEqual(['app_0', 'app_1', 'app_2']);
});
