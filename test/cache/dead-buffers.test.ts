// The cache process's collector of dead Buffers (src/cache/dead-buffers.ts): Buffers dropped at
// once, as the backend's reads are, are collected soon after DEAD_BYTES of them pile up, by
// scavenges it asks for, and the process's external memory comes back down.

import { getHeapStatistics } from 'node:v8';
import { afterEach, describe, expect, it } from 'vitest';
import { collectDeadBuffers, type DeadBufferCollector, DEAD_BYTES } from '../../src/cache/dead-buffers.ts';

let collector: DeadBufferCollector | undefined;
afterEach(() => {
  collector?.stop();
  collector = undefined;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Makes `bytes` of Buffers, 64 KB each as a socket read's, and drops them. */
function readAndDrop(bytes: number): void {
  for (let n = 0; n < bytes; n += 64 * 1024) Buffer.alloc(64 * 1024, 1).length;
}

describe('the dead Buffer collector', () => {
  it('asks for scavenges as dead Buffers pile up, and keeps external memory near its floor', async () => {
    collector = collectDeadBuffers();
    const before = getHeapStatistics().external_memory;
    let highest = 0;
    // 32 rounds of 4 MB each, a round every 25 ms: 128 MB dropped in under a second.
    for (let round = 0; round < 32; round++) {
      readAndDrop(4 * 1024 * 1024);
      await sleep(25);
      highest = Math.max(highest, getHeapStatistics().external_memory - before);
    }
    expect(collector.scavenges).toBeGreaterThan(0);
    // Without it V8 lets tens of MB wait; with it, at most what piles up between two looks.
    expect(highest).toBeLessThan(3 * DEAD_BYTES);
  });

  it('stops', async () => {
    collector = collectDeadBuffers();
    collector.stop();
    readAndDrop(3 * DEAD_BYTES);
    await sleep(100);
    expect(collector.scavenges).toBe(0);
  });
});
