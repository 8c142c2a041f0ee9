// `shellac serve` flags, as varnishd takes them, turned into one plain configuration value.
// Everything here is checked before any port is opened: a bad flag is a usage error (exit 2).

import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { StorageSpec } from '../cache/index.ts';
import { isLogLevel, LOG_FLAGS, LOG_LEVELS, type LogLevel } from '../common/log.ts';
import { parseBytes } from '../common/params.ts';
import { parseArgs, UsageError } from '../common/args.ts';

export interface ListenSpec {
  /** `a0`, `a1`... unless named (`-a name=:8080`). */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** A Unix socket path (`-a /tmp/x.sock`) instead of host and port. */
  readonly path?: string;
  /** `-a :8080,PROXY`: connections start with a PROXY protocol header. */
  readonly proxy?: boolean;
  /** `-a /path,mode=0660,user=U,group=G`: the socket file's mode and owner once it is bound. */
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
}

export interface ServeConfig {
  readonly listen: readonly ListenSpec[];
  /** `-b host:port`: a backend with no VCL of ours (the builtin VCL alone). */
  readonly backend?: { readonly host: string; readonly port: number; readonly path?: string };
  readonly vclFile?: string;
  /** The cache's byte bound (`-s malloc,SIZE`), and the storage's name. */
  readonly storage: { readonly name: string; readonly bytes: number };
  /** Every storage named with -s, the cache's first (VCL may name them: storage.NAME). */
  readonly storageNames: readonly string[];
  /** Every -s, in order (Transient among them when given; its bytes Infinity when unbounded). */
  readonly storages: readonly StorageSpec[];
  /** `-d`: start with the listeners closed until the CLI says `start`; end when stdin closes. */
  readonly debug: boolean;
  /** `-p name=value`, in order; validated against the parameter table by the server. */
  readonly params: readonly (readonly [string, string])[];
  readonly workdir: string;
  readonly vclPath: readonly string[];
  /** `-T host:port` for the admin listener; `-S file` for its secret. */
  readonly admin?: { readonly host: string; readonly port: number };
  readonly secretFile?: string;
  /** `-M`: VMOD folders searched before vmods/. */
  readonly vmodPath: readonly string[];
  /** `-r name[,name...]` (repeatable): parameters param.set and param.reset refuse. */
  readonly readOnlyParams: readonly string[];
  /** `--log-level`: the process log's level (else SHELLAC_LOG_LEVEL, else warn). */
  readonly logLevel?: LogLevel;
  /** `--log-file`: where the process log goes (stderr by default); reopened on SIGUSR1. */
  readonly logFile?: string;
}

export const SERVE_USAGE =
  'usage: shellac serve [-a [name=][host]:port]... (-f FILE.vcl | -b host:port) [-s [name=]malloc,SIZE | -s [name=]file,PATH,SIZE]... [-p name=value]... [-r param[,param...]] [-h hash] [-j jail] [-n workdir] [-I dir]... [-M dir]... [-T host:port] [-S secretfile] [-F] [--log-level LEVEL] [--log-file PATH]';

const SPEC = {
  '-a': { value: true, repeat: true },
  '-b': { value: true },
  '-f': { value: true },
  '-s': { value: true, repeat: true },
  '-p': { value: true, repeat: true },
  '-n': { value: true },
  '-I': { value: true, repeat: true },
  '-M': { value: true, repeat: true },
  '-T': { value: true },
  '-S': { value: true },
  '-F': { value: false },
  '-d': { value: false },
  '-t': { value: true },
  '-r': { value: true, repeat: true },
  // Checked as varnishd checks them, without effect here: hash, jail (see parseHash, parseJail).
  '-h': { value: true },
  '-j': { value: true },
  // Accepted for compatibility, without effect here: waiter, shared memory sizes.
  '-W': { value: true },
  '-l': { value: true },
  '-P': { value: true },
  '-i': { value: true },
  ...LOG_FLAGS,
} as const;

