// Builds the example programs: each AssemblyScript file here becomes build/NAME.wasm with the
// flags the compute program interface needs (docs/compute.md), and each JS program becomes
// build/NAME.js, the JS SDK followed by the program. Files in test/ (the misbehaving programs
// compute's tests use) are built as test-NAME. An output newer than its source and the SDK is
// kept, so `npm install` (the prepare script) and the tests' set-up pay only for what changed.
// Run: `node programs/build.ts` (npm run build:programs).

import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
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
  // The examples, and the misbehaving programs compute's tests use (test/, built as test-NAME).
  const sources = [
    ...readdirSync(HERE).filter((f) => f.endsWith('.ts') && f !== 'build.ts'),
    ...readdirSync(join(HERE, 'test')).filter((f) => f.endsWith('.ts')).map((f) => `test/${f}`),
  ];
  for (const file of sources) {
    const name = file.slice(0, -3).replace('/', '-');
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
  // A JS program is the JS SDK followed by the program.
  const jsSdk = join(HERE, 'sdk/shellac.js');
  const scripts = [
    ...readdirSync(HERE).filter((f) => f.endsWith('.js')),
    ...readdirSync(join(HERE, 'test')).filter((f) => f.endsWith('.js')).map((f) => `test/${f}`),
  ];
  for (const file of scripts) {
    const name = file.slice(0, -3).replace('/', '-');
    const out = join(BUILD_DIR, `${name}.js`);
    if (mtime(out) > Math.max(mtime(jsSdk), mtime(join(HERE, file)))) continue;
    writeFileSync(out, `${readFileSync(jsSdk, 'utf8')}\n${readFileSync(join(HERE, file), 'utf8')}`);
    built.push(name);
  }
  return built;
}

if (process.argv[1] === import.meta.filename) {
  const built = await buildPrograms();
  console.log(built.length > 0 ? `programs: built ${built.join(', ')}` : 'programs: up to date');
}
