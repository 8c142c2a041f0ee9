// Shared by compute's tests: the example programs built (as `npm install` builds them), a temp
// folder for libraries and programs, and a Shellac on loopback serving a VCL.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILD_DIR, buildPrograms } from '../../programs/build.ts';
import { type ProxyHandle, startProxy } from '../../test/helpers/proxy.ts';

export const PROGRAMS = join(import.meta.dirname, '../../programs');
export { BUILD_DIR };

export async function built(): Promise<void> {
  await buildPrograms();
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'shellac-compute-'));
}

export function write(dir: string, name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

/** A VCL importing compute, with a `none` default backend, `body` appended. */
export function computeVcl(body: string): string {
  return `vcl 4.1;\nimport compute;\nimport std;\nbackend default none;\n${body}\n`;
}

export async function serveVcl(vcl: string, opts: Parameters<typeof startProxy>[1] = {}): Promise<ProxyHandle> {
  return startProxy(vcl, opts);
}