const DEFAULT_STORAGE_BYTES = 256 * 1024 * 1024;
export function parseServeArgs(argv: readonly string[]): ServeConfig {
  const { flags, positional } = parseArgs(argv, SPEC);
  if (positional.length > 0) throw new UsageError(`unexpected argument '${positional[0]}'`);
  const one = (f: string): string | undefined => flags.get(f)?.[0];
  const many = (f: string): string[] => flags.get(f) ?? [];
  if (one('-b') !== undefined && one('-f') !== undefined) throw new UsageError('only one of -b or -f can be specified');

  const listen = many('-a').map((a, i) => parseListen(a, i));
  const b = one('-b');
  const admin = one('-T');
  let unnamed = 0;
  const storages = many('-s').map((text) => parseStorage(text, () => `s${unnamed++}`));
  const names = storages.map((st) => st.name);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) throw new UsageError(`-s: storage name '${twice}' given twice`);
  const cacheStorage = storages.find((st) => st.name !== 'Transient');
  const params = many('-p').map(parseParam);
  const t = one('-t');
  if (t !== undefined) params.unshift(['default_ttl', t]);
  const h = one('-h');
  if (h !== undefined) parseHash(h);
  const j = one('-j');
  if (j !== undefined) parseJail(j);
  const logLevel = one('--log-level');
  if (logLevel !== undefined && !isLogLevel(logLevel)) throw new UsageError(`--log-level ${logLevel}: one of ${LOG_LEVELS.join(', ')}`);
  return {
    listen: listen.length > 0 ? listen : [{ name: 'a0', host: '', port: 6081 }],
    backend: b === undefined ? undefined : b.startsWith('/') ? { host: '', port: 0, path: b } : parseHostPort(b, '-b', 80),
    vclFile: one('-f'),
    storage: cacheStorage ?? { name: 's0', bytes: DEFAULT_STORAGE_BYTES },
    storageNames: [...new Set([...(cacheStorage ? [] : ['s0']), ...storages.map((st) => st.name), 'Transient'])],
    storages: cacheStorage ? storages : [{ name: 's0', bytes: DEFAULT_STORAGE_BYTES }, ...storages],
    debug: flags.has('-d'),
    params,
    readOnlyParams: many('-r').flatMap((r) => r.split(',').map((n) => n.trim()).filter((n) => n !== '')),
    workdir: one('-n') ?? '/tmp/shellac',
    vclPath: many('-I'),
    vmodPath: many('-M'),
    admin: admin === undefined ? undefined : parseHostPort(admin, '-T'),
    secretFile: one('-S'),
    logLevel,
    logFile: one('--log-file'),
  };
}

/**
 * `-h critbit | simple_list | classic[,buckets]`: varnishd's hash methods. Shellac has one index
 * (a Map over the hash digest) whatever is asked; the flag is checked so that a start-up script
 * with a typo fails here as it would under varnishd.
 */
function parseHash(text: string): void {
  const [method, ...args] = text.split(',');
  if (method !== 'critbit' && method !== 'simple_list' && method !== 'classic') throw new UsageError(`Unknown hash method "${method}"`);
  if (method !== 'classic' && args.length > 0) throw new UsageError(`Hash method "${method}" takes no arguments`);
}

/** `-j none | unix[,user=...,ccgroup=...,workuser=...]`: varnishd's jails on Linux. Shellac runs as it was started. */
function parseJail(text: string): void {
  const method = text.split(',')[0];
  if (method !== 'none' && method !== 'unix') throw new UsageError(`Unknown jail method "${method}"`);
}

/**
 * `-a [name=]host:port[,HTTP|,PROXY]` or `-a [name=]/path[,HTTP|,PROXY][,user=U][,group=G][,mode=OCTAL]`,
 * with varnishd's messages for what it refuses.
 */
function parseListen(text: string, index: number): ListenSpec {
  // `name=` only before the address: `mode=0600` further on is a sub-argument.
  const eq = text.indexOf('=');
  const comma = text.indexOf(',');
  const named = eq > 0 && (comma < 0 || eq < comma);
  const name = named ? text.slice(0, eq) : `a${index}`;
  const [hostPort, ...subs] = (named ? text.slice(eq + 1) : text).split(',');
  const isPath = hostPort.startsWith('/');
  let proxy = false;
  const socket: { mode?: number; uid?: number; gid?: number } = {};
  for (const sub of subs) {
    const upper = sub.toUpperCase();
    if (upper === 'HTTP' || upper === 'PROXY') {
      proxy = upper === 'PROXY';
      continue;
    }
    const m = /^(user|group|mode)=(.*)$/.exec(sub);
    if (m === null) throw new UsageError(`-a ${text}: protocol '${sub}' is not supported (HTTP or PROXY)`);
    if (!isPath) throw new UsageError(`Invalid sub-arg ${sub} for IP addresses in -a`);
    if (m[1] === 'mode') {
      if (!/^[0-7]{1,4}$/.test(m[2])) throw new UsageError(`Invalid mode sub-arg ${m[2]} in -a`);
      socket.mode = Number.parseInt(m[2], 8);
    } else if (m[1] === 'user') {
      const id = systemId('/etc/passwd', m[2]);
      if (id === undefined) throw new UsageError(`Unknown user ${m[2]} in -a`);
      socket.uid = id;
    } else {
      const id = systemId('/etc/group', m[2]);
      if (id === undefined) throw new UsageError(`Unknown group ${m[2]} in -a`);
      socket.gid = id;
    }
  }
  const extra = { ...(proxy ? { proxy: true } : {}), ...socket };
  if (isPath) return { name, host: '', port: 0, path: hostPort, ...extra };
  const hp = parseHostPort(hostPort, '-a', undefined);
  return { name, ...hp, ...extra };
}

