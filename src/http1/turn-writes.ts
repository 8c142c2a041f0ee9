// Writes held to the end of the event loop's turn. A response made while the loop handles the
// sockets one poll found readable (many clients' requests, as a rule) is put together in one
// shared arena and written when that batch is done (setImmediate), every answer of the batch
// back to back; a backend request made in the same turn waits the same way. A write to a peer
// asleep on its socket wakes it, and on a virtual machine that wake-up is most of the write's
// kernel time; written back to back, the first write wakes the peer and the others find it
// awake (a loopback hit: about a third less kernel time, and less user time, per hit). The
// price: a write leaves once the rest of its batch is handled, tens of µs with 50 busy clients.
//
// More bytes for a socket whose waiting write is the arena's last piece (a streamed body's
// next piece, an ESI page's next part) join it there: one write at the end of the turn
// (outputFor, writeOut). Anything else written to a socket first writes what it has waiting
// (flushPending), so the order of its bytes is kept; a socket destroyed meanwhile drops them.
// A socket that did not take its bytes whole keeps its part of the arena: a new arena is made
// for the next turn, and the old one lives until that socket has written its part (or is
// destroyed: send_timeout). A client that does not read can so hold an arena (256 KB), about
// what SEND_AHEAD_LIMIT lets it hold of its own answers; a socket already holding bytes gets
// Buffers of its own, not the arena.

import type { Socket } from 'node:net';

/** A socket's owner that may hold one write back (Http1Connection, BackendConnection). */
export interface TurnWriter {
  readonly socket: Socket;
  /** What waits for the end of the turn; null when nothing does. */
  pendingOut: Buffer | null;
}

const ARENA_BYTES = 256 * 1024;
let arena = Buffer.allocUnsafeSlow(ARENA_BYTES);
let arenaUsed = 0;
/** A socket kept part of the arena (see above). */
let arenaKept = false;
/** The last piece of the arena handed out: what writeOut holds back. */
let reserved: Buffer | null = null;
/** The writer whose waiting write ends where the arena's free part starts (see outputFor). */
let tail: TurnWriter | null = null;
const waiting: TurnWriter[] = [];

/**
 * `n` bytes for `w`'s next write to be put together in: a piece of the arena when its socket
 * holds nothing (right after `w`'s waiting write when that is the arena's last piece: the two
 * become one), else a Buffer of its own. Hand it to writeOut at once.
 */
export function outputFor(w: TurnWriter, sock: Socket, n: number): Buffer {
  if (n <= ARENA_BYTES - arenaUsed && sock.writableLength === 0 && sock.writableCorked === 0) {
    const out = arena.subarray(arenaUsed, arenaUsed + n);
    if (tail !== w) tail = null;
    arenaUsed += n;
    reserved = out;
    return out;
  }
  return Buffer.allocUnsafe(n);
}

/** Writes `out` (from outputFor): a piece of the arena waits for the end of the turn. */
export function writeOut(w: TurnWriter, sock: Socket, out: Buffer): boolean {
  if (out !== reserved) {
    flushPending(w);
    return sock.write(out);
  }
  reserved = null;
  const before = w.pendingOut;
  if (tail === w && before !== null) {
    // Right after what waits already: one piece of the arena, one write.
    w.pendingOut = arena.subarray(arenaUsed - out.length - before.length, arenaUsed);
    return true;
  }
  writeAtTurnEnd(w, out);
  tail = w;
  return true;
}

/** Holds `out` back until the end of the turn; what `w` had waiting goes first. */
export function writeAtTurnEnd(w: TurnWriter, out: Buffer): void {
  flushPending(w);
  w.pendingOut = out;
  if (waiting.push(w) === 1) setImmediate(writeWaiting);
}

/** Writes what `w` has waiting, now: before any other byte goes to its socket. */
export function flushPending(w: TurnWriter): void {
  const out = w.pendingOut;
  if (out === null) return;
  w.pendingOut = null;
  if (tail === w) tail = null;
  const sock = w.socket;
  if (sock.destroyed) return;
  sock.write(out);
  if (sock.writableLength !== 0 && out.buffer === arena.buffer) arenaKept = true;
}

function writeWaiting(): void {
  for (let i = 0; i < waiting.length; i++) flushPending(waiting[i]);
  waiting.length = 0;
  tail = null;
  if (arenaKept) {
    arena = Buffer.allocUnsafeSlow(ARENA_BYTES);
    arenaKept = false;
  }
  arenaUsed = 0;
}
