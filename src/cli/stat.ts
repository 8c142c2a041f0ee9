// `shellac stat [-1] [-j] [-f glob]... [-w seconds] [-T host:port] [-S file] [-n workdir]`:
// the counters of a running instance, read over the admin connection (counters.show -j).
// -1 prints them once as varnishstat -1 does (name, value, average per second since start,
// description); -j once as varnishstat -j; neither: a table refreshed every -w seconds (1 by
// default) with the change per second, until interrupted. -f globs select names, ^glob drops.

import type { AdminClient } from '../mgmt/admin-client.ts';
import { countFlag, parseTargetFlags, refuseRest, withAdminSession } from '../mgmt/admin-target.ts';
import { type CounterRow, counterFilter, formatStatLines, rowsFromStatJson, statJson } from '../mgmt/counter-format.ts';
import { UsageError } from '../common/args.ts';

export const STAT_USAGE = 'usage: shellac stat [-1] [-j] [-f glob]... [-w seconds] [-T host:port] [-S secretfile] [-n workdir]';

export async function runStat(argv: readonly string[]): Promise<number> {
  // `--count N` ends the refreshing display after N screens (for tests and scripts).
  const { target, own, rest } = parseTargetFlags(argv, new Set(['-f', '-w', '--count']), new Set(['-1', '-j']));
  refuseRest(rest);
  const once = own.has('-1');
  const json = own.has('-j');
  if (once && json) throw new UsageError('-1 and -j exclude each other');
  const interval = Number(own.get('-w')?.[0] ?? 1);
  if (!(interval > 0)) throw new UsageError('-w needs a number of seconds');
  const count = countFlag(own);
  const keep = counterFilter(own.get('-f') ?? []);

  return withAdminSession(target, async (client) => {
    const read = () => readRows(client, keep);
    if (once || json) {
      const rows = await read();
      if (!rows) return 1;
      process.stdout.write(once ? formatStatLines(rows) : `${JSON.stringify(statJson(rows), null, 2)}\n`);
      return 0;
    }
    return refresh(read, interval, count);
  });
}

/** The counters `keep` selects, or undefined (said on stderr) when the command fails. */
async function readRows(client: AdminClient, keep: (name: string) => boolean): Promise<CounterRow[] | undefined> {
  const r = await client.command(['counters.show', '-j']);
  if (r.status !== 200) {
    process.stderr.write(`counters.show failed with status ${r.status}: ${r.body.trim()}\n`);
    return undefined;
  }
  return rowsFromStatJson(JSON.parse(r.body)).filter((row) => keep(row.name));
}

async function refresh(read: () => Promise<CounterRow[] | undefined>, interval: number, count: number): Promise<number> {
  let stop = false;
  const onInt = () => {
    stop = true;
  };
  process.once('SIGINT', onInt);
  let previous = new Map<string, number>();
  let previousAt = 0;
  try {
    for (let n = 0; n < count && !stop; n++) {
      const rows = await read();
      if (!rows) return 1;
      const now = performance.now();
      const elapsed = previousAt ? (now - previousAt) / 1000 : 0;
      process.stdout.write(screen(rows, previous, elapsed));
      previous = new Map(rows.map((r) => [r.name, r.value]));
      previousAt = now;
      if (n + 1 < count) await new Promise((r) => setTimeout(r, interval * 1000));
    }
  } finally {
    process.off('SIGINT', onInt);
  }
  return 0;
}

/** One screen: counters that are not zero, with their change per second since the last one. */
function screen(rows: readonly CounterRow[], previous: ReadonlyMap<string, number>, elapsed: number): string {
  const uptime = rows.find((r) => r.name === 'MAIN.uptime')?.value ?? 0;
  const shown = rows.filter((r) => r.value !== 0);
  const w = Math.max(4, ...shown.map((r) => r.name.length));
  const head = `${'NAME'.padEnd(w)} ${'CURRENT'.padStart(14)} ${'CHANGE'.padStart(12)} ${'AVERAGE'.padStart(12)}  DESCRIPTION`;
  const lines = shown.map((r) => {
    const before = previous.get(r.name);
    const change = r.type === 'counter' && before !== undefined && elapsed > 0 ? ((r.value - before) / elapsed).toFixed(2) : '';
    const avg = r.type === 'counter' && uptime > 0 ? (r.value / uptime).toFixed(2) : '';
    return `${r.name.padEnd(w)} ${String(r.value).padStart(14)} ${change.padStart(12)} ${avg.padStart(12)}  ${r.docs}`;
  });
  const clear = process.stdout.isTTY ? '\x1b[H\x1b[2J' : '';
  return `${clear}uptime ${uptime}s  ${new Date().toISOString()}\n\n${head}\n${lines.join('\n')}\n`;
}
