// `shell [-err] [-exit N] [-expect TEXT] [-match REGEX] COMMAND`: runs a command with /bin/sh
// in the test's temporary directory, stderr joined to stdout, and checks its exit status
// (0 unless told otherwise) and output. The child is killed if the test stops first.

import { spawn } from 'node:child_process';
import { compileVclRegex } from '../common/regex.ts';
import { abortable } from './context.ts';
import type { Env } from './spec.ts';

export interface ShellResult {
  readonly status: number;
  readonly output: string;
}

/** Runs `/bin/sh -c "exec 2>&1 ; CMD"` in `cwd`; the output is latin1 text. */
export function runShell(env: Env, cmd: string, cwd: string): Promise<ShellResult> {
  return abortable(env.signal, (resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', `exec 2>&1 ; ${cmd}`], {
      cwd,
      env: { ...process.env, ...env.ctx.env, TMPDIR: env.ctx.tmpdir },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({ status: code ?? (signal ? 128 : 1), output: Buffer.concat(chunks).toString('latin1') });
    });
    return () => {
      if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL');
    };
  });
}

export async function shellCommand(args: readonly string[], env: Env): Promise<void> {
  const { ctx, id } = env;
  let wantStatus = 0;
  let expectText: string | undefined;
  let match: string | undefined;
  let i = 1;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '-err') wantStatus = -1;
    else if (a === '-exit') wantStatus = Number(args[++i]);
    else if (a === '-expect') expectText = args[++i];
    else if (a === '-match') match = args[++i];
    else break;
  }
  if (expectText !== undefined && match !== undefined) ctx.fail(id, 'shell: cannot use -expect with -match');
  const cmd = args[i];
  if (cmd === undefined || i !== args.length - 1) ctx.fail(id, 'shell: expected one command string');
  ctx.log.dump(id, 4, 'shell_cmd', `exec 2>&1 ; ${cmd}`);
  const r = await runShell(env, cmd, ctx.tmpdir);
  ctx.log.dump(id, 4, 'shell_out', r.output);
  ctx.log.emit(id, 4, `shell_status = ${r.status}`);
  if (wantStatus < 0 && r.status === 0) ctx.fail(id, 'shell did not fail as expected');
  if (wantStatus >= 0 && r.status !== wantStatus) {
    ctx.fail(id, `shell_exit not as expected: got ${r.status} wanted ${wantStatus}`);
  }
  if (expectText !== undefined && !r.output.includes(expectText)) {
    ctx.fail(id, `shell_expect not found: ("${expectText}")`);
  }
  if (match !== undefined) {
    const re = compileVclRegex(match);
    if ('error' in re) return ctx.fail(id, `shell_match invalid regex ("${match}"): ${re.error}`);
    if (!re.re.test(r.output)) ctx.fail(id, `shell_match failed: ("${match}")`);
  }
}
