// The admin commands mgmt owns outright: help, ping, auth, quit, banner, status, start, stop,
// pid, param.show/set/reset, and Shellac's own counters.show (what `shellac stat` reads) and
// log.stream (what `shellac log` and `shellac ncsa` read). vcl.*, ban, backend.* and
// storage.list belong to the server, which registers them on the same AdminServer.

import { type AdminServer, CLIS, type CommandSpec, fail, jsonReply, ok } from './admin.ts';
import { counterFilter, formatStatLines, statJson } from './counter-format.ts';
import type { CounterRegistry } from './counters.ts';
import type { LogHub, TxPredicate, TxRecord } from '../common/log.ts';
import { compileQuery, QueryError } from './log-query.ts';
import { paramJson, showLong, showShort } from './param-show.ts';
import { ParamError } from '../common/params.ts';

export interface BuiltinDeps {
  /** counters.show is registered when given. */
  readonly counters?: CounterRegistry;
  /** log.stream is registered when given. */
  readonly logHub?: LogHub;
}

/** Registers the built-in commands on `admin`. */
export function registerBuiltins(admin: AdminServer, deps: BuiltinDeps = {}): void {
  const cmds: Record<string, CommandSpec> = {
    auth: {
      syntax: 'auth <response>',
      help: 'Authenticate: the hex SHA-256 of challenge, newline, secret file, challenge, newline.',
      min: 1,
      max: 1,
      preAuth: true,
      // Before authentication the connection answers auth itself; after, it is a no-op.
      run: () => ok(),
    },
    help: {
      syntax: 'help [-j|<command>]',
      help: 'List the commands, or show how to use one.',
      min: 0,
      max: 1,
      json: true,
      preAuth: true,
      run: (args, ctx) => help(admin, args, ctx.json, ctx.argv),
    },
    ping: {
      syntax: 'ping [-j] [<timestamp>]',
      help: 'Keep the connection alive; answers PONG and the time.',
      min: 0,
      max: 1,
      json: true,
      preAuth: true,
      run: (_args, ctx) => (ctx.json ? jsonReply(ctx.argv, 'PONG') : ok(`PONG ${Math.floor(Date.now() / 1000)} 1.0`)),
    },
    quit: {
      syntax: 'quit',
      help: 'Close the connection.',
      min: 0,
      max: 0,
      preAuth: true,
      run: (_args, ctx) => {
        ctx.closeAfterReply();
        return fail(CLIS.CLOSE, 'Closing CLI connection');
      },
    },
    banner: {
      syntax: 'banner',
      help: 'Print the welcome banner.',
      min: 0,
      max: 0,
      run: () => ok(admin.banner),
    },
    status: {
      syntax: 'status [-j]',
      help: 'Say whether the server is serving (running) or not (stopped).',
      min: 0,
      max: 0,
      json: true,
      run: (_args, ctx) => {
        const state = admin.lifecycle?.state() ?? 'running';
        return ctx.json ? jsonReply(ctx.argv, state) : ok(`Child in state ${state}`);
      },
    },
    start: {
      syntax: 'start',
      help: 'Start serving: open the listeners.',
      min: 0,
      max: 0,
      run: async () => {
        const l = admin.lifecycle;
        if (!l) return fail(CLIS.CANT, 'start is not available: this instance has no serving part\n');
        if (l.state() === 'running') return fail(CLIS.CANT, 'Child in state running');
        await l.start();
        return ok();
      },
    },
    stop: {
      syntax: 'stop',
      help: 'Stop serving: close the listeners and finish the requests in flight.',
      min: 0,
      max: 0,
      run: async () => {
        const l = admin.lifecycle;
        if (!l) return fail(CLIS.CANT, 'stop is not available: this instance has no serving part\n');
        if (l.state() === 'stopped') return fail(CLIS.CANT, 'Child in state stopped');
        await l.stop();
        return ok();
      },
    },
    pid: {
      syntax: 'pid [-j]',
      help: 'Show the process id (Shellac serves from the same process: master and worker are one).',
      min: 0,
      max: 0,
      json: true,
      run: (_args, ctx) =>
        ctx.json ? jsonReply(ctx.argv, { master: process.pid, worker: process.pid }) : ok(`Master: ${process.pid}\nWorker: ${process.pid}\n`),
    },
    'param.show': {
      syntax: 'param.show [-l|-j] [<param>|changed]',
      help: 'Show parameters: one line each, or with their docs (-l or one name), or as JSON.',
      min: 0,
      max: 2,
      json: true,
      run: (args, ctx) => paramShow(admin, args, ctx.json, ctx.argv),
    },
    'param.set': {
      syntax: 'param.set [-j] <param> <value>',
      help: 'Set a parameter; the value is checked against its type and bounds.',
      min: 2,
      max: 2,
      json: true,
      run: (args, ctx) =>
        paramCall(() => {
          admin.params.set(args[0], args[1]);
          return ctx.json ? jsonReply(ctx.argv, paramJson(admin.params, args[0])) : ok();
        }),
    },
    'param.reset': {
      syntax: 'param.reset <param>',
      help: 'Set a parameter back to its default.',
      min: 1,
      max: 1,
      run: (args) =>
        paramCall(() => {
          admin.params.reset(args[0]);
          return ok();
        }),
    },
    'param.replay': {
      syntax: 'param.replay <param> [<value>]',
      help: "The manager's replay into a new child: param.set (or, without a value, param.reset), but a VMOD parameter whose VMOD is not loaded yet is held until it is.",
      min: 1,
      max: 2,
      hidden: true,
      run: (args) =>
        paramCall(() => {
          admin.params.replay(args[0], args[1]);
          return ok();
        }),
    },
  };
  if (deps.counters) cmds['counters.show'] = countersShow(deps.counters);
  if (deps.logHub) cmds['log.stream'] = logStream(deps.logHub);
  for (const [name, spec] of Object.entries(cmds)) admin.register(name, spec);
}

