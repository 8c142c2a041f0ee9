// Admin authentication, as varnishd does it: the server greets with a random challenge, and the
// client proves it can read the secret file by answering the hex SHA-256 of
// `challenge \n secret-file-bytes challenge \n`. The server reads the file again at each auth,
// so an operator rotates the secret by rewriting the file. Without -S a random secret is written
// into the work dir (mode 0600), where `shellac adm -n DIR` finds it, with the admin address.

import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The file in the work dir holding the generated secret. */
export const SECRET_FILE_NAME = '_.secret';
/** The file in the work dir telling clients where the admin listener is (JSON). */
export const ADMIN_INFO_FILE_NAME = '_.admin.json';

/** A fresh challenge: 32 lowercase letters, as varnishd's. */
export function newChallenge(): string {
  let s = '';
  for (let i = 0; i < 32; i++) s += String.fromCharCode(97 + randomInt(26));
  return s;
}

/** The expected answer to `challenge` for a secret file's bytes (lowercase hex). */
export function authResponse(challenge: string, secret: Uint8Array): string {
  const h = createHash('sha256');
  h.update(`${challenge}\n`, 'latin1');
  h.update(secret);
  h.update(`${challenge}\n`, 'latin1');
  return h.digest('hex');
}

/** Compares an answer to the expected one in constant time, ignoring hex case. */
export function answerMatches(expected: string, given: string): boolean {
  const a = Buffer.from(expected.toLowerCase(), 'latin1');
  const b = Buffer.from(given.toLowerCase(), 'latin1');
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Writes a new random secret into `workdir/_.secret` (or `name`) with mode 0600 and returns its path. The
 * file is written beside and renamed into place, so no reader sees it half written or with a
 * wider mode.
 */
export function writeRandomSecret(workdir: string, name = SECRET_FILE_NAME): string {
  mkdirSync(workdir, { recursive: true });
  const path = join(workdir, name);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  return path;
}

export interface AdminInfo {
  /** Where the admin listener is. */
  readonly host: string;
  readonly port: number;
  /** The secret file to authenticate with; absent when the server asks for none. */
  readonly secretFile?: string;
}

/** Tells `shellac adm -n workdir` (and `shellac stat -n`) where to connect. */
export function writeAdminInfo(workdir: string, info: AdminInfo): void {
  mkdirSync(workdir, { recursive: true });
  const path = join(workdir, ADMIN_INFO_FILE_NAME);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(info)}\n`, { mode: 0o644 });
  renameSync(tmp, path);
}

export function readAdminInfo(workdir: string): AdminInfo {
  const path = join(workdir, ADMIN_INFO_FILE_NAME);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`no running instance found in ${workdir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message} reading ${path})`);
  }
  const info = JSON.parse(text) as AdminInfo;
  if (typeof info.host !== 'string' || typeof info.port !== 'number') throw new Error(`${path}: not an admin address`);
  return info;
}
