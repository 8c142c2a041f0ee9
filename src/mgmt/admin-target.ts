// Where the admin commands (`shellac adm`, `stat`, `log`, `ncsa`) connect: -T host:port, -S
// secretfile, -n workdir (whose admin file names both), -t seconds to wait for each reply. They
// come before the command's own words, as varnishadm takes them. Also what those commands
// share around the flags: refusing stray words, --count, and a session whose connection or
// protocol failure is reported on stderr with exit status 2.

import { UsageError } from '../common/args.ts';
import { AdminClient, AdminError, resolveTarget } from './admin-client.ts';

export interface TargetFlags {
  T?: string;
  S?: string;
  n?: string;
  /** Seconds to wait for each reply. */
  t?: number;
}

const TARGET_FLAGS = new Set(['-T', '-S', '-n', '-t']);

/**
 * Reads -T -S -n -t (and `valued`, the command's own flags that take a value, and `switches`,
 * those that take none) up to the first other word; returns them and the rest.
 */
export function parseTargetFlags(
  argv: readonly string[],
  valued: ReadonlySet<string> = new Set(),
  switches: ReadonlySet<string> = new Set(),
): { target: TargetFlags; own: Map<string, string[]>; rest: string[] } {
  const target: TargetFlags = {};
  const own = new Map<string, string[]>();
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--') {
      i++;
      break;
    }
    if (switches.has(a)) {
      own.set(a, [...(own.get(a) ?? []), 'true']);
      continue;
    }
    if (!TARGET_FLAGS.has(a) && !valued.has(a)) break;
    const v = argv[i + 1];
    if (v === undefined) throw new UsageError(`option ${a} needs a value`);
    i++;
    if (a === '-t') {
      const t = Number(v);
      if (!(t > 0)) throw new UsageError(`-t ${v}: expected seconds`);
      target.t = t;
    } else if (TARGET_FLAGS.has(a)) {
      target[a.slice(1) as 'T' | 'S' | 'n'] = v;
    } else own.set(a, [...(own.get(a) ?? []), v]);
  }
  return { target, own, rest: argv.slice(i) };
}

/** Connects as the flags say; throws AdminError, whose message is what the user should see. */
export async function connectTarget(flags: TargetFlags): Promise<AdminClient> {
  let target: ReturnType<typeof resolveTarget>;
  try {
    target = resolveTarget(flags);
  } catch (e) {
    throw new AdminError('ECONNECT', (e as Error).message);
  }
  return AdminClient.connect({ ...target, timeoutMs: (flags.t ?? 60) * 1000 });
}

/** For a command that takes no words after its flags: the first one is a usage error. */
export function refuseRest(rest: readonly string[]): void {
  if (rest.length > 0) throw new UsageError(rest[0].startsWith('-') ? `unknown option ${rest[0]}` : `unexpected argument '${rest[0]}'`);
}

/** `--count N` (N ≥ 1, for tests and scripts): how many screens or records before stopping. */
export function countFlag(own: ReadonlyMap<string, readonly string[]>): number {
  const c = own.get('--count')?.[0];
  if (c === undefined) return Number.POSITIVE_INFINITY;
  const n = Number(c);
  if (!(n >= 1)) throw new UsageError('--count needs a positive number');
  return n;
}

/**
 * Connects as the flags say and runs `session`, closing the connection after it. An AdminError
 * (connecting, authenticating, or during the session) prints its message and gives exit status 2.
 */
export async function withAdminSession(flags: TargetFlags, session: (client: AdminClient) => Promise<number>): Promise<number> {
  let client: AdminClient | undefined;
  try {
    client = await connectTarget(flags);
    return await session(client);
  } catch (e) {
    if (!(e instanceof AdminError)) throw e;
    process.stderr.write(`${e.message}\n`);
    return 2;
  } finally {
    client?.close();
  }
}
