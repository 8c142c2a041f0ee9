// The operations side of the VMOD platform: VMOD counters in the counter registry (stat,
// /metrics, counters.show), `cli` server events from the admin server, the `$Command`s of
// loaded VMODs served as admin commands (with auth and -j like every other), and `memory`,
// Momentum's memory report: the process's heap by V8 space, the cache's bytes by storage,
// and what each VMOD says it holds.

import { getHeapSpaceStatistics } from 'node:v8';
import type { Shellac } from '../proxy/server.ts';
import type { PlatformCommand } from '../vmod/platform.ts';
import { type AdminServer, CLIS, type CommandSpec, fail, jsonReply, ok } from './admin.ts';
import type { CounterRegistry } from './counters.ts';
import { formatBytes } from '../common/params.ts';

/** Connects the server's VMOD platform to the admin server and counters; returns the undo. */
export function attachVmodPlatform(admin: AdminServer, counters: CounterRegistry, srv: Shellac): () => void {
  admin.events = srv.events;
  const removeSections = counters.addSections(() => srv.platform.counterSections());
  const detach = srv.platform.attachCommands({
    register: (name, cmd) => admin.register(name, vmodCommand(cmd)),
    unregister: (name) => admin.unregister(name),
  });
  admin.register('memory', memoryCommand(srv));
  return () => {
    admin.unregister('memory');
    detach();
    removeSections();
    admin.events = null;
  };
}

function vmodCommand(cmd: PlatformCommand): CommandSpec {
  return {
    syntax: cmd.syntax,
    help: cmd.help,
    min: 0,
    max: -1,
    json: true,
    run: async (args, ctx) => {
      let answer: unknown;
      try {
        answer = await cmd.run(args, ctx.json);
      } catch (e) {
        return fail(CLIS.CANT, `${(e as Error)?.message ?? String(e)}\n`);
      }
      // A list answers as varnishd's lists do: one item after another in the envelope.
      if (ctx.json) return Array.isArray(answer) ? jsonReply(ctx.argv, ...answer) : jsonReply(ctx.argv, answer ?? null);
      if (answer === undefined || answer === null) return ok();
      const text = typeof answer === 'string' ? answer : JSON.stringify(answer, null, 2);
      return ok(text.endsWith('\n') || text === '' ? text : `${text}\n`);
    },
  };
}

/** What `memory -j` answers. */
export interface MemoryReport {
  readonly process: Readonly<Record<string, number>>;
  readonly heap: readonly { space: string; used: number; size: number; available: number }[];
  readonly storage: readonly { name: string; used: number; free: number }[];
  readonly vmods: readonly { vmod: string; bytes: number; limit: number | null }[];
}

export function memoryReport(srv: Shellac): MemoryReport {
  const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
  const stats = srv.cache.storageStats();
  return {
    process: { rss, heapTotal, heapUsed, external, arrayBuffers },
    heap: getHeapSpaceStatistics().map((s) => ({
      space: s.space_name,
      used: s.space_used_size,
      size: s.space_size,
      available: s.space_available_size,
    })),
    storage: [{ name: srv.cache.storage.name, used: stats.g_bytes, free: stats.g_space }],
    vmods: srv.platform.memoryReport(),
  };
}

function memoryCommand(srv: Shellac): CommandSpec {
  return {
    syntax: 'memory [-j]',
    help: "Memory by kind: the process (rss, heap, external), the V8 heap by space, the cache's bytes by storage, and the bytes each VMOD accounts for (with its max_memory).",
    min: 0,
    max: 0,
    json: true,
    run: (_args, ctx) => {
      const r = memoryReport(srv);
      if (ctx.json) return jsonReply(ctx.argv, r);
      const row = (name: string, text: string) => `  ${name.padEnd(28)} ${text}\n`;
      let out = 'process:\n';
      for (const [k, v] of Object.entries(r.process)) out += row(k, formatBytes(v));
      out += 'heap by space (used / size):\n';
      for (const h of r.heap) out += row(h.space, `${formatBytes(h.used)} / ${formatBytes(h.size)}`);
      out += 'storage (used / free):\n';
      for (const s of r.storage) out += row(s.name, `${formatBytes(s.used)} / ${formatBytes(s.free)}`);
      out += 'vmods (accounted / max_memory):\n';
      for (const v of r.vmods) out += row(v.vmod, `${formatBytes(v.bytes)} / ${v.limit === null ? 'none' : formatBytes(v.limit)}`);
      return ok(out);
    },
  };
}
