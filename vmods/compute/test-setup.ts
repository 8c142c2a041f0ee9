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

/**
 * The subroutines after vcl_init of a VCL whose requests all go to the program the x-program
 * header names, with x-arg as its argument, passed; `/stats` answers compute.stats().
 */
export const PROGRAM_BY_HEADER = `
sub vcl_recv {
  if (req.url == "/stats") { return (synth(700)); }
  return (pass);
}
sub vcl_synth {
  set resp.body = compute.stats();
  return (deliver);
}
sub vcl_backend_fetch {
  set bereq.backend = compute.program(bereq.http.x-program, bereq.http.x-arg);
}`;

export async function serveVcl(vcl: string, opts: Parameters<typeof startProxy>[1] = {}): Promise<ProxyHandle> {
  return startProxy(vcl, opts);
}

/**
 * A Shellac listening on loopback and on a Unix socket (`SOCKET` in the VCL becomes its path),
 * for programs' self-requests to reach the server they run in.
 */
export async function serveWithSocket(vcl: string, dir: string): Promise<ProxyHandle & { socket: string }> {
  const socket = join(dir, 'self.sock');
  const p = await startProxy(vcl.replaceAll('SOCKET', socket));
  await p.srv.listen([{ name: 'a1', host: '', port: 0, path: socket }]);
  return { ...p, socket };
}
