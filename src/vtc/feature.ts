// `feature NAME...`: skip the test unless each named feature is present (`!NAME`: absent).
// Facts about this machine are checked; build options of varnishd (sanitizers, persistent
// storage, code coverage) are reported absent; `dns` is absent because the runner never
// resolves names: nothing may leave loopback. `ignore_unknown_macro` changes how the test
// reads, and `cmd CMDLINE` is present when the command exits 0.

import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, userInfo } from 'node:os';
import { runShell } from './shell.ts';
import type { Env } from './spec.ts';

function hasName(file: string, name: string): boolean {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .some((l) => l.split(':')[0] === name);
  } catch {
    return false;
  }
}

function canListen(host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ host, port: 0 }, () => s.close(() => resolve(true)));
  });
}

const FEATURES: Readonly<Record<string, (env: Env) => boolean | Promise<boolean>>> = {
  '64bit': () => ['x64', 'arm64', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el'].includes(arch()),
  ipv4: () => canListen('127.0.0.1'),
  ipv6: () => canListen('::1'),
  dns: () => false,
  topbuild: () => false,
  root: () => userInfo().uid === 0,
  user_varnish: () => hasName('/etc/passwd', 'varnish'),
  user_vcache: () => hasName('/etc/passwd', 'vcache'),
  group_varnish: () => hasName('/etc/group', 'varnish'),
  ignore_unknown_macro: (env) => {
    env.ctx.macros.ignoreUnknown = true;
    return true;
  },
  persistent_storage: () => false,
  coverage: () => false,
  asan: () => false,
  msan: () => false,
  tsan: () => false,
  ubsan: () => false,
  sanitizer: () => false,
  workspace_emulator: () => false,
};

export async function featureCommand(args: readonly string[], env: Env): Promise<void> {
  const { ctx, id } = env;
  for (let i = 1; i < args.length; i++) {
    let feat = args[i];
    const neg = feat.startsWith('!');
    if (neg) feat = feat.slice(1);
    let good: boolean;
    if (feat === 'cmd') {
      const cmd = args[++i];
      if (cmd === undefined) ctx.fail(id, 'feature cmd: missing the command line');
      good = (await runShell(env, cmd, ctx.tmpdir)).status === 0;
    } else {
      const check = Object.hasOwn(FEATURES, feat) ? FEATURES[feat] : undefined;
      if (!check) return ctx.fail(id, `FAIL test, unknown feature: ${feat}`);
      good = await check(env);
    }
    if (good === neg) ctx.skip(id, `lacking: ${neg ? '!' : ''}${feat}`);
  }
}
