// `shellac serve` flags, as varnishd takes them, turned into one plain configuration value.
// Everything here is checked before any port is opened: a bad flag is a usage error (exit 2).

import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { StorageSpec } from '../cache/index.ts';
import { isLogLevel, LOG_FLAGS, LOG_LEVELS, type LogLevel } from '../mgmt/log.ts';
import { parseBytes } from '../mgmt/params.ts';
import { parseArgs, UsageError } from './args.ts';

export interface ListenSpec {
  /** `a0`, `a1`... unless named (`-a name=:8080`). */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** A Unix socket path (`-a /tmp/x.sock`) instead of host and port. */
  readonly path?: string;
  /** `-a :8080,PROXY`: connections start with a PROXY protocol header. */
  readonly proxy?: boolean;
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
  /** `--log-level`: the process log's level (else SHELLAC_LOG_LEVEL, else warn). */
  readonly logLevel?: LogLevel;
  /** `--log-file`: where the process log goes (stderr by default); reopened on SIGUSR1. */
  readonly logFile?: string;
}

export const SERVE_USAGE =
  'usage: shellac serve [-a [name=][host]:port]... (-f FILE.vcl | -b host:port) [-s [name=]malloc,SIZE | -s [name=]file,PATH,SIZE]... [-p name=value]... [-n workdir] [-I dir]... [-M dir]... [-T host:port] [-S secretfile] [-F] [--log-level LEVEL] [--log-file PATH]';

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
  // Accepted for compatibility, without effect here: waiter, shared memory sizes, jails.
  '-W': { value: true },
  '-l': { value: true },
  '-j': { value: true },
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
    workdir: one('-n') ?? '/tmp/shellac',
    vclPath: many('-I'),
    vmodPath: many('-M'),
    admin: admin === undefined ? undefined : parseHostPort(admin, '-T'),
    secretFile: one('-S'),
    logLevel,
    logFile: one('--log-file'),
  };
}

function parseListen(text: string, index: number): ListenSpec {
  const eq = text.indexOf('=');
  const name = eq > 0 ? text.slice(0, eq) : `a${index}`;
  const addr = eq > 0 ? text.slice(eq + 1) : text;
  // `-a :8080,HTTP` or `,PROXY`: a protocol suffix (HTTP/1, or HTTP/1 behind a PROXY header).
  const [hostPort, proto] = addr.split(',', 2);
  const upper = proto?.toUpperCase();
  if (upper !== undefined && upper !== 'HTTP' && upper !== 'PROXY') {
    throw new UsageError(`-a ${text}: protocol '${proto}' is not supported (HTTP or PROXY)`);
  }
  const proxy = upper === 'PROXY' ? { proxy: true } : {};
  if (hostPort.startsWith('/')) return { name, host: '', port: 0, path: hostPort, ...proxy };
  const hp = parseHostPort(hostPort, '-a', undefined);
  return { name, ...hp, ...proxy };
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
