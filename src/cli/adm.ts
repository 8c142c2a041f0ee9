// `shellac adm [-T host:port] [-S secretfile] [-n workdir] [-t timeout] [COMMAND [ARG]...]`:
// varnishadm for Shellac (and for varnishd: the protocol is the same). With a command, sends it
// and prints the reply's body; exit status 0 when the status is 200, 1 otherwise (the status on
// stderr), 2 when the connection or authentication fails. Without one, a prompt with history
// (or, when stdin is not a terminal, one command per input line).
//
// One argument is sent as typed (`shellac adm 'ban req.url ~ "^/a"'`); several are joined,
// each quoted when it holds blanks, quotes or backslashes, so the shell's words arrive intact.

import { appendFileSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { AdminClient } from '../mgmt/admin-client.ts';
import { parseTargetFlags, withAdminSession } from '../mgmt/admin-target.ts';
import { joinCommand } from '../mgmt/cli-protocol.ts';
import { UsageError } from '../common/args.ts';

export const ADM_USAGE = 'usage: shellac adm [-T host:port] [-S secretfile] [-n workdir] [-t timeout] [COMMAND [ARG]...]';

export async function runAdm(argv: readonly string[]): Promise<number> {
  if (argv[0] === '-h' || argv[0] === '--help') {
    process.stdout.write(`${ADM_USAGE}\n`);
    return 0;
  }
  const { target, rest } = parseTargetFlags(argv);
  if (rest[0]?.startsWith('-')) throw new UsageError(`unknown option ${rest[0]}`);
  return withAdminSession(target, async (client) => {
    if (rest.length > 0) return oneCommand(client, rest.length === 1 ? rest[0] : joinCommand(rest));
    return process.stdin.isTTY ? prompt(client) : piped(client);
  });
}

function printBody(body: string): void {
  process.stdout.write(body.endsWith('\n') || body === '' ? body : `${body}\n`);
}

async function oneCommand(client: AdminClient, line: string): Promise<number> {
  const r = await client.send(line);
  printBody(r.body);
  if (r.status === 200) return 0;
  process.stderr.write(`Command failed with error code ${r.status}\n`);
  return 1;
}

const HEREDOC_START = /\s<<\s*(\S+)\s*$/;

/** Lines into commands: a line ending in `<< END` takes the lines up to END with it. */
function* commandsOf(lines: Iterable<string>): Generator<string> {
  let pending: { text: string; end: string } | undefined;
  for (const line of lines) {
    if (pending) {
      pending.text += `\n${line}`;
      if (line === pending.end) {
        yield pending.text;
        pending = undefined;
      }
      continue;
    }
    if (line.trim() === '') continue;
    const m = HEREDOC_START.exec(line);
    if (m) pending = { text: line, end: m[1] };
    else yield line;
  }
  if (pending) yield pending.text;
}

async function piped(client: AdminClient): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  let status = 0;
  for (const cmd of commandsOf(Buffer.concat(chunks).toString('utf8').split(/\r?\n/))) {
    const r = await client.send(cmd);
    printBody(r.body);
    if (r.status !== 200) {
      process.stderr.write(`Command failed with error code ${r.status}\n`);
      status = 1;
    }
    if (r.status === 500) break;
  }
  return status;
}

const HISTORY_FILE = join(homedir(), '.shellac_adm_history');
const HISTORY_SIZE = 500;

function loadHistory(): string[] {
  try {
    return readFileSync(HISTORY_FILE, 'utf8').split('\n').filter(Boolean).slice(-HISTORY_SIZE).reverse();
  } catch {
    return [];
  }
}

function saveHistory(line: string): void {
  try {
    appendFileSync(HISTORY_FILE, `${line.replace(/\n/g, ' ')}\n`, { mode: 0o600 });
  } catch {
    // History is a convenience: an unwritable home directory must not break the session.
  }
}

async function prompt(client: AdminClient): Promise<number> {
  printBody(client.banner);
  const rl = createInterface({ input: process.stdin, output: process.stdout, history: loadHistory(), historySize: HISTORY_SIZE, prompt: 'shellac> ' });
  let heredoc: { text: string; end: string } | undefined;
  rl.prompt();
  for await (const line of rl) {
    let cmd: string | undefined;
    if (heredoc) {
      heredoc.text += `\n${line}`;
      if (line === heredoc.end) {
        cmd = heredoc.text;
        heredoc = undefined;
      }
    } else if (line.trim() !== '') {
      saveHistory(line);
      const m = HEREDOC_START.exec(line);
      if (m) heredoc = { text: line, end: m[1] };
      else cmd = line;
    }
    if (cmd !== undefined) {
      const r = await client.send(cmd);
      process.stdout.write(`${r.status}\n`);
      printBody(r.body);
      if (r.status === 500) break;
    }
    rl.setPrompt(heredoc ? '> ' : 'shellac> ');
    rl.prompt();
  }
  rl.close();
  return 0;
}
