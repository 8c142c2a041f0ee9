// The storage allocator (src/cache/arena.ts) and its spaces: placement, reuse of what is given
// back, joining of free neighbours (fragmentation), slab boundaries, exhaustion, and bytes
// that come back as they went in, from memory and from a file.

import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Arena, GRANULE } from '../../src/cache/arena.ts';
import { FileSpace, MemorySpace } from '../../src/cache/space.ts';

const KB = 1024;

describe('Arena', () => {
  it('places allocations without overlap, rounded to the granule', () => {
    const arena = new Arena(64 * KB, 64 * KB);
    const taken: [number, number][] = [];
    for (const size of [1, 7, 8, 9, 100, 1000, 4096, 10]) {
      const at = arena.alloc(size);
      expect(at).toBeGreaterThanOrEqual(0);
      expect(at % GRANULE).toBe(0);
      for (const [a, s] of taken) expect(at + size <= a || at >= a + s).toBe(true);
      taken.push([at, Arena.rounded(size)]);
    }
    expect(arena.used).toBe(taken.reduce((n, [, s]) => n + s, 0));
    expect(arena.allocations).toBe(taken.length);
  });

  it('is exhausted at its capacity, and whole again once everything is given back', () => {
    const arena = new Arena(16 * KB, 16 * KB);
    const offsets: number[] = [];
    for (;;) {
      const at = arena.alloc(1000);
      if (at < 0) break;
      offsets.push(at);
    }
    expect(offsets.length).toBe(Math.floor((16 * KB) / Arena.rounded(1000)));
    expect(arena.alloc(Arena.rounded(1000))).toBe(-1);
    // Bigger than the space, or than a slab, or nothing: never.
    expect(arena.alloc(16 * KB + 1)).toBe(-1);
    expect(arena.alloc(0)).toBe(-1);
    for (const at of offsets) arena.release(at, 1000);
    expect(arena.used).toBe(0);
    expect(arena.freeRanges).toBe(1);
    expect(arena.alloc(16 * KB)).toBe(0);
  });

  it('reuses a freed range for the next allocation of its size', () => {
    const arena = new Arena(64 * KB, 64 * KB);
    const a = arena.alloc(200);
    const b = arena.alloc(200);
    arena.alloc(200);
    arena.release(b, 200);
    expect(arena.alloc(200)).toBe(b);
    arena.release(a, 200);
    expect(arena.alloc(100)).toBe(a);
  });

  it('joins freed neighbours, so alternate frees leave no fragments behind', () => {
    const arena = new Arena(64 * KB, 64 * KB);
    const offsets: number[] = [];
    for (let i = 0; i < 64; i++) offsets.push(arena.alloc(KB));
    expect(arena.freeRanges).toBe(0);
    // Every other range: 32 holes of 1 KB, and no 2 KB range anywhere.
    for (let i = 0; i < 64; i += 2) arena.release(offsets[i], KB);
    expect(arena.freeRanges).toBe(32);
    expect(arena.freeRangesBelow(2 * KB)).toBe(32);
    expect(arena.alloc(2 * KB)).toBe(-1);
    // The rest: each joins its two neighbours, down to one range of the whole space.
    for (let i = 1; i < 64; i += 2) arena.release(offsets[i], KB);
    expect(arena.freeRanges).toBe(1);
    expect(arena.alloc(64 * KB)).toBe(0);
  });

  it('never places across a slab boundary, nor joins across one', () => {
    const arena = new Arena(32 * KB, 8 * KB);
    expect(arena.slabBytes).toBe(8 * KB);
    expect(arena.alloc(8 * KB + 8)).toBe(-1);
    const offsets = [arena.alloc(6 * KB), arena.alloc(6 * KB), arena.alloc(6 * KB), arena.alloc(6 * KB)];
    for (const at of offsets) expect(Math.floor(at / (8 * KB))).toBe(Math.floor((at + 6 * KB - 1) / (8 * KB)));
    expect(new Set(offsets.map((at) => Math.floor(at / (8 * KB)))).size).toBe(4);
    for (const at of offsets) arena.release(at, 6 * KB);
    expect(arena.freeRanges).toBe(4);
  });

  it('refuses a release it did not hand out', () => {
    const arena = new Arena(16 * KB, 16 * KB);
    const at = arena.alloc(100);
    expect(() => arena.release(at + 3, 100)).toThrow(RangeError);
    expect(() => arena.release(32 * KB, 100)).toThrow(RangeError);
    arena.release(at, 100);
    expect(() => arena.release(at, 100)).toThrow(RangeError);
  });

  it('keeps placing after many rounds of random frees (fragmentation stays bounded)', () => {
    const arena = new Arena(1024 * KB, 256 * KB);
    const live = new Map<number, number>();
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let failed = 0;
    let lowestUseAtFailure = 1;
    for (let round = 0; round < 20_000; round++) {
      if (live.size > 0 && (rand(3) === 0 || arena.free < 64 * KB)) {
        const [at, size] = [...live][rand(live.size)];
        live.delete(at);
        arena.release(at, size);
      } else {
        const size = 1 + rand(8 * KB);
        const at = arena.alloc(size);
        if (at < 0) {
          failed++;
          lowestUseAtFailure = Math.min(lowestUseAtFailure, arena.used / arena.capacity);
        } else live.set(at, size);
      }
    }
    // Free ranges are never more than the live allocations plus one per slab.
    expect(arena.freeRanges).toBeLessThanOrEqual(live.size + 4);
    // An allocation of up to 8 KB fails only when the space is mostly in use.
    expect(failed).toBeGreaterThan(0);
    expect(lowestUseAtFailure).toBeGreaterThan(0.85);
    for (const [at, size] of live) arena.release(at, size);
    expect(arena.used).toBe(0);
    expect(arena.freeRanges).toBe(4);
  });
});

describe('spaces', () => {
  it('memory: bytes come back as written, slabs made only where something landed', () => {
    const space = new MemorySpace(64 * KB, 16 * KB);
    expect(space.resident).toBe(0);
    space.write(40 * KB + 8, Buffer.from('hello'));
    expect(space.resident).toBe(16 * KB);
    const copy = space.read(40 * KB + 8, 5);
    expect(copy.toString()).toBe('hello');
    // A copy: writing the range again does not change what a reader holds.
    space.write(40 * KB + 8, Buffer.from('HELLO'));
    expect(copy.toString()).toBe('hello');
  });

  it('file: sized at creation, bytes come back as written', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shellac-space-'));
    try {
      const path = join(dir, 'store');
      const space = new FileSpace(path, 1024 * KB);
      expect(statSync(path).size).toBe(1024 * KB);
      const data = Buffer.alloc(100 * KB, 'z');
      space.write(512 * KB, data);
      expect(space.read(512 * KB, 100 * KB).equals(data)).toBe(true);
      space.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
