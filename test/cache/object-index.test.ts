// The object index (keys to heads, heads' variants) in typed arrays: every key added is found,
// every key removed is not, whatever the order of adds and removes (the backward shift keeps
// probes whole), ids come back for reuse, and variants are listed newest first.

import { describe, expect, it } from 'vitest';
import { keyOfText } from '../../src/cache/digest.ts';
import { ObjectIndex } from '../../src/cache/object-index.ts';
import { NONE, ObjectTable } from '../../src/cache/object-table.ts';

describe('the object index', () => {
  it('finds what it holds and nothing else through growth and random removals', () => {
    const index = new ObjectIndex(new ObjectTable());
    const heads = new Map<string, number>();
    let seed = 7;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 20_000; i++) {
        const key = keyOfText(`${round}/${i}`);
        expect(index.find(key)).toBe(NONE);
        heads.set(key, index.add(key));
      }
      for (const [key, h] of heads) {
        if (random(2) === 0) continue;
        index.remove(h);
        heads.delete(key);
      }
      expect(index.size).toBe(heads.size);
      for (const [key, h] of heads) expect(index.find(key)).toBe(h);
      expect(index.find(keyOfText(`${round}/gone`))).toBe(NONE);
    }
    // A head taken out twice is not there the second time (and nothing else goes).
    const [key, h] = heads.entries().next().value!;
    expect(index.remove(h)).toBe(true);
    expect(index.remove(h)).toBe(false);
    heads.delete(key);
    for (const [k, id] of heads) expect(index.find(k)).toBe(id);
    // Removed ids are used again: no more ids than ever held at once, roughly.
    const ids = new Set(heads.values());
    expect(ids.size).toBe(heads.size);
  });

  it('takes any string as a key, 32 characters as the digest they are and another string as its digest', () => {
    const index = new ObjectIndex(new ObjectTable());
    const a = index.add('/a');
    const b = index.add(keyOfText('/b'));
    const raw = index.add('é'.repeat(32));
    expect([index.find('/a'), index.find(keyOfText('/b')), index.find('é'.repeat(32))]).toEqual([a, b, raw]);
    // A string that is not a digest stands for its digest (keyOfText's): the same head.
    expect(index.find('/b')).toBe(b);
    expect(index.find('/c')).toBe(NONE);
  });

  it('lists the objects of a head newest first and takes any one out', () => {
    const table = new ObjectTable();
    const index = new ObjectIndex(table);
    const h = index.add('/k');
    for (let id = 0; id < 4; id++) {
      table.headOf[id] = NONE;
      index.link(h, id);
    }
    const list = (): number[] => {
      const out: number[] = [];
      for (let id = index.first[h]; id !== NONE; id = table.variantNext[id]) out.push(id);
      return out;
    };
    expect(list()).toEqual([3, 2, 1, 0]);
    expect(index.unlink(1)).toBe(h);
    expect(index.unlink(3)).toBe(h);
    expect(list()).toEqual([2, 0]);
    expect(index.unlink(3)).toBe(NONE);
  });
});
