// The hand-over between the main thread and one sandbox thread: a SharedArrayBuffer both
// read and write in turns, instead of a message port. A message (a request in, a result out)
// is written in place in the slot's data area and the turn passes to the other side; one that
// does not fit goes in frames, each handed over and acknowledged by passing the turn back.
//
//   main                                   worker (spins, then blocks in Atomics.wait)
//   write request frame, TURN = WORKER ──►  read it (ack with TURN = MAIN while MORE)
//   look at every slot it waits for:        run the program, write the result frame
//   on each loop turn for a while, else
//   when ANSWERS changes (one waitAsync)
//   read the result                   ◄──  TURN = MAIN, ANSWERS + 1 (wait for the ack while MORE), reset
//
// The worker thread blocks: it is its own thread and has nothing else to do; it spins a while
// first (workerTurn). The main thread never blocks: it looks at all the slots it waits for at
// once (look()), on its event loop's turns for a while, then when a thread passes it a turn
// (one Atomics.waitAsync for all of them, on a word of the process: ANSWERS) or when the
// soonest max_request_time after a thread took its message (TAKEN) comes. Either side is
// notified only when it sleeps (passToWorker, passToMain). A message port costs the main
// thread a structured clone and a wake-up of the port's machinery per message (about 30 µs of
// its CPU per request through piscina); this costs it a few µs of its own work, plus the
// wake-ups (docs/compute.md, Figures).

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
 * The words every sandbox thread of the process shares with the main thread (handed over in
 * workerData: shareProcessWords): SPINNING, 1 while one of the threads spins (workerTurn: one
 * spinner at a time keeps a thread awake for the next request of one-at-a-time traffic; more,
 * four threads of a program under load each spinning after its answer, take a 2-core
 * machine's CPUs from the main thread);
 * ANSWERS, turns passed to the main thread by any of them (it wraps); MAIN_ASLEEP, 1 while
 * the main thread waits for ANSWERS to change (look()).
 */
export const PROCESS_WORDS = new SharedArrayBuffer(16);
const SPINNING = 0;
const ANSWERS = 1;
const MAIN_ASLEEP = 2;
/** The process's words: the main thread's own, or a thread's view of them (shareProcessWords). */
let words = new Int32Array(PROCESS_WORDS);

/** In a sandbox thread: the process's PROCESS_WORDS, handed over in workerData. */
export function shareProcessWords(shared: SharedArrayBuffer): void {
  words = new Int32Array(shared);
}

/**
 * Passes the turn to the thread (or to no one: QUITTING). It is woken only when it sleeps:
 * waking a thread blocked in Atomics.wait is a futex system call that also lets the woken
 * thread take the main thread's core; a thread still busy, or spinning (workerTurn), finds
 * the turn itself. The thread says it sleeps (SLEEPING) before its last look at TURN, and TURN
 * is stored before SLEEPING is read: with sequentially consistent atomics one of the two sees
 * the other's store.
 */
function passToWorker(slot: Slot, to = WORKER): void {
  const c = slot.control;
  Atomics.store(c, TURN, to);
  if (Atomics.load(c, SLEEPING) === 1) Atomics.notify(c, TURN);
}

/**
 * Passes the turn to the main thread, and counts it in ANSWERS: the main thread looks at
 * every slot it waits for when that changes (look()). It is woken only when it waits on
 * ANSWERS (MAIN_ASLEEP): waking its Atomics.waitAsync queues a task on its event loop through
 * Node's platform and wakes it from epoll_wait; busy, it finds the turns on its next look.
 */
function passToMain(slot: Slot): void {
  Atomics.store(slot.control, TURN, MAIN);
  Atomics.add(words, ANSWERS, 1);
  if (Atomics.load(words, MAIN_ASLEEP) === 1) Atomics.notify(words, ANSWERS);
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
const epochMs = (now = performance.now()) => Math.floor(performance.timeOrigin + now) | 0;

/**
 * What the slot says to the main thread now: its turn ('ok'), the thread's end, 'late' once
 * `limitMs` passed since the thread took the message, else the ms left (a message behind
 * another one on the same thread is not taken yet: its time has not begun).
 */
function turnOf(c: Int32Array, limitMs: number, nowMs: number): Waited | number {
  // Ended first: a thread asked to quit leaves TURN at QUITTING, which is no one's turn.
  if (Atomics.load(c, ENDED) === 1) return 'ended';
  if (Atomics.load(c, TURN) === MAIN) return 'ok';
  const left = Atomics.load(c, TAKEN) === 1 ? limitMs - ((epochMs(nowMs) - c[TAKEN_MS]) | 0) : limitMs;
  return left <= 0 ? 'late' : left;
}

/**
 * Resolves when it is the main thread's turn, when the thread ended, or `limitMs` after the
 * thread took the message ('late'); at once when it already is. With `pollUs`, the slot is
 * looked at on each turn of the event loop for that long before the main thread waits to be
 * woken (look()).
 */
function mainTurn(slot: Slot, limitMs: number, pollUs = 0): Waited | Promise<Waited> {
  const at = performance.now();
  const now = turnOf(slot.control, limitMs, at);
  if (typeof now === 'string') return now;
  return new Promise((found) => watch({ c: slot.control, limitMs, pollUntil: pollUs > 0 ? at + pollUs / 1000 : 0, found }));
}

/**
 * The slots whose turn the main thread waits for, all of them looked at together (look()):
 * once per turn of the event loop while one of them is polled, else each time a thread passes
 * the turn to the main thread (ANSWERS) or the soonest of their limits comes. One wait for
 * every request in flight: a wait of its own per request (an Atomics.waitAsync, with its
 * timer, and a task to wake it) cost the main thread more than the answers it waits for, and
 * several answers that come while the main thread is busy are all read on the one wake-up.
 */
interface Watched {
  readonly c: Int32Array;
  readonly limitMs: number;
  /** performance.now() ms until which the slot is looked at on each turn; 0: not polled. */
  readonly pollUntil: number;
  readonly found: (w: Waited) => void;
}
const watched: Watched[] = [];
/** Whether a look is due (setImmediate), or the main thread waits on ANSWERS (until when), or neither. */
let lookDue = false;
let asleepUntil = 0;

function watch(w: Watched): void {
  watched.push(w);
  if (lookDue) return;
  if (asleepUntil === 0) {
    lookDue = true;
    setImmediate(look);
  } else if (w.pollUntil > 0 || performance.now() + w.limitMs < asleepUntil) {
    // It must be looked at sooner than the wait would end: woken now, the look waits again.
    Atomics.notify(words, ANSWERS);
  }
}

/**
 * Settles the watched slots whose turn it is (or whose thread ended, or whose time is up), then
 * looks again on the next turn while one is polled, or waits on ANSWERS (Atomics.waitAsync)
 * until a thread passes a turn or the soonest limit comes. ANSWERS is read before the slots: a
 * turn passed after that changes it, and the wait then does not begin.
 */
function look(): void {
  lookDue = false;
  asleepUntil = 0;
  for (;;) {
    const seen = Atomics.load(words, ANSWERS);
    const now = performance.now();
    let kept = 0;
    let soonest = Number.POSITIVE_INFINITY;
    let polled = false;
    for (const w of watched) {
      const t = turnOf(w.c, w.limitMs, now);
      if (typeof t === 'string') {
        w.found(t);
        continue;
      }
      watched[kept++] = w;
      if (t < soonest) soonest = t;
      if (now < w.pollUntil) polled = true;
    }
    watched.length = kept;
    if (kept === 0) return;
    if (polled) {
      lookDue = true;
      setImmediate(look);
      return;
    }
    // Said before waitAsync's own look at ANSWERS (passToMain()).
    Atomics.store(words, MAIN_ASLEEP, 1);
    const wait = Atomics.waitAsync(words, ANSWERS, seen, soonest);
    if (wait.async) {
      asleepUntil = now + soonest;
      void wait.value.then(woken);
      return;
    }
    Atomics.store(words, MAIN_ASLEEP, 0);
  }
}

function woken(): void {
  Atomics.store(words, MAIN_ASLEEP, 0);
  look();
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
 * Hands `length` bytes of `message` to the worker. One frame is written at once (no promise),
 * its thread woken at once if it sleeps: it then runs while the main thread goes on with its
 * turn. (Woken at the end of the turn instead, once for all the requests the turn handed it,
 * a thread cost the main thread fewer wake-ups, and measured better under heavy load, worse
 * at moderate load: docs/compute.md, Figures.) A bigger message is copied first, as
 * `message` is the caller's scratch, and goes in frames.
 */
export function sendToWorker(slot: Slot, message: Uint8Array, length: number, limitMs: number): Waited | Promise<Waited> {
  if (slot.control[ENDED] === 1) return 'ended';
  Atomics.store(slot.control, TAKEN, 0);
  if (length <= slot.data.length) {
    putFrame(slot, message, 0, length, false);
    passToWorker(slot);
    return 'ok';
  }
  return sendFrames(slot, message.slice(0, length), limitMs);
}

async function sendFrames(slot: Slot, message: Uint8Array, limitMs: number): Promise<Waited> {
  for (let at = 0; at < message.length; ) {
    const n = Math.min(slot.data.length, message.length - at);
    at += n;
    putFrame(slot, message, at - n, n, at < message.length);
    passToWorker(slot);
    if (at < message.length) {
      let waited = mainTurn(slot, limitMs);
      if (typeof waited !== 'string') waited = await waited;
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
    let waited = mainTurn(slot, limitMs, pollUs);
    if (typeof waited !== 'string') waited = await waited;
    if (waited !== 'ok') return waited;
    const message = takeFrame(slot, frames);
    if (message !== null) return message;
    passToWorker(slot);
  }
}

/** The thread is gone: wakes the main thread's look, which then reads 'ended'. */
export function markEnded(slot: Slot): void {
  Atomics.store(slot.control, ENDED, 1);
  passToMain(slot);
}

/**
 * Asks the thread to end by itself: it disposes its sandbox and exits as soon as it waits on
 * this slot, or, when it is running a request, once that run returns (its answer is no longer
 * read). A thread ended from outside (Worker.terminate) while isolated-vm holds an isolate in
 * it can abort the whole process (isolated-vm's own assertion); such a thread is only asked.
 */
export function askToQuit(slot: Slot): void {
  Atomics.store(slot.control, QUIT, 1);
  passToWorker(slot, QUITTING);
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
 * thread of the process spins (SPINNING): a request that comes within it is taken without a
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
  else if (spinMs > 0 && lastWaitMs <= spinMs && Atomics.compareExchange(words, SPINNING, 0, 1) === 0) {
    spinUntil(c, began + spinMs);
    Atomics.store(words, SPINNING, 0);
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
      passToMain(slot);
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
    passToMain(slot);
    if (at >= length) return;
    workerTurn(slot);
  }
}
