// Who is at the other end of a Unix socket: the effective user and group of the client's
// process, as Varnish reads them with SO_PEERCRED (vmod unix). Node offers no such call, so on
// Linux the answer is found the long way: the kernel's inode of our end of the connection
// (/proc/self/fd), the inode of the other end from the socket table (`ss -x`, which asks the
// kernel's sock_diag), the process holding that end (`ss -p`), and its effective ids from
// /proc/PID/status. It is looked up once per connection and kept with the socket.
//
// The process may have changed its ids since it connected, which SO_PEERCRED would not show,
// and `ss -p` sees only processes this one may inspect (all of them as root).

import { readFile, readlink } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { platform } from 'node:os';
import type { PeerCredentials } from '../vmod/api.ts';

const known = new WeakMap<Socket, Promise<PeerCredentials>>();

/** The credentials of the process at the other end of `socket`, or why they are not known. */
export function peerCredentials(socket: Socket | null | undefined): Promise<PeerCredentials> | PeerCredentials {
  if (platform() !== 'linux') return { error: `peer credentials are not supported on ${platform()}`, unsupported: true };
  if (!socket) return { error: 'no client connection' };
  let found = known.get(socket);
  if (!found) {
    found = lookUp(socket).catch((e: Error) => ({ error: `cannot read peer credentials: ${e.message}` }));
    known.set(socket, found);
  }
  return found;
}

async function lookUp(socket: Socket): Promise<PeerCredentials> {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) return { error: 'not a Unix domain socket' };
  const link = await readlink(`/proc/self/fd/${fd}`);
  const ours = /^socket:\[(\d+)\]$/.exec(link)?.[1];
  if (ours === undefined) return { error: 'not a Unix domain socket' };
  const table = parseSs(await run('ss', ['-x', '-p', '-n', '-H']));
  const peer = table.get(ours)?.peer;
  if (peer === undefined || peer === '0') return { error: 'not a Unix domain socket' };
  const pid = table.get(peer)?.pid;
  if (pid === undefined) return { error: 'the peer process is not visible to this one' };
  const status = await readFile(`/proc/${pid}/status`, 'latin1');
  const uid = /^Uid:\s+\d+\s+(\d+)/m.exec(status)?.[1];
  const gid = /^Gid:\s+\d+\s+(\d+)/m.exec(status)?.[1];
  if (uid === undefined || gid === undefined) return { error: `no ids in /proc/${pid}/status` };
  return { uid: Number(uid), gid: Number(gid) };
}

/** `ss -xpnH` lines by local inode: the peer's inode and the first process holding the socket. */
function parseSs(text: string): Map<string, { peer: string; pid?: number }> {
  const out = new Map<string, { peer: string; pid?: number }>();
  for (const line of text.split('\n')) {
    // Netid State Recv-Q Send-Q LocalPath LocalInode PeerPath PeerInode [users:(("name",pid=N,fd=M))]
    const m = /^\S+\s+\S+\s+\d+\s+\d+\s+.*?\s(\d+)\s+\S+\s+(\d+)(?:\s+users:\(\("[^"]*",pid=(\d+))?/.exec(line);
    if (m) out.set(m[1], { peer: m[2], pid: m[3] === undefined ? undefined : Number(m[3]) });
  }
  return out;
}

/** Runs a command; node:child_process is loaded on the first use (a cache process rarely needs it: 4 MB at start-up). */
async function run(cmd: string, args: readonly string[]): Promise<string> {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'latin1', maxBuffer: 64 * 1024 * 1024, timeout: 5000 }, (err, stdout) => {
      if (err) reject(err);
      else resolve(stdout);
    });
  });
}
