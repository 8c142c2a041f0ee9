// The pipe step: after vcl_pipe says pipe, the client connection becomes a raw tunnel to the
// backend until either side closes or pipe_timeout passes with no byte. An Upgrade request
// (node hands its socket over whole) tunnels the socket itself; any other request tunnels its
// body, and the backend's bytes go straight to the client socket; the connection then closes.

import { Duplex, Readable } from 'node:stream';
import { copyHeaders, NOT_PIPED } from '../common/http-headers.ts';
import { VclHttp } from '../runtime/http.ts';
import type { Director } from '../vmod/api.ts';
import type { Backend } from './backend.ts';
import { type ClientRequest, connectionMarks } from './client.ts';
import { writeMinimal } from './deliver.ts';
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
  cr.srv.counters.s_pipe++;
  cr.piped = true;
  const socket = cr.in.socket;
  const upgraded = cr.upgradeHead !== null;
  // Node parsed the head (and de-chunks the body) of a plain request: the body goes on as sent.
  const chunked = /chunked/i.test(cr.in.headers['transfer-encoding'] ?? '');
  const client = upgraded ? socket : Duplex.from({ readable: chunked ? Readable.from(rechunk(cr.in)) : cr.in, writable: socket });
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

/** A de-chunked body framed in chunks again, for a backend told Transfer-Encoding: chunked. */
async function* rechunk(body: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const chunk of body) {
    if (chunk.length === 0) continue;
    yield Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
  }
  yield Buffer.from('0\r\n\r\n');
}
