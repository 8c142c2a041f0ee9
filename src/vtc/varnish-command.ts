// The `varnish vNAME ...` command: options run left to right, as varnishtest does, so
// `-arg` must come before what launches the manager (-vcl, -start, -cli*), and `-syntax`
// applies to the -vcl that follows on the same line.

import { compileVclRegex } from '../common/regex.ts';
import { CLIS_OK } from './cli-client.ts';
import { VtcAborted } from './context.ts';
import { expectCounter, globToRegExp } from './counters.ts';
import type { Env } from './spec.ts';
import { VtcVarnish } from './varnish.ts';

function need(env: Env, args: readonly string[], i: number): string {
  const v = args[i];
  if (v === undefined) env.ctx.fail(env.id, `varnish: ${args[i - 1]} needs an argument`);
  return v;
}

/** -cli / -cliok / -clierr / -cliexpect: send, then check the status or the reply text. */
async function cli(v: VtcVarnish, cmd: string, status: number, re?: string): Promise<string> {
  const r = await v.ask(cmd);
  v.ctx.log.emit(v.name, 2, `CLI ${String(r.status).padStart(3, '0')} <${cmd.split('\n')[0]}>`);
  if (status !== 0 && r.status !== status) v.ctx.fail(v.name, `FAIL CLI response ${r.status} expected ${status}`);
  if (re !== undefined) {
    const c = compileVclRegex(re);
    if ('error' in c) v.ctx.fail(v.name, `-cliexpect: bad regex ${re}: ${c.error}`);
    if (!c.re.test(r.body)) v.ctx.fail(v.name, `Expect failed (${re})`);
  }
  return r.body;
}

export async function varnishCommand(args: readonly string[], env: Env): Promise<void> {
  const { ctx, id } = env;
  const name = args[1];
  if (name === undefined || name[0] !== 'v') ctx.fail(id, `Varnish name must start with 'v' (got ${name ?? 'nothing'})`);
  let v = ctx.varnishes.get(name);
  if (!v) {
    v = new VtcVarnish(ctx, name);
    ctx.varnishes.set(name, v);
  }
  const venv = v.env;
  v.syntax = 4.1;
  for (let i = 2; i < args.length; i++) {
    if (env.signal.aborted) throw new VtcAborted('stopped');
    const a = args[i];
    switch (a) {
      case '-arg': {
        const s = need(venv, args, ++i);
        if (v.launched) ctx.fail(name, '-arg after the instance was launched');
        v.args += ` ${s}`;
        if (s.startsWith('-a')) v.hasListenArg = true;
        break;
      }
      case '-jail':
        v.jail = need(venv, args, ++i);
        break;
      case '-proto':
        v.proto = need(venv, args, ++i);
        break;
      case '-syntax': {
        const s = Number.parseFloat(need(venv, args, ++i));
        if (!Number.isFinite(s)) ctx.fail(name, `-syntax: bad version ${args[i]}`);
        v.syntax = s;
        break;
      }
      case '-expectexit':
        v.expectExit = Number(need(venv, args, ++i));
        break;
      case '-vcl': {
        const r = await v.loadVcl(need(venv, args, ++i), false);
        if (!r.ok) ctx.fail(name, 'VCL compilation failed expected success');
        break;
      }
      case '-vcl+backend': {
        const r = await v.loadVcl(need(venv, args, ++i), true);
        if (!r.ok) ctx.fail(name, 'FAIL VCL does not compile');
        break;
      }
      case '-errvcl': {
        const want = need(venv, args, ++i);
        const r = await v.loadVcl(need(venv, args, ++i), false);
        if (r.ok) ctx.fail(name, 'VCL compilation succeeded expected failure');
        ctx.log.emit(name, 2, 'VCL compilation failed (as expected)');
        if (!r.body.includes(want)) ctx.fail(name, `Did not find expected string: ("${want}")`);
        ctx.log.emit(name, 3, `Found expected string: ("${want}")`);
        break;
      }
      case '-start':
        await v.start();
        break;
      case '-stop':
        await v.stop();
        break;
      case '-wait':
        await v.wait();
        break;
      case '-wait-running':
        await v.waitRunning();
        break;
      case '-wait-stopped':
        await v.waitStopped();
        break;
      case '-cleanup':
        await v.cleanup();
        break;
      case '-cli':
        await cli(v, need(venv, args, ++i), 0);
        break;
      case '-cliok':
        await cli(v, need(venv, args, ++i), CLIS_OK);
        break;
      case '-clierr': {
        const st = Number(need(venv, args, ++i));
        await cli(v, need(venv, args, ++i), st);
        break;
      }
      case '-cliexpect': {
        const re = need(venv, args, ++i);
        await cli(v, need(venv, args, ++i), 0, re);
        break;
      }
      case '-clijson': {
        const body = await cli(v, need(venv, args, ++i), CLIS_OK);
        try {
          JSON.parse(body);
        } catch (e) {
          ctx.fail(name, `FAIL CLI, not good JSON: ${(e as Error).message}`);
        }
        break;
      }
      case '-expect': {
        await v.launch();
        const first = need(venv, args, ++i);
        const rest = first.startsWith('!') ? [] : [need(venv, args, ++i), need(venv, args, ++i)];
        const driver = ctx.settings.driver;
        const launched = v.launchOptions!;
        await expectCounter(venv, () => driver.counters(launched), [first, ...rest]);
        break;
      }
      case '-vsc': {
        await v.launch();
        const pat = need(venv, args, ++i);
        const re = globToRegExp(pat.includes('.') ? pat : `MAIN.${pat}`);
        for (const c of await ctx.settings.driver.counters(v.launchOptions!)) {
          if (re.test(c.name)) ctx.log.emit(name, 4, `VSC ${c.name} ${c.value}`);
        }
        break;
      }
      case '-vsl_catchup':
        // The runner reads no shared-memory log, so there is nothing to catch up with.
        break;
      default:
        ctx.fail(name, `unsupported: varnish argument '${a}'`);
    }
  }
}
