// The cache process's code as JavaScript, stripped by the manager before the first fork, so
// that the child never loads Node's TypeScript stripper (amaro: about 30 MB of the child's RSS
// at start-up, measured 111 -> 82 MB importing the server, docs/storage.md).
//
// The manager strips every non-test .ts file of src/ and vmods/ (Node's own
// stripTypeScriptTypes, the same transform Node applies when it loads a .ts file: positions
// are kept, so stack traces point at the source) into DIR/<sha-256 of the source>.js, once per
// content (DIR: childCodeDir, one per user shared by every work dir). The child runs with `--import child-hooks.mjs` and SHELLAC_CHILD_CODE=DIR: a module
// load hook that, for a .ts file, hashes the file as it is now and loads DIR/<hash>.js as plain
// JavaScript when there is one. The key is the content, so a changed source can never run stale
// code: it has no stripped copy, and Node strips it as usual (that child pays for the stripper,
// and the next manager start strips it too). The modules keep their own URLs (import.meta.url,
// a VMOD's imports of src/ are the same modules), only their source comes from elsewhere.

import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The trees the child may load code from. */
const TREES = ['src', 'vmods'];
const HOOKS = new URL('./child-hooks.mjs', import.meta.url).href;
/** A copy no source has wanted for this long goes (another checkout may still want it meanwhile). */
const UNWANTED_DAYS = 7;

/** What the child is forked with to load the stripped code. */
export interface ChildCode {
  readonly execArgv: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Files stripped now (the others were there already). */
  readonly stripped: number;
}

/**
 * Where the copies live: one directory per user in the temporary directory, shared by every
 * work dir (a test suite's fresh work dirs strip nothing after the first), as the copies are
 * named by their content and written whole; the work dir's own `_.code` when that directory is
 * not one only this user can write (made by someone else, a link).
 */
export function childCodeDir(workdir: string): string {
  const uid = process.getuid?.();
  const shared = join(tmpdir(), `shellac-code-${uid ?? 'user'}`);
  try {
    mkdirSync(shared, { recursive: true, mode: 0o700 });
    const st = lstatSync(shared);
    if (uid !== undefined && st.isDirectory() && st.uid === uid && (st.mode & 0o022) === 0) return shared;
  } catch {
    // Not usable: the work dir's own.
  }
  return join(workdir, '_.code');
}

/**
 * Strips what is not stripped yet into `dir` and drops what no source has wanted for a week. Null when
 * it cannot (a read-only work dir: the child then strips its own code, as before).
 */
export function prepareChildCode(dir: string): ChildCode | null {
  try {
    mkdirSync(dir, { recursive: true });
    const have = new Set(readdirSync(dir));
    const want = new Set<string>();
    let stripped = 0;
    for (const file of sources()) {
      const source = readFileSync(file);
      const name = `${createHash('sha256').update(source).digest('hex')}.js`;
      want.add(name);
      if (have.has(name)) continue;
      // Written whole under a temporary name, then renamed: a child never reads half a file.
      const js = strip(source.toString('utf8'));
      if (js === null) continue;
      const tmp = join(dir, `${name}.${process.pid}.tmp`);
      writeFileSync(tmp, js);
      renameSync(tmp, join(dir, name));
      have.add(name);
      stripped++;
    }
    const old = Date.now() - UNWANTED_DAYS * 86_400_000;
    for (const name of have) {
      if (want.has(name)) continue;
      const path = join(dir, name);
      if ((statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0) < old) rmSync(path, { force: true });
    }
    return { execArgv: ['--import', HOOKS], env: { SHELLAC_CHILD_CODE: dir }, stripped };
  } catch {
    return null;
  }
}

function* sources(): Generator<string> {
  for (const tree of TREES) {
    for (const entry of readdirSync(join(ROOT, tree), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts') || entry.name.endsWith('.d.ts')) continue;
      yield join(entry.parentPath, entry.name);
    }
  }
}

/**
 * Node's transform, without its one-time "experimental" warning on the manager's stderr; null
 * for a file it refuses (the child's Node then reports it where it is imported, as before).
 */
function strip(source: string): string | null {
  const emit = process.emitWarning;
  process.emitWarning = () => {};
  try {
    return stripTypeScriptTypes(source, { mode: 'strip' });
  } catch {
    return null;
  } finally {
    process.emitWarning = emit;
  }
}
