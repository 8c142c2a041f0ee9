// Whether other processes keep the machine's CPUs busy: the main thread looks for a quick
// program's answer on its event loop's turns (slot.ts, look), and sandbox threads spin
// for their next request (workerTurn), only when they do not. The looks and the spins pay on
// CPUs that would otherwise idle (a wake-up of an idle CPU costs tens of µs on a VM); when
// other processes want the CPUs (a load generator, an origin, other services), they take CPU
// from them and from this process's other threads (docs/compute.md, Figures). Read from
// /proc/stat at most every SAMPLE_MS, when asked: the CPU time used in all, less this
// process's own (its looks and spins would otherwise count as load).

import { readFileSync } from 'node:fs';

/** How often the share is read again, ms. */
const SAMPLE_MS = 100;
/** Other processes using more than this share of the CPUs make the machine busy. */
const BUSY_SHARE = 0.25;
/** /proc/stat counts in ticks of 10 ms (USER_HZ 100). */
const TICK_US = 10_000;

let last = { at: -Infinity, busyTicks: 0, totalTicks: 0, ownUs: 0 };
let busy = false;
/** No /proc/stat here: the machine is taken as not busy. */
let unknown = false;

function sample(at: number): typeof last | null {
  try {
    const f = readFileSync('/proc/stat', 'latin1').slice(0, 200).split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const totalTicks = f.reduce((a, b) => a + b, 0);
    const own = process.cpuUsage();
    return { at, busyTicks: totalTicks - f[3] - f[4], totalTicks, ownUs: own.user + own.system };
  } catch {
    unknown = true;
    return null;
  }
}

/** Whether other processes used more than BUSY_SHARE of the CPUs lately. */
export function othersBusy(): boolean {
  if (unknown) return false;
  const at = performance.now();
  if (at - last.at < SAMPLE_MS) return busy;
  const now = sample(at);
  if (now === null) return false;
  const totalUs = (now.totalTicks - last.totalTicks) * TICK_US;
  if (totalUs > 0 && Number.isFinite(last.at)) busy = ((now.busyTicks - last.busyTicks) * TICK_US - (now.ownUs - last.ownUs)) / totalUs > BUSY_SHARE;
  last = now;
  return busy;
}
