#!/usr/bin/env node
// Entry point of the `shellac` command. Shellac runs its TypeScript sources directly with Node's
// type stripping, which needs Node 24; when an older Node runs this file (a fresh machine's
// system Node), hand over to the Node 24 that `npm install` pinned in node_modules.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    process.stderr.write(`shellac needs Node 24 or later (this is ${process.version}); run npm install first\n`);
    process.exit(2);
  }
  const r = spawnSync(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
await import(join(root, 'src', 'cli', 'main.ts'));
