// Finds and parses the manifest an `import` names. `import name;` searches the vmod_path;
// `import name from "path";` uses that folder or .vcc file. Parsed manifests are cached per
// file and re-read when the file's modification time or size changes, so a VCL reload
// picks up an edited manifest without re-parsing unchanged ones.

import { readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VmodManifest } from './manifest.ts';
import { parseVcc } from './vcc.ts';

/** The VMODs Shellac ships: the repository's `vmods/` folder. */
export const DEFAULT_VMOD_PATH: readonly string[] = [fileURLToPath(new URL('../../vmods/', import.meta.url))];

/** The manifest file inside a VMOD's folder. */
export const MANIFEST_FILE = 'vmod.vcc';

export interface LoadOptions {
  /** The path of `import name from "path"`: a VMOD folder or a .vcc file. */
  readonly from?: string;
  /** The folders searched for `<dir>/<name>/vmod.vcc`; DEFAULT_VMOD_PATH when absent. */
  readonly vmodPath?: readonly string[];
  /** What a relative `from` is resolved against; the working directory when absent. */
  readonly baseDir?: string;
}

export type LoadResult = { readonly manifest: VmodManifest } | { readonly error: string };

interface CacheEntry {
  readonly mtimeMs: number;
  readonly size: number;
  readonly result: LoadResult;
}

const cache = new Map<string, CacheEntry>();

/** Forgets every parsed manifest (for tests and for a full reload). */
export function clearManifestCache(): void {
  cache.clear();
}

export function loadManifest(name: string, opts: LoadOptions = {}): LoadResult {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return { error: `'${name}' is not a valid VMOD name` };
  const candidates = candidateFiles(name, opts);
  const file = candidates.find(isFile);
  if (file === undefined) {
    const where = opts.from !== undefined ? 'at' : 'in the vmod_path; looked for';
    return { error: `Could not find VMOD '${name}' ${where} ${candidates.join(', ')}` };
  }
  const result = parseCached(file);
  if ('error' in result) return result;
  if (result.manifest.name !== name) {
    return { error: `${file} is the manifest of VMOD '${result.manifest.name}', not '${name}'` };
  }
  return result;
}

/** The files an import may mean, in search order. */
function candidateFiles(name: string, opts: LoadOptions): string[] {
  if (opts.from !== undefined) {
    const path = isAbsolute(opts.from) ? opts.from : resolve(opts.baseDir ?? process.cwd(), opts.from);
    return [path.endsWith('.vcc') ? path : join(path, MANIFEST_FILE)];
  }
  // A folder of VMOD folders, or (an out-of-tree package) the VMOD's own folder by its name.
  return (opts.vmodPath ?? DEFAULT_VMOD_PATH).flatMap((dir) => [join(dir, name, MANIFEST_FILE), ...(basename(dir) === name ? [join(dir, MANIFEST_FILE)] : [])]);
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

/** Parses a manifest file, or returns the cached result while the file is unchanged. */
export function parseCached(file: string): LoadResult {
  const stat = statSync(file, { throwIfNoEntry: false });
  if (!stat) {
    cache.delete(file);
    return { error: `Could not read VMOD manifest ${file}: no such file` };
  }
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === stat.mtimeMs && hit.size === stat.size) return hit.result;
  const result = parseFile(file);
  cache.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, result });
  return result;
}

function parseFile(file: string): LoadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { error: `Could not read VMOD manifest ${file}: ${(e as Error).message}` };
  }
  const { manifest, errors } = parseVcc(text, file);
  if (!manifest) return { error: errors.map((e) => `${file}:${e.line}: ${e.message}`).join('\n') };
  return { manifest };
}
