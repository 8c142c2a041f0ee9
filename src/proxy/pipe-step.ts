// The pipe step: after vcl_pipe says pipe, the client connection becomes a raw tunnel to the
// backend until either side closes or pipe_timeout passes with no byte. An Upgrade request
// (node hands its socket over whole) tunnels the socket itself; any other request tunnels its
// body, and the backend's bytes go straight to the client socket; the connection then closes.

import { Duplex } from 'node:stream';
import { VclHttp } from '../runtime/http.ts';
import type { Director } from '../vmod/api.ts';
import type { Backend } from './backend.ts';
import type { ClientRequest } from './client.ts';
import { writeMinimal } from './deliver.ts';
import { pipe } from './pipe.ts';

type Step = 'synth' | 'fail' | 'done';

export async function runPipe(cr: ClientRequest): Promise<Step> {
  const t = cr.task;
  const req = t.req!;
  const bereq = VclHttp.request(req.method, req.url, req.proto);
  for (let i = 0; i < req.count; i++) bereq.append(req.nameAt(i), req.valueAt(i));
  bereq.set('X-Varnish', String(t.xid));
  t.bereq = bereq;
  const a = await cr.call('vcl_pipe');
  if (a.action === 'synth') {
    cr.synthStatus = a.status;
    cr.synthReason = a.reason;
    return 'synth';
  }
  if (a.action !== 'pipe') return 'fail';
  const director: Director | null = t.backendHint ?? cr.vcl.defaultBackend;
  const backend = director?.resolve(t) ?? null;
  if (backend === null || typeof (backend as Partial<Backend>).openTunnel !== 'function') {
    cr.synthStatus = 503;
    cr.synthReason = 'Backend fetch failed';
    return 'synth';
  }
  cr.srv.counters.s_pipe++;
  const socket = cr.in.socket;
  const upgraded = cr.upgradeHead !== null;
  const client = upgraded ? socket : Duplex.from({ readable: cr.in, writable: socket });
  const r = await pipe({
    client,
    head: cr.upgradeHead ?? undefined,
    backend: backend as Backend,
    bereq: t.bereq!,
    timeout: cr.srv.params.values.pipe_timeout,
    counters: cr.srv.backendCounters,
  });
  if (!r.ok) {
    writeMinimal(cr, 503, 'Backend fetch failed');
    return 'done';
  }
  socket.destroy();
  return 'done';
}
