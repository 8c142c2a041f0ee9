// `shellac hist`: varnishhist. A live histogram of the last requests' response times (or of
// another profile: backend time to first byte, fetch time, sizes) on a log scale, hits drawn
// with `|` and misses with `#`, refreshed every -p seconds.
//
//   shellac hist [-1] [-P profile] [-p period] [-q query] [-T host:port] [-S secretfile] [-n workdir]

import { UsageError } from '../common/args.ts';
import { countFlag, parseTargetFlags, refuseRest } from './admin-target.ts';
import { Histogram, histProfile, ProfileError } from './hist.ts';
import { runLiveView } from './live-screen.ts';
import { checkQuery } from './log-cli.ts';

export const HIST_USAGE = 'usage: shellac hist [-1] [-P profile] [-p period] [-q query] [-T host:port] [-S secretfile] [-n workdir]';

export async function runHist(argv: readonly string[]): Promise<number> {
  const { target, own, rest } = parseTargetFlags(argv, new Set(['-P', '-p', '-q', '--count']), new Set(['-1']));
  refuseRest(rest);
  const q = own.get('-q')?.[0];
  checkQuery(q);
  const spec = own.get('-P')?.[0] ?? 'responsetime';
  let hist: Histogram;
  try {
    hist = new Histogram(histProfile(spec));
  } catch (e) {
    if (e instanceof ProfileError) throw new UsageError(e.message);
    throw e;
  }
  const period = Number(own.get('-p')?.[0] ?? 1);
  if (!(period > 0)) throw new UsageError(`-p ${own.get('-p')?.[0]}: a positive number of seconds is needed`);
  return runLiveView(
    { add: (r) => hist.add(r), screen: (cols, rows) => hist.render(cols, rows, spec) },
    { target, streamArgs: q === undefined ? [] : ['-q', q], interval: period, once: own.has('-1'), limit: countFlag(own) },
  );
}
