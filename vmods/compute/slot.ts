// The hand-over between the main thread and one sandbox thread: a SharedArrayBuffer both
// read and write in turns, instead of a message port. A message (a request in, a result out)
// is written in place in the slot's data area and the turn passes to the other side; one that
// does not fit goes in frames, each handed over and acknowledged by passing the turn back.
//
//   main                                   worker (spins, then blocks in Atomics.wait)
//   write request frame, TURN = WORKER ──►  read it (ack with TURN = MAIN while MORE)
//   look on each loop turn, then            run the program, write the result frame
//   Atomics.waitAsync until TURN = MAIN
//   read the result                   ◄──  TURN = MAIN (wait for the ack while MORE), reset
//
// The worker thread blocks: it is its own thread and has nothing else to do; it spins a while
// first (workerTurn). The main thread never blocks: it looks at the slot on its event loop's
// turns for a while (watchTurn), then Atomics.waitAsync resolves a promise on its event loop
// when the worker passes the turn, or max_request_time after the worker took the message
// (TAKEN). Either side is notified only when it sleeps (pass()). A message port
// costs the main thread a structured clone and a wake-up of the port's machinery per message
// (about 30 µs of its CPU per request through piscina); this costs it a few µs of its own
// work, plus the wake-ups (docs/compute.md, Figures).

/** The control words at the start of a slot, Int32 each, by index. */
const TURN = 0;
/** Bytes of the frame in the data area. */
const LENGTH = 1;
/** 1: the message goes on in the next frame. */
const MORE = 2;
/** 1: the thread is gone; the main thread sets it to wake its own waiter. */
const ENDED = 3;
/** 1 once the thread has the whole message and runs it; TAKEN_MS says when (epoch ms, mod 2^32). */
const TAKEN = 4;
const TAKEN_MS = 5;
/** 1: the thread is to end, its sandbox disposed (the main thread asks it so: askToQuit). */
const QUIT = 6;
/** 1 once the thread has made an isolated-vm isolate: it must never be ended from outside. */
const ISOLATE = 7;
/** 1 while the thread sleeps (or is about to) in Atomics.wait on this slot: only then is it woken. */
const SLEEPING = 8;
/** 1 once the thread, asked to end, has disposed its sandbox and is on its way out. */
const GONE = 9;
/** 1 while the main thread waits for its turn with Atomics.waitAsync: only then is it notified. */
const MAIN_WAITING = 10;
/** µs the thread keeps looking at its next slot after an answer before it sleeps (setSpin). */
const SPIN_US = 11;
const CONTROL_BYTES = 64;

/** Whose turn it is to read or write the slot; QUITTING: neither's, the thread is to end. */
const MAIN = 0;
const WORKER = 1;
const QUITTING = 2;

/**
 * The data area of a slot: a hello request and its answer take a few hundred bytes; a page of
 * a few hundred KB goes in one frame; bigger ones in several.
 */
export const SLOT_BYTES = 256 * 1024;

export interface Slot {
  readonly shared: SharedArrayBuffer;
  readonly control: Int32Array;
  readonly data: Buffer;
}

export function newSlot(dataBytes = SLOT_BYTES): SharedArrayBuffer {
  return new SharedArrayBuffer(CONTROL_BYTES + dataBytes);
}

export function openSlot(shared: SharedArrayBuffer): Slot {
  return { shared, control: new Int32Array(shared, 0, CONTROL_BYTES / 4), data: Buffer.from(shared, CONTROL_BYTES) };
}

/**
 * Passes the turn. Each side is woken only when it sleeps: waking a thread blocked in
 * Atomics.wait is a futex system call that also lets the woken thread take the main thread's
 * core, and waking the main thread's Atomics.waitAsync queues a task on its event loop through
 * Node's platform and wakes it from epoll_wait; a side still busy, spinning (workerTurn) or
 * polling (watchTurn) finds the turn itself. Each says it sleeps (SLEEPING, MAIN_WAITING)
 * before its last look at TURN, and TURN is stored before the other's word is read: with
 * sequentially consistent atomics one of the two sees the other's store.
 */
function pass(slot: Slot, to: number): void {
  const c = slot.control;
  Atomics.store(c, TURN, to);
  if (Atomics.load(c, to === MAIN ? MAIN_WAITING : SLEEPING) === 1) Atomics.notify(c, TURN);
}

