// `shellac/testing`: what a VMOD's own tests need, inside this repository or in a package of its
// own. Load a VCL with the VMOD's folder on the VMOD path (its events and vcl_init run, as in a
// server), run one sub on a client task, read the VMOD counters, call the VMOD's admin commands
// and set its parameters, then discard the VCL. Everything goes through the real compiler,
// binder and platform; only sockets are left out.

import { resolve } from 'node:path';
import { Params } from '../common/params.ts';
import type { VclAction } from '../runtime/actions.ts';
import { VclHttp } from '../runtime/http.ts';
import { loadVcl } from '../runtime/load-vcl.ts';
import type { LoadedVcl } from '../runtime/loaded-vcl.ts';
import { VclTask } from '../runtime/task.ts';
import type { SubName } from '../vcl/spec.ts';
import { type PlatformCommand, VmodPlatform } from './platform.ts';

export interface TestVclOptions {
  /** VCL text; `vcl 4.1;` is added when it does not start with a version. */
  readonly vcl: string;
  /** Folders searched for VMODs: a VMOD's own folder, or a folder of VMOD folders. */
  readonly vmodPath?: readonly string[];
  /** Parameters as `-p` gives them (`['ratelimit.burst', '5']`). */
  readonly params?: readonly (readonly [string, string])[];
}

export interface TaskRequest {
  readonly method?: string;
  readonly url?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface TaskResult {
  readonly action: VclAction;
  /** The task after the sub: `task.req.get('x')`, `task.resp`... */
  readonly task: VclTask;
}

export interface TestVcl {
  readonly vcl: LoadedVcl;
  readonly params: Params;
  /** Runs one sub on a fresh client task. */
  run(sub: SubName, req?: TaskRequest): Promise<TaskResult>;
  /** Every VMOD counter now, by its full name (`RATELIMIT.denied`, `RATELIMIT.per_client.denied`). */
  counters(): Record<string, number>;
  /** Runs a VMOD admin command (`ratelimit.list`) as the admin CLI would, without the envelope. */
  command(name: string, args?: readonly string[], json?: boolean): Promise<unknown>;
  /** Cools and discards the VCL (its jobs, subscriptions and commands end). */
  discard(): Promise<void>;
}

export async function loadTestVcl(opts: TestVclOptions): Promise<TestVcl> {
  const params = new Params(opts.params ?? []);
  const platform = new VmodPlatform({ params });
  const commands = new Map<string, PlatformCommand>();
  platform.attachCommands({ register: (n, c) => commands.set(n, c), unregister: (n) => commands.delete(n) });
  const source = /^\s*vcl\s+\d/.test(opts.vcl) ? opts.vcl : `vcl 4.1;\n${opts.vcl}`;
  const vcl = await loadVcl({
    name: 'test',
    source,
    vmodPath: (opts.vmodPath ?? []).map((d) => resolve(d)),
    env: { platform, services: { params: params.values } },
  });
  return {
    vcl,
    params,
    async run(sub, req = {}) {
      const task = new VclTask('client', { params: params.values });
      task.req = VclHttp.request(req.method ?? 'GET', req.url ?? '/');
      for (const [k, v] of Object.entries(req.headers ?? {})) task.req.set(k, v);
      const action = await vcl.run(sub, task);
      task.end();
      return { action, task };
    },
    counters() {
      const out: Record<string, number> = {};
      for (const s of platform.counterSections()) {
        for (const d of s.decls) out[`${s.section}${s.ident ? `.${s.ident}` : ''}.${d.name}`] = s.source[d.name] ?? 0;
      }
      return out;
    },
    command(name, args = [], json = false) {
      const c = commands.get(name);
      if (c === undefined) return Promise.reject(new Error(`no VMOD command ${name}`));
      return c.run(args, json);
    },
    async discard() {
      vcl.discard();
      await platform.close(1000);
    },
  };
}
