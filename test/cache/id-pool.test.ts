// The id pool against a model (a set of ids in use): every take is the lowest id not in use,
// a cut never drops an id in use and leaves one spare block above the highest, and the pool
// grows again after a cut.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdPool } from '../../src/cache/id-pool.ts';

const SHIFT = 5;
const BLOCK = 1 << SHIFT;

describe('IdPool', () => {
  it('hands out the lowest free id and cuts the top only above the highest in use', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(400)), { maxLength: 600 }), (ops) => {
        const pool = new IdPool(SHIFT);
        const used = new Set<number>();
        let made = 0;
        for (const [take, pick] of ops) {
          if (take || used.size === 0) {
            let lowest = 0;
            while (used.has(lowest)) lowest++;
            const id = pool.take();
            expect(id).toBe(lowest);
            used.add(id);
            made = Math.max(made, id + 1);
          } else {
            const ids = [...used];
            const id = ids[pick % ids.length];
            used.delete(id);
            const cut = pool.give(id);
            const highest = Math.max(-1, ...used);
            const wanted = (Math.floor(highest / BLOCK) + 2) * BLOCK;
            if (cut >= 0) {
              expect(cut).toBe(wanted);
              made = cut;
            } else expect(wanted >= made || blockBusy(used, id)).toBe(true);
            for (const u of used) expect(u).toBeLessThan(pool.made);
          }
          expect(pool.made).toBe(made);
          expect(pool.live).toBe(used.size);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('stays true to the model through growth past 20,000 ids, cuts and shrinking, in bursts', () => {
    fc.assert(
      // A burst takes, gives at random, or gives the highest first (which empties the top).
      fc.property(fc.array(fc.tuple(fc.constantFrom('take', 'random', 'highest'), fc.integer({ min: 1, max: 30_000 }), fc.nat()), { minLength: 1, maxLength: 12 }), (bursts) => {
        const pool = new IdPool(SHIFT);
        const used: number[] = [];
        const isUsed = new Uint8Array(1 << 17);
        let lowest = 0;
        for (const [kind, count, seed] of bursts) {
          let x = seed;
          if (kind === 'highest') used.sort((a, b) => a - b);
          for (let i = 0; i < count; i++) {
            if (kind === 'take' || used.length === 0) {
              while (isUsed[lowest] === 1) lowest++;
              const id = pool.take();
              if (id !== lowest) expect(id).toBe(lowest);
              isUsed[id] = 1;
              used.push(id);
            } else {
              x = (Math.imul(x, 1103515245) + 12345) >>> 0;
              const k = kind === 'highest' ? used.length - 1 : x % used.length;
              const id = used[k];
              used[k] = used[used.length - 1];
              used.pop();
              isUsed[id] = 0;
              if (id < lowest) lowest = id;
              pool.give(id);
            }
          }
          expect(pool.live).toBe(used.length);
          let highest = -1;
          for (const u of used) highest = Math.max(highest, u);
          expect(pool.made).toBeGreaterThan(highest);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('gives a million ids back to one block, then grows again from the bottom', () => {
    const pool = new IdPool(12);
    for (let i = 0; i < 1_000_000; i++) pool.take();
    const cuts: number[] = [];
    for (let i = 999_999; i >= 10; i--) {
      const cut = pool.give(i);
      if (cut >= 0) cuts.push(cut);
    }
    expect(pool.live).toBe(10);
    expect(pool.made).toBe(2 * 4096);
    // One cut per block emptied below the first two: each to one spare block above the highest.
    expect(cuts.length).toBe(Math.ceil(1_000_000 / 4096) - 2);
    expect(cuts.at(-1)).toBe(2 * 4096);
    expect(pool.take()).toBe(10);
    for (let i = 0; i < 3; i++) pool.give(i);
    expect([pool.take(), pool.take(), pool.take(), pool.take()]).toEqual([0, 1, 2, 11]);
  });
});

/** Whether the block of `id` still has an id in use (then no cut was due). */
function blockBusy(used: Set<number>, id: number): boolean {
  const start = Math.floor(id / BLOCK) * BLOCK;
  for (let i = start; i < start + BLOCK; i++) if (used.has(i)) return true;
  return false;
}
