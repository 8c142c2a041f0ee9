// The stand-in workspaces of vmod vtc: Shellac allocates as it goes and has no fixed scratch
// memory per task, so these only count. Each task (a VmodContext) gets, per workspace, a size
// from the matching workspace_* parameter, how much is taken, a snapshot and an overflow mark.

import type { VmodContext } from '../../src/vmod/api.ts';

export type WorkspaceName = 'client' | 'backend' | 'session' | 'thread';

export interface Workspace {
  readonly size: number;
  used: number;
  snapshot: number | undefined;
  overflowed: boolean;
}

/** Varnish's defaults, where the parameter cannot be read. */
const DEFAULT_SIZE: Readonly<Record<WorkspaceName, number>> = {
  client: 96 * 1024,
  backend: 96 * 1024,
  session: 768,
  thread: 2048,
};

const byTask = new WeakMap<VmodContext, Map<WorkspaceName, Workspace>>();

export function workspaceOf(ctx: VmodContext, name: WorkspaceName): Workspace {
  let all = byTask.get(ctx);
  if (!all) {
    all = new Map();
    byTask.set(ctx, all);
  }
  let ws = all.get(name);
  if (!ws) {
    const param = ctx.param(`workspace_${name}`);
    ws = { size: typeof param === 'number' ? param : DEFAULT_SIZE[name], used: 0, snapshot: undefined, overflowed: false };
    all.set(name, ws);
  }
  return ws;
}

/** How many bytes `size` asks for: a negative size is all but that many of what is free. */
export function wanted(ws: Workspace, size: number): number {
  const free = ws.size - ws.used;
  return size < 0 ? free + size : size;
}