/** A user's or group's numeric id from /etc/passwd or /etc/group (a number is taken as it is). */
function systemId(file: string, who: string): number | undefined {
  if (/^\d+$/.test(who)) return Number(who);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f[0] === who && f.length > 2 && /^\d+$/.test(f[2])) return Number(f[2]);
  }
  return undefined;
}

/** `host:port`, `[v6]:port`, `:port`, or `host` when a default port is given. */
export function parseHostPort(text: string, flag: string, defaultPort?: number): { host: string; port: number } {
  let host = text;
  let port: string | undefined;
  const v6 = /^\[([^\]]*)\](?::(.*))?$/.exec(text);
  if (v6) {
    host = v6[1];
    port = v6[2];
  } else {
    const colon = text.lastIndexOf(':');
    if (colon >= 0 && text.indexOf(':') === colon) {
      host = text.slice(0, colon);
      port = text.slice(colon + 1);
    }
  }
  if (port === undefined) {
    if (defaultPort === undefined) throw new UsageError(`${flag} ${text}: a port is needed (host:port)`);
    return { host, port: defaultPort };
  }
  const n = Number(port);
  if (!/^\d+$/.test(port) || n > 65535) throw new UsageError(`${flag} ${text}: bad port '${port}'`);
  return { host, port: n };
}

/**
 * `-s [name=]malloc[,SIZE]` or `-s [name=]file,PATH,SIZE`; unnamed storages are s0, s1... in
 * order, as in varnishd. Without a size Transient is unbounded, as in varnishd; any other malloc
 * storage gets 256 MB (varnishd's malloc would be unbounded, which a cache box should not be).
 * A file storage needs its size, as varnishd's; a PATH that is a directory gets a file of the
 * storage's name in it.
 */
function parseStorage(text: string, nextName: () => string): StorageSpec {
  const eq = text.indexOf('=');
  const name = eq > 0 ? text.slice(0, eq) : nextName();
  if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) throw new UsageError(`-s ${text}: bad storage name '${name}'`);
  const [kind, ...args] = (eq > 0 ? text.slice(eq + 1) : text).split(',');
  if (kind === 'file') {
    const [path, size] = args;
    if (path === undefined || path === '') throw new UsageError(`-s ${text}: a file storage needs a path (file,PATH,SIZE)`);
    if (size === undefined) throw new UsageError(`-s ${text}: no size specified (file,PATH,SIZE)`);
    if (name === 'Transient') throw new UsageError(`-s ${text}: Transient must be malloc`);
    return { name, kind: 'file', path: isDirectory(path) ? join(path, `shellac_storage.${name}`) : path, bytes: storageSize(text, size) };
  }
  // `default` is malloc, as in varnishd.
  if (kind !== 'malloc' && kind !== 'default') throw new UsageError(`-s ${text}: unknown storage method "${kind}" (malloc or file)`);
  const size = args[0];
  if (size === undefined) return { name, bytes: name === 'Transient' ? Number.POSITIVE_INFINITY : DEFAULT_STORAGE_BYTES };
  return { name, bytes: storageSize(text, size) };
}

function storageSize(text: string, size: string): number {
  const bytes = parseBytes(size);
  if (bytes === undefined) throw new UsageError(`-s ${text}: bad size '${size}' (e.g. 256m, 1g)`);
  if (bytes < 1024 * 1024) throw new UsageError(`-s ${text}: size must be at least 1m`);
  return bytes;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function parseParam(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new UsageError(`-p ${text}: expected name=value`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}
