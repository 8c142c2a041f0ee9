// Where a bounded storage keeps the bytes its arena places: memory slabs (`-s malloc`) or a file
// (`-s file`). The arena (arena.ts) decides offsets; a space only copies bytes in and out.
//
// Memory: slabs of SLAB_BYTES, each made the first time an allocation lands in it and kept for
// the process's life, outside the JS heap (Buffer.allocUnsafeSlow: one ArrayBuffer per slab, no
// pool). A million objects are then a few dozen large allocations, and RSS follows what the
// cache has used, never beyond its size. Reads hand out copies: the arena may give a range to
// another object as soon as its owner is gone, and a copy is all a socket may keep. A view
// (`view`) is the slab's own bytes, for a reader that keeps the range from being reused until
// it is done with them (a pinned object, object.ts).
//
// File: one file of the storage's size, made (sparse) at start-up; bytes go in with pwrite and
// come out with pread into a fresh Buffer, the index stays in memory. The page cache does what
// varnishd's mmap does for its file storage.

import { closeSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';

/** Bytes per memory slab, and the largest single allocation of a storage. */
export const SLAB_BYTES = 16 * 1024 * 1024;

export interface Space {
  /** `malloc` or `file`: the stevedore's kind, and its counter group (SMA or SMF). */
  readonly kind: 'malloc' | 'file';
  /** Copies `src` to `offset`. */
  write(offset: number, src: Uint8Array): void;
  /** A copy of `length` bytes at `offset`, the caller's to keep. */
  read(offset: number, length: number): Buffer;
  /** The `length` bytes at `offset` themselves where they are in memory (else a copy). */
  view(offset: number, length: number): Buffer;
  /** Copies `length` bytes at `offset` to `out` at `at` (no Buffer made). */
  copyOut(offset: number, length: number, out: Uint8Array, at: number): void;
  /** Bytes of memory the space holds now (slabs made so far; 0 for a file). */
  readonly resident: number;
  close(): void;
}

export class MemorySpace implements Space {
  readonly kind = 'malloc' as const;
  readonly #slabs: (Buffer | undefined)[] = [];
  readonly #slabBytes: number;
  readonly #capacity: number;
  resident = 0;

  constructor(capacity: number, slabBytes: number) {
    this.#capacity = capacity;
    this.#slabBytes = slabBytes;
  }

  write(offset: number, src: Uint8Array): void {
    const i = Math.floor(offset / this.#slabBytes);
    this.#slab(i).set(src, offset - i * this.#slabBytes);
  }

  read(offset: number, length: number): Buffer {
    const i = Math.floor(offset / this.#slabBytes);
    const at = offset - i * this.#slabBytes;
    const copy = Buffer.allocUnsafe(length);
    this.#slab(i).copy(copy, 0, at, at + length);
    return copy;
  }

  view(offset: number, length: number): Buffer {
    const i = Math.floor(offset / this.#slabBytes);
    const at = offset - i * this.#slabBytes;
    return this.#slab(i).subarray(at, at + length);
  }

  copyOut(offset: number, length: number, out: Uint8Array, at: number): void {
    const i = Math.floor(offset / this.#slabBytes);
    const from = offset - i * this.#slabBytes;
    this.#slab(i).copy(out, at, from, from + length);
  }

  close(): void {
    this.#slabs.length = 0;
    this.resident = 0;
  }

  #slab(i: number): Buffer {
    let slab = this.#slabs[i];
    if (slab === undefined) {
      const bytes = Math.min(this.#slabBytes, this.#capacity - i * this.#slabBytes);
      slab = Buffer.allocUnsafeSlow(bytes);
      this.#slabs[i] = slab;
      this.resident += bytes;
    }
    return slab;
  }
}

export class FileSpace implements Space {
  readonly kind = 'file' as const;
  readonly resident = 0;
  readonly path: string;
  #fd: number;

  /** Opens (or creates) `path` and sizes it to `capacity` bytes; throws when it cannot. */
  constructor(path: string, capacity: number) {
    this.path = path;
    try {
      this.#fd = openSync(path, 'w+', 0o600);
      ftruncateSync(this.#fd, capacity);
    } catch (e) {
      throw new Error(`file storage ${path}: ${(e as Error).message}`);
    }
  }

  write(offset: number, src: Uint8Array): void {
    let done = 0;
    while (done < src.length) done += writeSync(this.#fd, src, done, src.length - done, offset + done);
  }

  read(offset: number, length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    this.copyOut(offset, length, out, 0);
    return out;
  }

  copyOut(offset: number, length: number, out: Uint8Array, at: number): void {
    let done = 0;
    while (done < length) {
      const n = readSync(this.#fd, out, at + done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
  }

  view(offset: number, length: number): Buffer {
    return this.read(offset, length);
  }

  close(): void {
    if (this.#fd >= 0) closeSync(this.#fd);
    this.#fd = -1;
  }
}