function putFrame(slot: Slot, message: Uint8Array, at: number, n: number, more: boolean): void {
  slot.data.set(message.subarray(at, at + n), 0);
  slot.control[LENGTH] = n;
  slot.control[MORE] = more ? 1 : 0;
}

/**
 * The frame in the slot, read by the side whose turn it is: the whole message when it is the
 * last (a view of the slot when it is the only one), else null, a copy kept in `frames`.
 */
function takeFrame(slot: Slot, frames: Buffer[]): Buffer | null {
  const n = slot.control[LENGTH];
  const more = slot.control[MORE] === 1;
  if (!more && frames.length === 0) return slot.data.subarray(0, n);
  frames.push(Buffer.from(slot.data.subarray(0, n)));
  return more ? null : Buffer.concat(frames);
}

// ---- the main thread's side: never blocks ----

/** How a wait of the main thread ended. */
export type Waited = 'ok' | 'late' | 'ended';

/** Epoch milliseconds as an Int32 word holds them: differences are right for 24 days. */
const epochMs = () => Math.floor(performance.timeOrigin + performance.now()) | 0;

/** Whether the main thread has something to read in the slot: its turn, or the thread's end. */
function mainsTurn(c: Int32Array): boolean {
  return Atomics.load(c, TURN) === MAIN || Atomics.load(c, ENDED) === 1;
}

/**
 * Resolves when it is the main thread's turn, when the thread ended, or `limitMs` after the
 * thread took the message ('late'). A message behind another one on the same thread is not
 * taken yet: its time has not begun (the one ahead has its own limit). With `pollUs`, the
 * slot is first looked at on each turn of the event loop for that long (watchTurn), and only
 * then waited for with Atomics.waitAsync.
 */
async function mainTurn(slot: Slot, limitMs: number, pollUs = 0): Promise<Waited> {
  const c = slot.control;
  if (pollUs > 0 && !mainsTurn(c)) await watchTurn(slot, pollUs);
  for (;;) {
    // Ended first: a thread asked to quit leaves TURN at QUITTING, which is no one's turn.
    if (Atomics.load(c, ENDED) === 1) return 'ended';
    if (Atomics.load(c, TURN) === MAIN) return 'ok';
    const left = Atomics.load(c, TAKEN) === 1 ? limitMs - ((epochMs() - c[TAKEN_MS]) | 0) : limitMs;
    if (left <= 0) return 'late';
    // Said before waitAsync's own look at TURN (pass()).
    Atomics.store(c, MAIN_WAITING, 1);
    const wait = Atomics.waitAsync(c, TURN, WORKER, left);
    if (wait.async) await wait.value;
    Atomics.store(c, MAIN_WAITING, 0);
  }
}

/**
 * Slots whose answer the main thread looks for on each turn of its event loop (setImmediate),
 * each until its deadline (performance.now() ms). Being woken costs the most when the machine
 * is idle: the thread's answer wakes the main thread's CPU from its idle state, tens of µs on
 * a VM, where a loop that keeps turning sees the answer within a turn of a few µs. The loop
 * is not blocked: sockets are polled (without waiting) between the looks, so under load the
 * looks ride along with the work, and each slot is looked at for a bounded time only.
 */
const watched: { c: Int32Array; until: number; found: () => void }[] = [];
let watching = false;

function watchTurn(slot: Slot, pollUs: number): Promise<void> {
  return new Promise((found) => {
    watched.push({ c: slot.control, until: performance.now() + pollUs / 1000, found });
    if (!watching) {
      watching = true;
      setImmediate(lookAtWatched);
    }
  });
}

function lookAtWatched(): void {
  const now = performance.now();
  let kept = 0;
  for (const w of watched) {
    if (mainsTurn(w.c) || now >= w.until) w.found();
    else watched[kept++] = w;
  }
  watched.length = kept;
  watching = kept > 0;
  if (watching) setImmediate(lookAtWatched);
}

/**
 * Whether the thread sleeps on this slot (it is not spinning, nor busy with a request ahead):
 * a request handed over now wakes it.
 */
export function threadSleeps(slot: Slot): boolean {
  return Atomics.load(slot.control, SLEEPING) === 1;
}

/** Whether the thread took the message in this slot (false: it never ran). */
export function taken(slot: Slot): boolean {
  return Atomics.load(slot.control, TAKEN) === 1;
}

/**
 * Hands `length` bytes of `message` to the worker. One frame is written at once (no promise);
 * a bigger message is copied first, as `message` is the caller's scratch, and goes in frames.
 */
