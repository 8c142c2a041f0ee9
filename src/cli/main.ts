// The `shellac` command: one program, one subcommand per job, as varnishd, varnishadm and
// varnishtest are for Varnish. Exit status: 0 fine, 1 the input was refused, 2 usage.

import { CHECK_USAGE, runCheck } from './check.ts';
import { runServe, SERVE_USAGE } from './serve.ts';
import { runStart, START_USAGE } from './start.ts';
import { CONFORMANCE_USAGE, runConformance } from './conformance.ts';
import { runTest, TEST_USAGE } from './test.ts';
import { UsageError } from './args.ts';
import { runVmodtool, VMODTOOL_USAGE } from './vmodtool.ts';
import { ADM_USAGE, runAdm } from './adm.ts';
import { runStat, STAT_USAGE } from './stat.ts';
import { LOG_USAGE, NCSA_USAGE, runLog, runNcsa } from '../mgmt/log-cli.ts';

type Command = (argv: readonly string[]) => number | Promise<number>;

const COMMANDS: Readonly<Record<string, { run: Command; usage: string }>> = {
  check: { run: runCheck, usage: CHECK_USAGE },
  serve: { run: runServe, usage: SERVE_USAGE },
  start: { run: runStart, usage: START_USAGE },
  conformance: { run: runConformance, usage: CONFORMANCE_USAGE },
  test: { run: runTest, usage: TEST_USAGE },
  vmodtool: { run: runVmodtool, usage: VMODTOOL_USAGE },
  adm: { run: runAdm, usage: ADM_USAGE },
  stat: { run: runStat, usage: STAT_USAGE },
  log: { run: runLog, usage: LOG_USAGE },
  ncsa: { run: runNcsa, usage: NCSA_USAGE },
};

function usage(): string {
  return ['usage: shellac COMMAND [ARGS]', '', 'commands:', ...Object.values(COMMANDS).map((c) => `  ${c.usage.replace('usage: shellac ', '')}`)].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`shellac: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`shellac ${name}: ${err.message}\n${cmd.usage}\n`);
      return 2;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
