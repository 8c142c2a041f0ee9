// The cache process's heap flags: given unless node was given the same flag (either spelling).

import { describe, expect, it } from 'vitest';
import { childHeapFlags } from '../../src/cache/heap-flags.ts';

describe('childHeapFlags', () => {
  it('gives the young generation and growth flags', () => {
    expect(childHeapFlags([])).toEqual(['--max-semi-space-size=16', '--heap-growing-percent=100']);
  });

  it("keeps the operator's own value of a flag, however spelled", () => {
    expect(childHeapFlags(['--max-semi-space-size=64'])).toEqual(['--heap-growing-percent=100']);
    expect(childHeapFlags(['--heap_growing_percent=20', '--trace-gc'])).toEqual(['--max-semi-space-size=16']);
    expect(childHeapFlags(['--max-old-space-size=512'])).toHaveLength(2);
  });
});