export function sendToWorker(slot: Slot, message: Uint8Array, length: number, limitMs: number): Waited | Promise<Waited> {
  if (slot.control[ENDED] === 1) return 'ended';
  Atomics.store(slot.control, TAKEN, 0);
  if (length <= slot.data.length) {
    putFrame(slot, message, 0, length, false);
    pass(slot, WORKER);
    return 'ok';
  }
  return sendFrames(slot, message.slice(0, length), limitMs);
}

async function sendFrames(slot: Slot, message: Uint8Array, limitMs: number): Promise<Waited> {
  for (let at = 0; at < message.length; ) {
    const n = Math.min(slot.data.length, message.length - at);
    at += n;
    putFrame(slot, message, at - n, n, at < message.length);
    pass(slot, WORKER);
    if (at < message.length) {
      const waited = await mainTurn(slot, limitMs);
      if (waited !== 'ok') return waited;
    }
  }
  return 'ok';
}

/**
 * The worker's answer: a view of the slot when it came in one frame (read it before the next
 * hand-over on this slot), else the frames joined.
 */
export async function receiveFromWorker(slot: Slot, limitMs: number, pollUs = 0): Promise<Buffer | Waited> {
  const frames: Buffer[] = [];
  for (;;) {
    const waited = await mainTurn(slot, limitMs, pollUs);
    if (waited !== 'ok') return waited;
    const message = takeFrame(slot, frames);
    if (message !== null) return message;
    pass(slot, WORKER);
  }
}

/** The thread is gone: wakes the main thread's waiter, which then reads 'ended'. */
export function markEnded(slot: Slot): void {
  Atomics.store(slot.control, ENDED, 1);
  pass(slot, MAIN);
}

/**
 * Asks the thread to end by itself: it disposes its sandbox and exits as soon as it waits on
 * this slot, or, when it is running a request, once that run returns (its answer is no longer
 * read). A thread ended from outside (Worker.terminate) while isolated-vm holds an isolate in
 * it can abort the whole process (isolated-vm's own assertion); such a thread is only asked.
 */
export function askToQuit(slot: Slot): void {
  Atomics.store(slot.control, QUIT, 1);
  pass(slot, QUITTING);
}

/**
 * Blocks the main thread until the thread says it has disposed its sandbox (markGone), at most
 * `ms`; whether it did. Only for the process's exit, when nothing else is left to run.
 */
export function waitGone(slot: Slot, ms: number): boolean {
  return Atomics.wait(slot.control, GONE, 0, Math.max(0, ms)) !== 'timed-out' || Atomics.load(slot.control, GONE) === 1;
}

/** How long (µs, 0 to 1,000,000) the thread keeps looking at its next slot before it sleeps (workerTurn). */
export function setSpin(slot: Slot, us: number): void {
  Atomics.store(slot.control, SPIN_US, Math.max(0, Math.min(1_000_000, Math.round(us))));
}

/** Whether the thread has made an isolate (markIsolate): then it is asked to end, never ended. */
export function holdsIsolate(slot: Slot): boolean {
  return Atomics.load(slot.control, ISOLATE) === 1;
}

/** Thrown in the worker by receiveFromMain when the main thread asked it to quit. */
export class QuitAsked extends Error {}

// ---- the worker's side: blocks in Atomics.wait ----

/** How long this thread's last wait for its turn took, ms (workerTurn). */
let lastWaitMs = 0;

/**
 * One word shared by every sandbox thread of the process: 1 while one of them spins. One
 * spinner at a time keeps a thread awake for the next request of one-at-a-time traffic; more
 * (four threads of a program under load, each spinning after its answer) take a 2-core
 * machine's CPUs from the main thread.
 */
export const SPINNER = new SharedArrayBuffer(4);
let spinner: Int32Array | null = null;

/** In a sandbox thread: the process's SPINNER, handed over in workerData. */
export function shareSpinner(shared: SharedArrayBuffer): void {
  spinner = new Int32Array(shared);
}

/** Waits left without a spin, and how many the next preempted spin skips (0: none yet). */
let spinsSkipped = 0;
let spinBackoff = 0;
/** A gap this long (ms) between two looks of a spin means the thread lost its CPU to another. */
const PREEMPTED_MS = 0.05;
/** Waits a first preempted spin skips; each preempted spin after doubles it, up to the last. */
const SKIP_FIRST = 16;
const SKIP_MOST = 1024;

