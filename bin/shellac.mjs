#!/usr/bin/env node
// Entry point of the `shellac` command. Shellac runs its TypeScript sources directly with Node's
// type stripping, which needs Node 24; when an older Node runs this file (a fresh machine's
// system Node), hand over to the Node 24 that `npm install` pinned in node_modules.
//
// The hand-over keeps this process as the one a user or a process manager holds the PID of:
// the signals that manage a server (HUP, TERM, INT, USR1, USR2) are passed on to the child, and
// this process ends as the child did, with its exit code or killed by the same signal. Without
// that, `kill -TERM <pid>` would end this wrapper and leave the server running, orphaned.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FORWARDED = ['SIGHUP', 'SIGTERM', 'SIGINT', 'SIGUSR1', 'SIGUSR2'];

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const pinned = join(root, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned)) {
    process.stderr.write(`shellac needs Node 24 or later (this is ${process.version}); run npm install first\n`);
    process.exit(2);
  }
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  const forward = (signal) => {
    // The child may already be gone; its exit is handled below.
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const s of FORWARDED) process.on(s, forward);
  child.on('error', (e) => {
    process.stderr.write(`shellac: cannot start ${pinned}: ${e.message}\n`);
    process.exit(2);
  });
  child.on('exit', (code, signal) => {
    for (const s of FORWARDED) process.off(s, forward);
    if (signal === null) process.exit(code ?? 1);
    // Die of the same signal, so that whoever waits on this PID sees what the server saw. Node
    // gives SIGUSR1 to its debugger rather than dying of it: there, the shell's 128 + number.
    if (signal !== 'SIGUSR1') process.kill(process.pid, signal);
    setTimeout(() => process.exit(128 + (constants.signals[signal] ?? 0)), signal === 'SIGUSR1' ? 0 : 1000);
  });
} else {
  await import(join(root, 'src', 'cli', 'main.ts'));
}
