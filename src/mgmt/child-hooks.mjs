// Loaded with `--import` by the cache process (the manager's child), before any of its code:
// a .ts module whose source the manager stripped already (child-code.ts) is loaded as that
// JavaScript, so Node's TypeScript stripper is never loaded in this process. Plain JavaScript
// itself, as it must run before TypeScript could. The stripped copy is found by the SHA-256 of
// the source as it is now: a source changed since has none and is stripped by Node as usual.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Worker threads inherit the flag and the environment: their code (the same sources) comes from
// the same place, and they do not load the stripper either.
const dir = process.env.SHELLAC_CHILD_CODE;

if (dir !== undefined && dir !== '') {
  registerHooks({
    load(url, context, nextLoad) {
      if (!url.startsWith('file:')) return nextLoad(url, context);
      const path = fileURLToPath(url.replace(/[?#].*$/, ''));
      if (!path.endsWith('.ts')) return nextLoad(url, context);
      let source;
      try {
        source = readFileSync(join(dir, `${createHash('sha256').update(readFileSync(path)).digest('hex')}.js`), 'utf8');
      } catch {
        return nextLoad(url, context);
      }
      return { format: 'module', source, shortCircuit: true };
    },
  });
}