function help(admin: AdminServer, args: readonly string[], json: boolean, argv: readonly string[]) {
  if (json) {
    const items = admin.commandNames().map((name) => {
      const c = admin.command(name)!;
      return { request: name, syntax: c.syntax, help: c.help, minarg: c.min, maxarg: c.max, flags: c.preAuth ? 'i' : '', json: c.json === true };
    });
    return jsonReply(argv, ...items);
  }
  if (args.length === 1) {
    const c = admin.command(args[0]);
    if (!c) return fail(CLIS.UNKNOWN, "Unknown request.\nType 'help' for more info.\n");
    return ok(`${c.syntax}\n${c.help}\n`);
  }
  const lines = admin
    .commandNames()
    .filter((n) => !admin.command(n)!.hidden)
    .map((n) => admin.command(n)!.syntax);
  return ok(`${lines.join('\n')}\n`);
}

function paramCall(f: () => ReturnType<typeof ok>) {
  try {
    return f();
  } catch (e) {
    if (e instanceof ParamError) return fail(e.status, e.message);
    throw e;
  }
}

function paramShow(admin: AdminServer, rawArgs: readonly string[], json: boolean, argv: readonly string[]) {
  let args = rawArgs;
  let long = false;
  if (args[0] === '-l') {
    if (json) return fail(CLIS.PARAM, '-l not permitted with param.show -j\n');
    long = true;
    args = args.slice(1);
  }
  if (args[0] === '-j') return fail(CLIS.PARAM, '-j must come first\n');
  if (args.length > 1) return fail(CLIS.TOOMANY, 'Too many parameters\n');
  const params = admin.params;
  let names: string[];
  if (args.length === 0) names = params.names();
  else if (args[0] === 'changed') names = params.names().filter((n) => !params.isDefault(n));
  else if (params.has(args[0])) {
    names = [args[0]];
    long = true;
  } else return fail(CLIS.PARAM, `Unknown parameter "${args[0]}".`);
  if (json) return jsonReply(argv, ...names.map((n) => paramJson(params, n)));
  return ok(long ? showLong(params, names) : showShort(params, names));
}

function countersShow(counters: CounterRegistry): CommandSpec {
  return {
    syntax: 'counters.show [-j] [<glob>...]',
    help: 'Show the counters as varnishstat -1 does (name, value, average rate, description), or as varnishstat -j. Globs select names; ^glob excludes.',
    min: 0,
    max: -1,
    json: true,
    run: (args, ctx) => {
      const keep = counterFilter(args);
      const rows = counters.snapshot().filter((s) => keep(s.name));
      return ctx.json ? ok(`${JSON.stringify(statJson(rows))}\n`) : ok(formatStatLines(rows));
    },
  };
}

function logStream(hub: LogHub): CommandSpec {
  return {
    syntax: 'log.stream [-g vxid|request] [-q <query>]',
    help: 'Stream transaction records as they end: after this reply, each frame is a JSON array of records (one, or a client request with its backend fetches under -g request). A 201 frame says records were dropped. Close the connection to stop.',
    min: 0,
    max: 4,
    run: (args, ctx) => {
      let grouping: 'vxid' | 'request' = 'vxid';
      let filter: TxPredicate | undefined;
      for (let i = 0; i < args.length; i += 2) {
        const flag = args[i];
        const value = args[i + 1];
        if (value === undefined) return fail(CLIS.PARAM, `${flag} needs a value\n`);
        if (flag === '-g') {
          if (value !== 'vxid' && value !== 'request') return fail(CLIS.PARAM, `unknown grouping '${value}' (vxid or request)\n`);
          grouping = value;
        } else if (flag === '-q') {
          try {
            filter = compileQuery(value);
          } catch (e) {
            if (e instanceof QueryError) return fail(CLIS.PARAM, `Bad query: ${e.message}\n`);
            throw e;
          }
        } else return fail(CLIS.PARAM, `unknown option '${flag}'\n`);
      }
      ctx.stream((sink) =>
        hub.attach({
          grouping,
          filter,
          write: (group: readonly TxRecord[]) => {
            sink.send(CLIS.OK, JSON.stringify(group));
          },
        }),
      );
      return ok(`streaming${filter ? ' (filtered)' : ''}, grouped by ${grouping}\n`);
    },
  };
}