/**
 * Blocks until it is the worker's turn; throws QuitAsked once the main thread asked it to end.
 * It first spins for up to SPIN_US, when the last wait was no longer than that and no other
 * thread of the process spins (SPINNER): a request that comes within it is taken without a
 * wake-up (a futex wake of a sleeping thread costs tens of µs when its CPU has gone idle);
 * requests that come further apart than that cost no spin.
 * Spinning pays only on a CPU that would otherwise idle: when other threads want the CPUs,
 * the spinning thread is preempted (seen as a gap between its looks), and, having used its
 * share, is then scheduled after them where a woken sleeper goes first; so a preempted spin
 * stops, and the thread skips its next SKIP_FIRST spins, twice as many after each spin
 * preempted again (SKIP_MOST at most), until a spin finds its request: under a sustained load
 * the thread hardly spins, and a passing preemption costs an idle machine few spins.
 */
function workerTurn(slot: Slot): void {
  const c = slot.control;
  if (Atomics.load(c, TURN) === WORKER && Atomics.load(c, QUIT) === 0) {
    lastWaitMs = 0;
    return;
  }
  const began = performance.now();
  const spinMs = Atomics.load(c, SPIN_US) / 1000;
  if (spinsSkipped > 0) spinsSkipped--;
  else if (spinMs > 0 && lastWaitMs <= spinMs && spinner !== null && Atomics.compareExchange(spinner, 0, 0, 1) === 0) {
    spinUntil(c, began + spinMs);
    Atomics.store(spinner, 0, 0);
  }
  sleepUntilTurn(c);
  lastWaitMs = performance.now() - began;
}

/** Looks at TURN until it is the worker's, the thread is asked to quit, `until` passes, or it is preempted. */
function spinUntil(c: Int32Array, until: number): void {
  for (let last = performance.now(); Atomics.load(c, TURN) !== WORKER && Atomics.load(c, QUIT) === 0; ) {
    const now = performance.now();
    if (now - last > PREEMPTED_MS) {
      spinBackoff = Math.min(SKIP_MOST, spinBackoff === 0 ? SKIP_FIRST : spinBackoff * 2);
      spinsSkipped = spinBackoff;
      return;
    }
    if (now >= until) return;
    last = now;
  }
  spinBackoff = 0;
}

function sleepUntilTurn(c: Int32Array): void {
  for (;;) {
    // QUIT is stored before TURN changes: a wait that began before sees TURN change and wakes.
    if (Atomics.load(c, QUIT) === 1) throw new QuitAsked('asked to quit');
    const turn = Atomics.load(c, TURN);
    if (turn === WORKER) return;
    // Said before the last look at TURN: a turn passed after that look sees it and wakes us.
    Atomics.store(c, SLEEPING, 1);
    if (Atomics.load(c, TURN) === turn && Atomics.load(c, QUIT) === 0) Atomics.wait(c, TURN, turn);
    Atomics.store(c, SLEEPING, 0);
  }
}

/** Whether the main thread asked this thread to end (the request it runs is no longer read). */
export function quitAsked(slot: Slot): boolean {
  return Atomics.load(slot.control, QUIT) === 1;
}

/** Its sandbox is disposed and the thread on its way out (waitGone). */
export function markGone(slot: Slot): void {
  Atomics.store(slot.control, GONE, 1);
  Atomics.notify(slot.control, GONE);
}

/** This thread is about to make an isolate: from now on it is only asked to end (holdsIsolate). */
export function markIsolate(slot: Slot): void {
  Atomics.store(slot.control, ISOLATE, 1);
}

/** The next message from the main thread (blocks until there is one); a view when in one frame. */
export function receiveFromMain(slot: Slot): Buffer {
  const frames: Buffer[] = [];
  for (;;) {
    workerTurn(slot);
    const message = takeFrame(slot, frames);
    if (message === null) {
      pass(slot, MAIN);
      continue;
    }
    // Its time starts now (mainTurn).
    slot.control[TAKEN_MS] = epochMs();
    Atomics.store(slot.control, TAKEN, 1);
    return message;
  }
}

/** Hands `length` bytes of `message` to the main thread, frame by frame, waiting for each ack. */
export function sendToMain(slot: Slot, message: Uint8Array, length: number): void {
  for (let at = 0; ; ) {
    const n = Math.min(slot.data.length, length - at);
    at += n;
    putFrame(slot, message, at - n, n, at < length);
    pass(slot, MAIN);
    if (at >= length) return;
    workerTurn(slot);
  }
}
