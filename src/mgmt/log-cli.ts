// `shellac log` and `shellac ncsa`: live transaction records of a running instance, read over
// the admin connection (log.stream), as varnishlog and varnishncsa show them.
//
//   shellac log [-g vxid|request] [-q query] [--json] [-T host:port] [-S file] [-n workdir]
//   shellac ncsa [-F format] [-b] [-c] [-q query] [-T host:port] [-S file] [-n workdir]
//
// They run until interrupted or until the instance goes away (exit 0), or for --count records.

import { UsageError } from '../common/args.ts';
import { countFlag, parseTargetFlags, refuseRest, type TargetFlags, withAdminSession } from './admin-target.ts';
import type { TxRecord } from '../common/log.ts';
import { compileQuery, QueryError } from './log-query.ts';
import { formatTxText } from './log-text.ts';
import { compileNcsa, NCSA_DEFAULT_FORMAT } from './ncsa.ts';

export const LOG_USAGE = 'usage: shellac log [-g vxid|request] [-q query] [--json] [-T host:port] [-S secretfile] [-n workdir]';
export const NCSA_USAGE = 'usage: shellac ncsa [-F format] [-b] [-c] [-q query] [-T host:port] [-S secretfile] [-n workdir]';

export function checkQuery(q: string | undefined): void {
  if (q === undefined) return;
  try {
    compileQuery(q);
  } catch (e) {
    if (e instanceof QueryError) throw new UsageError(`-q: ${e.message}`);
    throw e;
  }
}

/**
 * Streams groups of records to `out` until the connection ends, `limit` groups were seen, or
 * SIGINT. `during`, when given, is called once the stream runs with a function that ends it,
 * and returns its own cleanup (`shellac top` and `hist` end on a timer or a key press).
 */
export async function streamRecords(
  target: TargetFlags,
  args: string[],
  limit: number,
  out: (group: TxRecord[]) => void,
  during?: (stop: () => void) => () => void,
): Promise<number> {
  return withAdminSession(target, async (client) => {
    const stop = () => client.close();
    process.once('SIGINT', stop);
    let cleanup = () => {};
    try {
      const r = await client.command(['log.stream', ...args]);
      if (r.status !== 200) {
        process.stderr.write(`log.stream failed with status ${r.status}: ${r.body.trim()}\n`);
        return 1;
      }
      cleanup = during?.(stop) ?? cleanup;
      let seen = 0;
      for await (const f of client.frames()) {
        if (f.status !== 200) {
          process.stderr.write(f.body.endsWith('\n') ? f.body : `${f.body}\n`);
          continue;
        }
        out(JSON.parse(f.body) as TxRecord[]);
        if (++seen >= limit) break;
      }
      return 0;
    } finally {
      cleanup();
      process.off('SIGINT', stop);
    }
  });
}

export async function runLog(argv: readonly string[]): Promise<number> {
  const { target, own, rest } = parseTargetFlags(argv, new Set(['-g', '-q', '--count']), new Set(['--json']));
  refuseRest(rest);
  const g = own.get('-g')?.[0] ?? 'vxid';
  if (g !== 'vxid' && g !== 'request') throw new UsageError(`-g ${g}: vxid or request`);
  const q = own.get('-q')?.[0];
  checkQuery(q);
  const json = own.has('--json');
  const args = ['-g', g, ...(q === undefined ? [] : ['-q', q])];
  return streamRecords(target, args, countFlag(own), (group) => {
    process.stdout.write(json ? `${group.map((r) => JSON.stringify(r)).join('\n')}\n` : formatTxText(group));
  });
}

export async function runNcsa(argv: readonly string[]): Promise<number> {
  const { target, own, rest } = parseTargetFlags(argv, new Set(['-F', '-q', '--count']), new Set(['-b', '-c']));
  refuseRest(rest);
  let format: (r: TxRecord) => string;
  try {
    format = compileNcsa(own.get('-F')?.[0] ?? NCSA_DEFAULT_FORMAT);
  } catch (e) {
    throw new UsageError(`-F: ${(e as Error).message}`);
  }
  const q = own.get('-q')?.[0];
  checkQuery(q);
  // Client records only, unless -b asks for backend ones (-b -c: both), as varnishncsa.
  const backend = own.has('-b');
  const client = own.has('-c') || !backend;
  return streamRecords(target, q === undefined ? [] : ['-q', q], countFlag(own), (group) => {
    for (const r of group) {
      if ((r.side === 'client' && client) || (r.side === 'backend' && backend)) process.stdout.write(`${format(r)}\n`);
    }
  });
}
