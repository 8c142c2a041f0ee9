// std's file and environment functions. fileread and blobread read a file on their first call
// and answer from memory afterwards, even when the file changes, as Varnish does: the content
// is kept per call site (the PRIV_CALL holder) and shared by every call site and VCL that reads
// the same path, and dropped when the last of them is discarded. A file that cannot be read
// gives NULL and is tried again next time. Files are read as bytes; as a STRING their bytes are
// the characters (latin1, the way Shellac carries header bytes), cut at a NUL as C would.

import { readFileSync, statSync } from 'node:fs';
import type { PrivHolder, VmodContext } from '../../src/vmod/api.ts';

/** A file read once, shared by path. */
export interface CachedFile {
  readonly path: string;
  readonly bytes: Uint8Array;
  readonly text: string;
  refs: number;
}

const files = new Map<string, CachedFile>();

function release(file: CachedFile): void {
  if (--file.refs === 0 && files.get(file.path) === file) files.delete(file.path);
}

/** The cached file for this call site, reading it when needed; null when it cannot be read. */
function cachedFile(priv: PrivHolder<CachedFile>, path: string | null): CachedFile | null {
  if (path === null) return null;
  const held = priv.priv;
  if (held !== undefined && held.path === path) return held;
  let file = files.get(path);
  if (file === undefined) {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(path);
    } catch {
      return null;
    }
    const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
    const nul = text.indexOf('\0');
    file = { path, bytes, text: nul < 0 ? text : text.slice(0, nul), refs: 0 };
    files.set(path, file);
  }
  if (held !== undefined) release(held);
  file.refs++;
  priv.priv = file;
  priv.free = release;
  return file;
}

export function fileread(_ctx: VmodContext, priv: PrivHolder<CachedFile>, path: string | null): string | null {
  return cachedFile(priv, path)?.text ?? null;
}

export function blobread(_ctx: VmodContext, priv: PrivHolder<CachedFile>, path: string | null): Uint8Array | null {
  return cachedFile(priv, path)?.bytes ?? null;
}

/** Whether the path (or what it links to) exists. */
export function file_exists(_ctx: VmodContext, path: string | null): boolean {
  if (path === null || path === '') return false;
  try {
    return statSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch {
    return false;
  }
}

/** An environment variable, or NULL when it is not set (or the name is NULL or empty). */
export function getenv(_ctx: VmodContext, name: string | null): string | null {
  if (name === null || name === '') return null;
  return process.env[name] ?? null;
}
