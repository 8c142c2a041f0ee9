// The commands of a test file's top level. Entities (server, client, varnish, logexpect) have
// their own files; here are the small ones. Commands varnishtest knows but the runner does not
// fail the test as "unsupported" (in spec.ts).

import { appendFile, writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { clientCommand } from './client.ts';
import { featureCommand } from './feature.ts';
import { logexpectCommand } from './logexpect.ts';
import { serverCommand } from './server.ts';
import { shellCommand } from './shell.ts';
import { arity, type CommandTable } from './spec.ts';
import { varnishCommand } from './varnish-command.ts';

export const TOP_COMMANDS: CommandTable<undefined> = {
  varnishtest: (args, _t, env) => {
    arity(env, args, 1, 'varnishtest "TITLE"');
    env.ctx.log.emit(env.id, 1, `VTEST ${args[1]}`);
  },
  vtest: (args, _t, env) => {
    arity(env, args, 1, 'vtest "TITLE"');
    env.ctx.log.emit(env.id, 1, `VTEST ${args[1]}`);
  },
  server: (args, _t, env) => serverCommand(args, env),
  client: (args, _t, env) => clientCommand(args, env),
  varnish: (args, _t, env) => varnishCommand(args, env),
  feature: (args, _t, env) => featureCommand(args, env),
  logexpect: (args, _t, env) => logexpectCommand(args, env),
  setenv: (args, _t, env) => {
    const ifUnset = args[1] === '-ifunset';
    const rest = args.slice(ifUnset ? 2 : 1);
    if (rest.length !== 2) env.ctx.fail(env.id, 'usage: setenv [-ifunset] NAME VALUE');
    const [name, value] = rest;
    if (!(ifUnset && (env.ctx.env[name] !== undefined || process.env[name] !== undefined))) env.ctx.env[name] = value;
  },
  filewrite: async (args, _t, env) => {
    const append = args[1] === '-a';
    const [file, ...parts] = args.slice(append ? 2 : 1);
    if (file === undefined) env.ctx.fail(env.id, 'usage: filewrite [-a] FILE STRING...');
    const path = isAbsolute(file) ? file : join(env.ctx.tmpdir, file);
    const data = Buffer.from(parts.join(''), 'latin1');
    if (append) await appendFile(path, data);
    else await writeFile(path, data);
  },
  err_shell: (args, _t, env) => {
    arity(env, args, 2, 'err_shell TEXT COMMAND');
    return shellCommand(['shell', '-err', '-expect', args[1], args[2]], env);
  },
};
