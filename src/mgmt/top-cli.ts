// `shellac top`: varnishtop. A live ranking of the most frequent tagged lines of the
// transaction records (ReqURL, ReqHeader, RespStatus, VCL_call...), decaying over -p refreshes.
//
//   shellac top [-1] [-b] [-c] [-f] [-i tag[,tag...]]... [-I [tag:]regex]... [-q query]
//               [-p period] [-w seconds] [-T host:port] [-S secretfile] [-n workdir]

import { UsageError } from '../common/args.ts';
import { countFlag, parseTargetFlags, refuseRest } from './admin-target.ts';
import { checkQuery } from './log-cli.ts';
import { TX_TAGS } from './log-text.ts';
import { runLiveView } from './live-screen.ts';
import { formatTopLine, type TopEntry, type TopSelection, TopRanking, topLines } from './top.ts';

export const TOP_USAGE =
  'usage: shellac top [-1] [-b] [-c] [-f] [-i tag[,tag]]... [-I [tag:]regex]... [-q query] [-p period] [-w seconds] [-T host:port] [-S secretfile] [-n workdir]';

/** Tags `shellac log` prints and `top` can rank. */
const TAGS = new Set(TX_TAGS);
/** The tag column's width on the screen, as varnishtop pads to its longest tag name. */
const TAG_WIDTH = 14;

export async function runTop(argv: readonly string[]): Promise<number> {
  const { target, own, rest } = parseTargetFlags(argv, new Set(['-i', '-I', '-q', '-p', '-w', '--count']), new Set(['-1', '-b', '-c', '-f']));
  refuseRest(rest);
  const q = own.get('-q')?.[0];
  checkQuery(q);
  const sel = selection(own);
  const period = positive(own, '-p', 60);
  const interval = positive(own, '-w', 1);
  const ranking = new TopRanking(period);
  const once = own.has('-1');
  let shown: TopEntry[] = [];
  return runLiveView(
    {
      add: (r) => {
        for (const [tag, text] of topLines(r, sel)) ranking.add(tag, text);
      },
      screen: (cols, rows, refresh) => {
        if (once) return ranking.ranked().map((e) => formatTopLine(e, 0));
        // The header and a blank line take two rows; a tiny terminal still shows one entry.
        if (refresh) shown = ranking.tick(Math.max(1, rows - 2));
        const head = `list length ${ranking.size}`;
        const name = target.n ?? target.T ?? '';
        return [`${head}${name.padStart(Math.max(1, cols - head.length - 1))}`, '', ...shown.map((e) => formatTopLine(e, TAG_WIDTH))];
      },
    },
    { target, streamArgs: q === undefined ? [] : ['-q', q], interval, once, limit: countFlag(own) },
  );
}

function selection(own: ReadonlyMap<string, readonly string[]>): TopSelection {
  const tags = new Set<string>();
  for (const list of own.get('-i') ?? []) {
    for (const t of list.split(',')) {
      const tag = [...TAGS].find((k) => k.toLowerCase() === t.trim().toLowerCase());
      if (tag === undefined) throw new UsageError(`-i ${t}: unknown tag (known: ${[...TAGS].join(' ')})`);
      tags.add(tag);
    }
  }
  const include = (own.get('-I') ?? []).map((spec) => {
    // `-I ReqHeader:^Host` limits the regex to one tag; a leading word that is not a tag is
    // part of the regex.
    const colon = spec.indexOf(':');
    const head = colon > 0 ? [...TAGS].find((k) => k.toLowerCase() === spec.slice(0, colon).toLowerCase()) : undefined;
    const source = head === undefined ? spec : spec.slice(colon + 1);
    try {
      return { tag: head, re: new RegExp(source) };
    } catch (e) {
      throw new UsageError(`-I ${spec}: ${(e as Error).message}`);
    }
  });
  const b = own.has('-b');
  const c = own.has('-c');
  return { tags, include, side: b === c ? undefined : b ? 'backend' : 'client', firstField: own.has('-f') };
}

function positive(own: ReadonlyMap<string, readonly string[]>, flag: string, fallback: number): number {
  const text = own.get(flag)?.[0];
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!(n > 0)) throw new UsageError(`${flag} ${text}: a positive number is needed`);
  return n;
}
