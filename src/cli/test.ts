// `shellac test [-j N] [-k] [-v] [-q] [-L] [-t SECONDS] [-M DIR]... [--varnishd] FILE.vtc...`:
// runs varnishtest files against Shellac, whose instances search the -M VMOD folders first (or,
// with --varnishd, against real varnishd, which is how the runner itself is proven). One line per file, the log of each failed file (all logs with
// -v, none with -q), then `N passed, N failed, N skipped`. Exit status 0 only if none failed.

import { resolve } from 'node:path';
import { formatResultLine, formatSummary, runVtcFiles } from '../vtc/runner.ts';
import { shellacDriver, varnishdDriver } from '../vtc/varnish-driver.ts';
import { parseArgs, positiveNumber, UsageError } from '../common/args.ts';

const FLAGS = {
  '-j': { value: true },
  '-k': { value: false },
  '-v': { value: false },
  '-q': { value: false },
  '-L': { value: false },
  '-t': { value: true },
  '--varnishd': { value: false },
  '-M': { value: true, repeat: true },
} as const;

export const TEST_USAGE = 'usage: shellac test [-j N] [-k] [-v] [-q] [-L] [-t SECONDS] [-M VMOD_DIR]... [--varnishd] FILE.vtc...';

export async function runTest(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv, FLAGS);
  if (args.positional.length === 0) throw new UsageError('no test files');
  const verbose = args.flags.has('-v');
  const quiet = args.flags.has('-q');
  const summary = await runVtcFiles(args.positional, {
    jobs: Math.floor(positiveNumber('-j', args.flags.get('-j')?.[0], 1)),
    timeout: positiveNumber('-t', args.flags.get('-t')?.[0], 60),
    keepGoing: args.flags.has('-k'),
    leaveTemp: args.flags.has('-L'),
    driver: args.flags.has('--varnishd') ? varnishdDriver() : shellacDriver({ vmodPath: (args.flags.get('-M') ?? []).map((d) => resolve(d)) }),
    onResult: (r) => {
      if (verbose || (r.status === 'failed' && !quiet)) process.stdout.write(`${r.log.join('\n')}\n`);
      process.stdout.write(`${formatResultLine(r)}\n`);
    },
  });
  process.stdout.write(`${formatSummary(summary)}\n`);
  return summary.failed > 0 ? 1 : 0;
}
