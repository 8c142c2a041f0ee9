// The `shellac` command: one program, one subcommand per job, as varnishd, varnishadm and
// varnishtest are for Varnish. Exit status: 0 fine, 1 the input was refused, 2 usage.

import { UsageError } from '../common/args.ts';

type Command = (argv: readonly string[]) => number | Promise<number>;
interface CommandModule {
  readonly run: Command;
  readonly usage: string;
}

// Each command's code is imported only when it runs: `shellac stat` need not load the compiler.
const COMMANDS: Readonly<Record<string, () => Promise<CommandModule>>> = {
  check: async () => {
    const m = await import('./check.ts');
    return { run: m.runCheck, usage: m.CHECK_USAGE };
  },
  serve: async () => {
    const m = await import('./serve.ts');
    return { run: m.runServe, usage: m.SERVE_USAGE };
  },
  start: async () => {
    const m = await import('./start.ts');
    return { run: m.runStart, usage: m.START_USAGE };
  },
  conformance: async () => {
    const m = await import('./conformance.ts');
    return { run: m.runConformance, usage: m.CONFORMANCE_USAGE };
  },
  test: async () => {
    const m = await import('./test.ts');
    return { run: m.runTest, usage: m.TEST_USAGE };
  },
  vmodtool: async () => {
    const m = await import('./vmodtool.ts');
    return { run: m.runVmodtool, usage: m.VMODTOOL_USAGE };
  },
  adm: async () => {
    const m = await import('./adm.ts');
    return { run: m.runAdm, usage: m.ADM_USAGE };
  },
  stat: async () => {
    const m = await import('./stat.ts');
    return { run: m.runStat, usage: m.STAT_USAGE };
  },
  log: async () => {
    const m = await import('../mgmt/log-cli.ts');
    return { run: m.runLog, usage: m.LOG_USAGE };
  },
  ncsa: async () => {
    const m = await import('../mgmt/log-cli.ts');
    return { run: m.runNcsa, usage: m.NCSA_USAGE };
  },
  top: async () => {
    const m = await import('../mgmt/top-cli.ts');
    return { run: m.runTop, usage: m.TOP_USAGE };
  },
  hist: async () => {
    const m = await import('../mgmt/hist-cli.ts');
    return { run: m.runHist, usage: m.HIST_USAGE };
  },
};

async function usage(): Promise<string> {
  const mods = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  return ['usage: shellac COMMAND [ARGS]', '', 'commands:', ...mods.map((c) => `  ${c.usage.replace('usage: shellac ', '')}`)].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(`${await usage()}\n`);
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`shellac: unknown command '${name}'\n${await usage()}\n`);
    return 2;
  }
  const cmd = await load();
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
