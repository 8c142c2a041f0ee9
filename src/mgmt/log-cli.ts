// `shellac log` and `shellac ncsa`: live transaction records of a running instance, read over
// the admin connection (log.stream), as varnishlog and varnishncsa show them.
//
//   shellac log [-g vxid|request] [-q query] [--json] [-T host:port] [-S file] [-n workdir]
//   shellac ncsa [-F format] [-b] [-c] [-q query] [-T host:port] [-S file] [-n workdir]
//
// They run until interrupted or until the instance goes away (exit 0), or for --count records.

import { UsageError } from '../cli/args.ts';
import { type AdminClient, AdminError } from './admin-client.ts';
import { connectTarget, parseTargetFlags, type TargetFlags } from './admin-target.ts';
import type { TxRecord } from './log.ts';
import { compileQuery, QueryError } from './log-query.ts';
import { formatTxText } from './log-text.ts';
import { compileNcsa, NCSA_DEFAULT_FORMAT } from './ncsa.ts';

export const LOG_USAGE = 'usage: shellac log [-g vxid|request] [-q query] [--json] [-T host:port] [-S secretfile] [-n workdir]';
export const NCSA_USAGE = 'usage: shellac ncsa [-F format] [-b] [-c] [-q query] [-T host:port] [-S secretfile] [-n workdir]';

function checkQuery(q: string | undefined): void {
  if (q === undefined) return;
  try {
    compileQuery(q);
  } catch (e) {
    if (e instanceof QueryError) throw new UsageError(`-q: ${e.message}`);
    throw e;
  }
}

function count(own: Map<string, string[]>): number {
  const c = own.get('--count')?.[0];
  if (c === undefined) return Number.POSITIVE_INFINITY;
  const n = Number(c);
  if (!(n >= 1)) throw new UsageError('--count needs a positive number');
  return n;
}

/** Streams groups of records to `out` until the connection ends or `limit` groups were seen. */
async function stream(target: TargetFlags, args: string[], limit: number, out: (group: TxRecord[]) => void): Promise<number> {
  let client: AdminClient;
  try {
    client = await connectTarget(target);
  } catch (e) {
    if (!(e instanceof AdminError)) throw e;
    process.stderr.write(`${e.message}\n`);
    return 2;
  }
  const stop = () => client.close();
  process.once('SIGINT', stop);
  try {
    const r = await client.command(['log.stream', ...args]);
    if (r.status !== 200) {
      process.stderr.write(`log.stream failed with status ${r.status}: ${r.body.trim()}\n`);
      return 1;
    }
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
  } catch (e) {
    if (!(e instanceof AdminError)) throw e;
    process.stderr.write(`${e.message}\n`);
    return 2;
  } finally {
    process.off('SIGINT', stop);
    client.close();
  }
}

export async function runLog(argv: readonly string[]): Promise<number> {
  const { target, own, rest } = parseTargetFlags(argv, new Set(['-g', '-q', '--count']), new Set(['--json']));
  if (rest.length > 0) throw new UsageError(rest[0].startsWith('-') ? `unknown option ${rest[0]}` : `unexpected argument '${rest[0]}'`);
  const g = own.get('-g')?.[0] ?? 'vxid';
  if (g !== 'vxid' && g !== 'request') throw new UsageError(`-g ${g}: vxid or request`);
  const q = own.get('-q')?.[0];
  checkQuery(q);
  const json = own.has('--json');
  const args = ['-g', g, ...(q === undefined ? [] : ['-q', q])];
  return stream(target, args, count(own), (group) => {
    process.stdout.write(json ? `${group.map((r) => JSON.stringify(r)).join('\n')}\n` : formatTxText(group));
  });
}

export async function runNcsa(argv: readonly string[]): Promise<number> {
  const { target, own, rest } = parseTargetFlags(argv, new Set(['-F', '-q', '--count']), new Set(['-b', '-c']));
  if (rest.length > 0) throw new UsageError(rest[0].startsWith('-') ? `unknown option ${rest[0]}` : `unexpected argument '${rest[0]}'`);
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
  return stream(target, q === undefined ? [] : ['-q', q], count(own), (group) => {
    for (const r of group) {
      if ((r.side === 'client' && client) || (r.side === 'backend' && backend)) process.stdout.write(`${format(r)}\n`);
    }
  });
}
