// The cache process's heap flags and environment: given unless the operator gave their own.

import { describe, expect, it } from 'vitest';
import { childEnv, childHeapFlags } from '../../src/cache/heap-flags.ts';

describe('childHeapFlags', () => {
  it('gives the young generation and growth flags', () => {
    expect(childHeapFlags([])).toEqual(['--max-semi-space-size=4', '--heap-growing-percent=100']);
  });

  it("keeps the operator's own value of a flag, however spelled", () => {
    expect(childHeapFlags(['--max-semi-space-size=64'])).toEqual(['--heap-growing-percent=100']);
    expect(childHeapFlags(['--heap_growing_percent=20', '--trace-gc'])).toEqual(['--max-semi-space-size=4']);
    expect(childHeapFlags(['--max-old-space-size=512'])).toHaveLength(2);
  });
});

describe('childEnv', () => {
  it("gives one malloc arena unless the operator's environment says otherwise", () => {
    expect(childEnv({})).toEqual({ MALLOC_ARENA_MAX: '1', MALLOC_MMAP_THRESHOLD_: '131072' });
    expect(childEnv({ MALLOC_ARENA_MAX: '4', PATH: '/bin' })).toEqual({ MALLOC_MMAP_THRESHOLD_: '131072' });
    expect(childEnv({ MALLOC_ARENA_MAX: '4', MALLOC_MMAP_THRESHOLD_: '65536' })).toEqual({});
  });
});
