// Builds the example programs: each AssemblyScript file here becomes build/NAME.wasm with the
// flags the compute program interface needs (docs/compute.md); JS programs are used as they
// are. An output newer than its source and the SDK is kept, so `npm install` and test set-ups
// that call this pay only for what changed. Run: `node programs/build.ts` (npm run build:programs).

import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const HERE = import.meta.dirname;
export const BUILD_DIR = join(HERE, 'build');

/** The asc flags every program gets: why each is there is in docs/compute.md. */
const FLAGS = ['--optimize', '--runtime', 'stub', '--importMemory', '--exportStart', '_initialize', '--noAssert'];

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** Builds what is out of date; returns the names built. Throws with asc's message on an error. */
export async function buildPrograms(): Promise<string[]> {
  mkdirSync(BUILD_DIR, { recursive: true });
  const sdk = mtime(join(HERE, 'sdk/shellac.ts'));
  const built: string[] = [];
  const sources = readdirSync(HERE).filter((f) => f.endsWith('.ts') && f !== 'build.ts');
  for (const file of sources) {
    const name = file.slice(0, -3);
    const out = join(BUILD_DIR, `${name}.wasm`);
    if (mtime(out) > Math.max(sdk, mtime(join(HERE, file)))) continue;
    const asc = (await import('assemblyscript/asc')).default;
    let errors = '';
    const r = await asc.main([join(HERE, file), '--outFile', out, ...FLAGS], {
      stderr: { write: (s: string | Uint8Array) => ((errors += String(s)), true) } as never,
      stdout: { write: () => true } as never,
    });
    if (r.error) throw new Error(`programs/${file}: ${r.error.message}\n${errors}`);
    built.push(name);
  }
  return built;
}

if (process.argv[1] === import.meta.filename) {
  const built = await buildPrograms();
  console.log(built.length > 0 ? `programs: built ${built.join(', ')}` : 'programs: up to date');
}
