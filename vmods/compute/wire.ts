// What goes through a slot (slot.ts), as bytes: a request in, a result out. Numbers are
// little-endian, strings UTF-8 after their byte length, lists after their count. Both sides
// are this file, so the two cannot drift; what rarely crosses (a program's image, prepare and
// saveState) goes as a structured clone on the thread's message port instead, and the slot
// only carries the turn (CALL).

import { FAILURE_KINDS, type ProgramRequest, type RunResult, type RunTiming } from './image.ts';

/** What the main thread asks of a thread: the first number of a request. */
export const RUN = 1;
/** A call whose argument and answer go on the message port (prepare, saveState). */
export const CALL = 2;

/** A writer's buffer to begin with, and the most it keeps after a big message. */
const START_BYTES = 4096;
const KEEP_BYTES = 1024 * 1024;

/** Writes a message into a buffer it grows as needed; start() reuses it. */
export class Writer {
  buf = Buffer.allocUnsafeSlow(START_BYTES);
  at = 0;

  start(): this {
    this.at = 0;
    if (this.buf.length > KEEP_BYTES) this.buf = Buffer.allocUnsafeSlow(START_BYTES);
    return this;
  }

  u32(n: number): void {
    this.#room(4);
    this.#put32(n);
  }

  i32(n: number): void {
    this.u32(n);
  }

  f64(n: number): void {
    this.#room(8);
    this.at = this.buf.writeDoubleLE(n, this.at);
  }

  str(s: string): void {
    // At most three bytes of UTF-8 per UTF-16 unit.
    this.#room(4 + s.length * 3);
    const start = this.at;
    this.at += 4;
    // Short ASCII (methods, URLs, header names) by hand: Buffer.write's checks cost more.
    if (s.length <= 64) {
      const buf = this.buf;
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c > 127) break;
        buf[this.at + i] = c;
      }
      if (i === s.length) {
        this.at += i;
        this.#patch32(start, i);
        return;
      }
    }
    const n = this.buf.write(s, this.at, 'utf8');
    this.at += n;
    this.#patch32(start, n);
  }

  strs(list: readonly string[]): void {
    this.u32(list.length);
    for (const s of list) this.str(s);
  }

  bytes(b: Uint8Array): void {
    this.#room(4 + b.length);
    this.#put32(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  /** Little-endian, by hand: writeUInt32LE's range checks cost more than the write. */
  #put32(n: number): void {
    this.#patch32(this.at, n);
    this.at += 4;
  }

  #patch32(at: number, n: number): void {
    const buf = this.buf;
    buf[at] = n;
    buf[at + 1] = n >>> 8;
    buf[at + 2] = n >>> 16;
    buf[at + 3] = n >>> 24;
  }

  #room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}

/** Reads what a Writer wrote; bytes() copies, so nothing read keeps the slot. */
export class Reader {
  readonly #buf: Buffer;
  #at = 0;

  constructor(buf: Buffer) {
    this.#buf = buf;
  }

  /** Little-endian, by hand, as the Writer writes: readUInt32LE's checks cost more. */
  u32(): number {
    return this.i32() >>> 0;
  }

  i32(): number {
    const b = this.#buf;
    const at = this.#at;
    if (at + 4 > b.length) throw new RangeError('a message cut short');
    this.#at = at + 4;
    return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24);
  }

  f64(): number {
    const v = this.#buf.readDoubleLE(this.#at);
    this.#at += 8;
    return v;
  }

  str(): string {
    const n = this.u32();
    if (this.#at + n > this.#buf.length) throw new RangeError('a message cut short');
    const s = this.#buf.toString('utf8', this.#at, this.#at + n);
    this.#at += n;
    return s;
  }

  strs(): string[] {
    const list: string[] = [];
    for (let n = this.u32(); n > 0; n--) list.push(this.str());
    return list;
  }

  bytes(): Buffer {
    const n = this.u32();
    if (this.#at + n > this.#buf.length) throw new RangeError('a message cut short');
    const out = Buffer.allocUnsafe(n);
    this.#buf.copy(out, 0, this.#at, this.#at + n);
    this.#at += n;
    return out;
  }
}

/** A request to run: the program version, whether its image follows on the port, the request. */
export function writeRun(w: Writer, version: number, withImage: boolean, req: ProgramRequest): void {
  w.start();
  w.u32(RUN);
  w.u32(version);
  w.u32(withImage ? 1 : 0);
  w.u32(req.stream);
  w.str(req.method);
  w.str(req.url);
  w.str(req.argument);
  w.str(req.config);
  w.strs(req.headers);
  w.bytes(req.body);
}

/** After the op (RUN) was read. */
export function readRun(r: Reader): { version: number; withImage: boolean; request: ProgramRequest } {
  const version = r.u32();
  const withImage = r.u32() === 1;
  const stream = r.u32();
  const request = { method: r.str(), url: r.str(), argument: r.str(), config: r.str(), headers: r.strs(), body: r.bytes(), stream };
  return { version, withImage, request };
}

export function writeResult(w: Writer, result: RunResult): void {
  w.start();
  if (result.ok) {
    w.u32(0);
    w.u32(result.status);
    w.i32(result.streamed);
    w.str(result.contentType);
    w.strs(result.headers);
    w.bytes(result.body);
  } else {
    w.u32(1 + FAILURE_KINDS.indexOf(result.kind));
    w.str(result.error);
  }
  const t = result.timing;
  w.f64(t.execMs);
  w.f64(t.resetMs);
  w.f64(t.memoryBytes);
  w.u32(t.resets);
  w.u32(t.thread);
  w.f64(t.tookAt);
  // Stamped last: the rest of the result is written.
  w.f64(performance.timeOrigin + performance.now());
  w.strs(t.logs);
}

export function readResult(r: Reader): RunResult {
  const kind = r.u32();
  if (kind === 0) {
    const status = r.u32();
    const streamed = r.i32();
    const contentType = r.str();
    const headers = r.strs();
    const body = r.bytes();
    return { ok: true, status, streamed, contentType, headers, body, timing: readTiming(r) };
  }
  const error = r.str();
  return { ok: false, kind: FAILURE_KINDS[kind - 1] ?? 'trap', error, timing: readTiming(r) };
}

function readTiming(r: Reader): RunTiming {
  return { execMs: r.f64(), resetMs: r.f64(), memoryBytes: r.f64(), resets: r.u32(), thread: r.u32(), tookAt: r.f64(), answeredAt: r.f64(), logs: r.strs() };
}
