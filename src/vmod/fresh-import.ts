// Importing a VMOD's implementation keyed by the content of its files, as varnishd's VMOD cache
// keys a .so by its digest: an unchanged VMOD imports the module already loaded, a changed one
// imports a fresh module (a new VCL runs the new code; VCLs loaded before keep theirs).
//
// The key travels as a query (`index.ts?vmod=<digest>`). Node's module cache is keyed by URL,
// so a new query is a new module; a resolve hook (module.registerHooks, in the loading thread)
// gives the same query to the relative imports a keyed module makes inside its own folder, so
// the VMOD's helper files are fresh with it. Files outside the folder (Shellac's API) are shared.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import module from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const KEY = 'vmod';
/** Folder URL (with its trailing slash) → the query of its current digest. */
const folders = new Map<string, string>();
let hooked = false;

/** The digest of the code files under a VMOD folder (tests, node_modules and dot folders left out). */
export function folderDigest(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string, rel: string): void => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const path = join(d, e.name);
      if (e.isDirectory()) walk(path, `${rel}${e.name}/`);
      else if (/\.(?:[cm]?[jt]s|json)$/.test(e.name) && !/\.test\.[cm]?[jt]s$/.test(e.name)) {
        h.update(`${rel}${e.name}\0`);
        h.update(readFileSync(path));
      }
    }
  };
  walk(dir, '');
  return h.digest('hex').slice(0, 16);
}

/** The URL to import `file` (in VMOD folder `dir`) at the current content of the folder. */
export function freshUrl(file: string, dir: string): string {
  const query = `${KEY}=${folderDigest(dir)}`;
  const dirUrl = pathToFileURL(join(dir, '/')).href;
  folders.set(dirUrl, query);
  installHook();
  return `${pathToFileURL(file).href}?${query}`;
}

function installHook(): void {
  if (hooked || typeof module.registerHooks !== 'function') return;
  hooked = true;
  module.registerHooks({
    resolve(specifier, context, next) {
      const r = next(specifier, context);
      const parent = context.parentURL;
      if (parent === undefined || !parent.includes(`?${KEY}=`) || r.url.includes('?')) return r;
      const query = parent.slice(parent.indexOf('?') + 1);
      for (const dirUrl of folders.keys()) {
        if (parent.startsWith(dirUrl) && r.url.startsWith(dirUrl)) return { ...r, url: `${r.url}?${query}` };
      }
      return r;
    },
  });
}
