// Dead Buffers collected sooner, in the process that holds the cache. Bodies come from the
// backend as Buffers of up to 64 KB, one per socket read: each is copied into its storage and
// is garbage at once, but its memory (outside the JS heap) goes only when a collection finds
// the small JS object that holds it dead. A scavenge finds it; V8 starts one when the young
// generation is full of JS objects (4 MB here: heap-flags.ts) or when the Buffers made since
// the last one reach twice V8's default semi-space (tens of MB): a fill of large objects makes
// few JS objects per MB of body, so the second comes first, and the cache process held 30 to 40
// MB of dead Buffers (and malloc's arena the room they leave) at its peak (docs/storage.md).
//
// So a timer looks at the external memory V8 counts (v8.getHeapStatistics, under a
// microsecond), and when it grew by DEAD_BYTES since the lowest it was after the last
// collection, asks for a scavenge (about 1 ms). When what the scavenges leave has grown by
// PROMOTED_BYTES, the rest is in the old generation and a full collection (10 to 100 ms, run
// by V8 as a task) is asked for. The storages' slabs are left out of the count; other memory
// that is live (a large body being sent) costs one collection for nothing, then becomes the
// new floor. The scavenge comes from `gc` of a context of its own
// (`--expose-gc` set at run time), so the main context, VCL's and VMODs', has no `gc`.

import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Growth of external memory that asks for a scavenge. */
export const DEAD_BYTES = 8 * 1024 * 1024;
/**
 * Growth of what the scavenges leave that asks for a full collection: Buffers promoted to the
 * old generation (a fetch held them across a scavenge) are dead there until one.
 */
export const PROMOTED_BYTES = 2 * DEAD_BYTES;
/** How often it is looked at: a fill at 100 MB/s makes DEAD_BYTES in 80 ms. */
export const CHECK_MS = 20;

type Gc = (options: { type: 'minor' | 'major'; execution: 'sync' | 'async' }) => void;

export interface DeadBufferCollector {
  /** Scavenges and full collections asked for so far. */
  readonly scavenges: number;
  readonly fullCollections: number;
  stop(): void;
}

/**
 * Starts the timer (unref'd: it keeps nothing alive). `live`: external bytes known to be live,
 * left out of the count (the storages' slabs: a new one is no reason to collect).
 */
export function collectDeadBuffers(live: () => number = () => 0): DeadBufferCollector {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as Gc;
  const external = (): number => getHeapStatistics().external_memory - live();
  let floor = external();
  let base = floor;
  let scavenges = 0;
  let fullCollections = 0;
  const timer = setInterval(() => {
    const now = external();
    if (now < floor) floor = now;
    else if (now - floor > DEAD_BYTES) {
      gc({ type: 'minor', execution: 'sync' });
      scavenges++;
      floor = external();
      if (floor < base) base = floor;
      else if (floor - base > PROMOTED_BYTES) {
        // Asynchronous: V8 runs it as a task, not inside this timer.
        gc({ type: 'major', execution: 'async' });
        fullCollections++;
        base = floor;
      }
    }
  }, CHECK_MS);
  timer.unref();
  return {
    get scavenges() {
      return scavenges;
    },
    get fullCollections() {
      return fullCollections;
    },
    stop: () => clearInterval(timer),
  };
}
