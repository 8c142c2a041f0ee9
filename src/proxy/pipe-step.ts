// The pipe step: after vcl_pipe says pipe, the client connection becomes a raw tunnel to the
// backend until either side closes or pipe_timeout passes with no byte. The HTTP/1 layer hands
// its socket over with what the client sent after the head (a body as it was framed, requests
// pipelined behind it), which goes to the backend first; from then on bytes flow both ways
// untouched, so requests after a piped one go through the tunnel as in Varnish.

import { copyHeaders, NOT_PIPED } from '../common/http-headers.ts';
import { VclHttp } from '../runtime/http.ts';
import type { Director } from '../vmod/api.ts';
import type { Backend } from './backend/backend.ts';
import { type ClientRequest, connectionMarks } from './client.ts';
import { pipe } from './pipe.ts';

type Step = 'synth' | 'fail' | 'done';

export async function runPipe(cr: ClientRequest): Promise<Step> {
  const t = cr.task;
  const req = t.req!;
  // As Varnish: hop-by-hop headers (Connection and what it names) stay behind, and the backend
  // is told to close after its answer. A VCL that pipes websockets sets Upgrade and Connection
  // again in vcl_pipe.
  const bereq = VclHttp.request(req.method, req.url, req.proto);
  copyHeaders(req, bereq, NOT_PIPED, connectionMarks(cr));
  bereq.set('X-Varnish', String(t.xid));
  bereq.set('Connection', 'close');
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
  const counters = cr.srv.counters;
  const max = cr.srv.params.values.pipe_sess_max;
  if (max > 0 && counters.n_pipe >= max) {
    // pipe_sess_max: as varnishd, a 503 and the connection closed after it.
    counters.pipe_limited++;
    cr.in.closeAfter('pipe_overflow');
    cr.synthStatus = 503;
    cr.synthReason = 'Service Unavailable';
    return 'synth';
  }
  counters.s_pipe++;
  counters.n_pipe++;
  cr.piped = true;
  // As Varnish: Process once vcl_pipe said pipe, Pipe once the request went on, PipeSess at the
  // end, and no Resp (there is no response of ours).
  const times = cr.times;
  times?.mark('Process');
  const { socket, buffered } = cr.in.takeOver();
  // A body std.cache_req_body read already goes first, then the bytes not read yet.
  const cached = cr.task.reqBody;
  const head = cached !== null && cached.length > 0 ? Buffer.concat([cached, buffered]) : buffered;
  let r: Awaited<ReturnType<typeof pipe>>;
  try {
    r = await pipe({
      client: socket,
      head,
      backend: backend as Backend,
      bereq: t.bereq!,
      timeout: cr.srv.params.values.pipe_timeout,
      counters: cr.srv.backendCounters,
      onOpen: times === null ? undefined : () => times.mark('Pipe'),
    });
  } finally {
    counters.n_pipe--;
  }
  if (!r.ok) {
    // A backend that cannot be reached: varnishd closes the client connection without an answer.
    cr.in.closeAfter('tx_error');
    cr.srv.logger.warn({ xid: t.xid, error: r.message }, 'pipe: backend not reached');
  }
  socket.destroy();
  times?.mark('PipeSess');
  return 'done';
}
