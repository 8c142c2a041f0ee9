// Running a spec: lex it, then for each line expand macros (when that line runs, since
// macros appear as servers and varnish instances start), log it, and call the command of the
// same name from the entity's table or from the commands every spec has (barrier, delay,
// shell). An unknown command fails the test with "unsupported: ...", never passes silently.

import { barrierCommand } from './barrier.ts';
import { sleep, type TestContext, VtcAborted, VtcFailure, VtcSkip } from './context.ts';
import { lexSpec, type SpecLine, VtcSyntaxError } from './lexer.ts';
import { escapeBytes } from './log.ts';
import { MacroError } from './macros.ts';
import { shellCommand } from './shell.ts';

/**
 * Who runs a command: the test, the name in front of its log lines, and the signal that stops
 * it (the test's, or tighter: a server's -break stops only that server).
 */
export interface Env {
  readonly ctx: TestContext;
  readonly id: string;
  readonly signal: AbortSignal;
}

export type Command<T> = (args: readonly string[], target: T, env: Env) => void | Promise<void>;
export type CommandTable<T> = Readonly<Record<string, Command<T>>>;

/** Commands of the HTTP/2 part of VTC, and others known to exist but not supported here. */
const KNOWN_UNSUPPORTED = new Set([
  'stream',
  'txpri',
  'rxpri',
  'settings',
  'send_urgent',
  'process',
  'haproxy',
  'syslog',
  'tunnel',
]);

export async function runSpec<T>(env: Env, text: string, table: CommandTable<T>, target: T): Promise<void> {
  const { ctx, id } = env;
  let lines: SpecLine[];
  try {
    lines = lexSpec(text);
  } catch (e) {
    if (e instanceof VtcSyntaxError) ctx.fail(id, e.message);
    throw e;
  }
  for (const line of lines) {
    if (env.signal.aborted) throw new VtcAborted('stopped');
    const args: string[] = [];
    for (const t of line.tokens) {
      try {
        args.push(ctx.macros.expand(t.text));
      } catch (e) {
        if (e instanceof MacroError) ctx.fail(id, e.message);
        throw e;
      }
    }
    ctx.log.emit(id, 2, `=== ${summarize(line)}`);
    const name = args[0];
    const fn: Command<T> | undefined = Object.hasOwn(table, name) ? table[name] : undefined;
    if (fn) {
      await fn(args, target, env);
      continue;
    }
    const global = Object.hasOwn(GLOBAL, name) ? GLOBAL[name] : undefined;
    if (global) {
      await global(args, undefined, env);
      continue;
    }
    if (KNOWN_UNSUPPORTED.has(name)) ctx.fail(id, `unsupported: command '${name}'`);
    ctx.fail(id, `unsupported: unknown command '${name}'`);
  }
}

/** Runs `fn`, turning the errors that only mean "the test is over" into a quiet return. */
export async function quietly(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (e instanceof VtcFailure || e instanceof VtcAborted || e instanceof VtcSkip) return;
    throw e;
  }
}

function summarize(line: SpecLine): string {
  const text = line.tokens
    .map((t) => (t.kind === 'quoted' ? `"${t.text}"` : t.kind === 'brace' ? '{' : t.text))
    .join(' ');
  const one = escapeBytes(text.split('\n')[0]);
  return one.length > 60 ? `${one.slice(0, 60)}...` : one;
}

/** Requires exactly `n` arguments after the command name. */
export function arity(env: Env, args: readonly string[], n: number, usage: string): void {
  if (args.length - 1 !== n) env.ctx.fail(env.id, `${args[0]}: wrong number of arguments (usage: ${usage})`);
}

const GLOBAL: CommandTable<undefined> = {
  barrier: (args, _t, env) => barrierCommand(args, env),
  shell: (args, _t, env) => shellCommand(args, env),
  delay: async (args, _t, env) => {
    arity(env, args, 1, 'delay SECONDS');
    const s = Number(args[1]);
    if (!Number.isFinite(s) || s < 0) env.ctx.fail(env.id, `delay: bad duration '${args[1]}'`);
    env.ctx.log.emit(env.id, 3, `delaying ${s} second(s)`);
    await sleep(env.signal, s * 1000);
  },
};
