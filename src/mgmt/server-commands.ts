// The admin commands that act on a running server: VCLs (load, inline, use, discard, list,
// show, state, label), bans, backends and storage. Replies follow varnishd's wording and
// layout so scripts written for varnishadm keep working. A VCL that does not compile is
// refused with the compiler's message and changes nothing.

import type { Backend } from '../proxy/backend/backend.ts';
import type { Shellac } from '../proxy/server.ts';
import { VclError } from '../proxy/vcls.ts';
import { formatHttpDate } from '../runtime/httpdate.ts';
import { type AdminServer, CLIS, type CommandSpec, fail, jsonReply, ok } from './admin.ts';
import type { CounterRegistry } from './counters.ts';
import { BAD_STATE, isVclState, vclLoadCommands } from './vcl-load-commands.ts';

export function registerServerCommands(admin: AdminServer, srv: Shellac): void {
  const guard = (fn: () => string | undefined) => {
    try {
      return ok(fn() ?? '');
    } catch (e) {
      if (e instanceof VclError) return fail(e.status, `${e.message}\n`);
      return fail(CLIS.CANT, `${(e as Error).message}\n`);
    }
  };

  const cmds: Record<string, CommandSpec> = {
    ...vclLoadCommands(async (name, input, state) => {
      await srv.vcls.load(name, input, state);
      return undefined;
    }),
    'vcl.use': {
      syntax: 'vcl.use <configname|label>',
      help: 'Make a loaded VCL the active one: new requests use it, requests in flight finish on theirs.',
      min: 1,
      max: 1,
      run: (a) =>
        guard(() => {
          srv.vcls.use(a[0]);
          return `VCL '${a[0]}' now active\n`;
        }),
    },
    'vcl.discard': {
      syntax: 'vcl.discard <configname|label>',
      help: 'Unload a VCL that is not in use.',
      min: 1,
      max: 1,
      run: (a) =>
        guard(() => {
          srv.vcls.discard(a[0]);
          return '';
        }),
    },
    'vcl.state': {
      syntax: 'vcl.state <configname> auto|cold|warm',
      help: 'Force the temperature of a VCL, or let it follow its use (auto).',
      min: 2,
      max: 2,
      run: (a) => {
        const state = a[1];
        if (!isVclState(state)) return BAD_STATE;
        return guard(() => {
          srv.vcls.setState(a[0], state);
          return '';
        });
      },
    },
    'vcl.label': {
      syntax: 'vcl.label <label> <configname>',
      help: 'Point a label at a VCL; `return (vcl(label))` in vcl_recv switches to it.',
      min: 2,
      max: 2,
      run: (a) =>
        guard(() => {
          srv.vcls.label(a[0], a[1]);
          return '';
        }),
    },
    'vcl.show': {
      syntax: 'vcl.show [-v] <configname>',
      help: 'Show the source of a loaded VCL.',
      min: 1,
      max: 2,
      run: (a) => {
        const name = a[a.length - 1];
        const e = srv.vcls.get(name);
        if (e === undefined) return fail(CLIS.PARAM, `No VCL named '${name}'\n`);
        return ok((e.target ?? e).source);
      },
    },
    'vcl.list': {
      syntax: 'vcl.list [-j]',
      help: 'List the loaded VCLs with their state, temperature, busy count and labels.',
      min: 0,
      max: 0,
      json: true,
      run: (_a, ctx) => {
        const active = srv.vcls.activeName;
        const rows = [...srv.vcls.entries(), ...srv.vcls.retiring()].map((e) => {
          const labels = srv.vcls.entries().filter((x) => x.target === e).length;
          const users = e.target ? srv.vcls.dependents(e.name).length : 0;
          return {
            status: e.name === active ? 'active' : srv.vcls.get(e.name) !== e ? 'discarded' : 'available',
            state: e.target ? 'label' : e.state,
            temperature: e.vcl.temperature,
            busy: e.busy,
            name: e.name,
            ...(e.target ? { label: { name: e.target.name, ...(users > 0 ? { 'return(vcl)': users } : {}) } } : labels > 0 ? { labels } : {}),
            ...(e.vcl.holders.length > 0 ? { holders: e.vcl.holders } : {}),
          };
        });
        if (ctx.json) return jsonReply(ctx.argv, ...rows);
        const text = rows
          .map((r) => {
            let line = `${r.status.padEnd(12)}${r.state.padEnd(9)}${r.temperature.padEnd(10)}${String(r.busy).padStart(4)}    ${r.name}`;
            if ('label' in r && r.label) {
              line += `    ->    ${r.label.name}`;
              const users = r.label['return(vcl)'];
              if (users) line += ` (${users} return(vcl))`;
            }
            else if ('labels' in r && r.labels) line += `      <-    (${r.labels} label${r.labels > 1 ? 's' : ''})`;
            if (r.holders) line += `    (held by ${r.holders.join(', ')})`;
            return `${line}\n`;
          })
          .join('');
        return ok(text);
      },
    },
    ban: {
      syntax: 'ban <field> <operator> <arg> [&& <field> <oper> <arg> ...]',
      help: 'Mark cached objects matching the expression as obsolete.',
      min: 3,
      max: -1,
      run: (a) => {
        const now = Date.now() / 1000;
        const error = srv.cache.bans.addArgs(a, now);
        if (error === null && srv.events.listening.ban) srv.events.emit('ban', { expression: a.join(' '), time: now, origin: 'cli' });
        return error === null ? ok() : fail(CLIS.PARAM, `${error}\n`);
      },
    },
    'ban.list': {
      syntax: 'ban.list [-j]',
      help: 'List the active bans: time, objects still pointing at each, flags, expression.',
      min: 0,
      max: 0,
      json: true,
      run: (_a, ctx) => {
        const reply = ctx.json ? jsonReply(ctx.argv, ...srv.cache.bans.entries()) : ok(srv.cache.bans.listText());
        // As varnishd: listing the bans wakes the lurker, so it sees changed parameters now.
        srv.cache.lurker.kick();
        return reply;
      },
    },
    'backend.list': {
      syntax: 'backend.list [-j] [-p] [<backend_pattern>]',
      help: 'List the backends of the active VCL, with admin state, probe results and health.',
      min: 0,
      max: 2,
      json: true,
      run: (a, ctx) => {
        const probes = a.includes('-p');
        const pattern = a.find((x) => x !== '-p');
        const list = backendsMatching(srv, pattern);
        const rows = list.map((b) => b.describe());
        if (ctx.json) return jsonReply(ctx.argv, ...rows);
        let text = `${'Backend name'.padEnd(15)}${'Admin'.padEnd(11)}${'Probe'.padEnd(9)}${'Health'.padEnd(11)}Last change\n`;
        for (const r of rows) {
          text += `${r.name.padEnd(15)}${r.admin.padEnd(11)}${r.probe.padEnd(9)}${r.health.padEnd(11)}${formatHttpDate(r.lastChange)}\n`;
          if (probes && r.probeStatus) text += `  ${JSON.stringify(r.probeStatus)}\n`;
        }
        return ok(text);
      },
    },
    'backend.set_health': {
      syntax: 'backend.set_health <backend_pattern> [auto|healthy|sick]',
      help: 'Override the health of matching backends, or give it back to their probes (auto).',
      min: 2,
      max: 2,
      run: (a) => {
        const state = a[1] === 'auto' || a[1] === 'healthy' || a[1] === 'sick' ? a[1] : null;
        if (state === null) return fail(CLIS.PARAM, `Invalid state ${a[1]}\n`);
        const list = backendsMatching(srv, a[0]);
        if (list.length === 0) return fail(CLIS.PARAM, 'No Backends matches\n');
        for (const b of list) b.setHealth(state);
        return ok();
      },
    },
    'storage.list': {
      syntax: 'storage.list [-j]',
      help: 'List the storage devices.',
      min: 0,
      max: 0,
      json: true,
      run: (_a, ctx) => {
        const sts = srv.cache.stevedores;
        if (ctx.json) return jsonReply(ctx.argv, ...sts.map((st) => ({ name: `storage.${st.name}`, type: st.kind })));
        return ok(`Storage devices:\n${sts.map((st) => `\tstorage.${st.name} = ${st.kind}\n`).join('')}`);
      },
    },
  };
  for (const [name, spec] of Object.entries(cmds)) admin.register(name, spec);
}

/** Backends of the active VCL matching a pattern: `name`, `vcl.name`, with `*` globs. */
function backendsMatching(srv: Shellac, pattern: string | undefined): Backend[] {
  const vcl = srv.vcls.active;
  if (vcl === null) return [];
  const re = pattern === undefined ? null : globToRegExp(pattern);
  const out: Backend[] = [];
  for (const b of vcl.backends.values()) {
    if (typeof (b as Partial<Backend>).describe !== 'function') continue;
    const backend = b as Backend;
    if (re === null || re.test(backend.name) || re.test(backend.fullName)) out.push(backend);
  }
  return out;
}

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Registers the VBE.<vcl>.<backend> counters of a newly loaded VCL. */
export function trackBackends(counters: CounterRegistry, srv: Shellac, vclName: string): (() => void)[] {
  const vcl = srv.vcls.get(vclName)?.vcl;
  if (!vcl) return [];
  const out: (() => void)[] = [];
  for (const b of vcl.backends.values()) {
    const counted = b as Partial<Backend>;
    if (counted.counters) out.push(counters.addBackend(vclName, b.name, counted.counters));
  }
  return out;
}
