// The payloads of the server events the proxy raises (see src/vmod/events.ts for delivery and
// docs/writing-a-vmod.md for every field). Each is built only when somebody listens: the
// callers test `srv.events.listening.<name>` first, so with no subscriber these cost nothing.

import type { StepTimes } from '../common/step-times.ts';
import type { ClientRequest } from './client.ts';
import type { Fetch } from './fetch.ts';

/** How a client request was handled, as `request` events and transaction records name it. */
export function handlingOf(cr: ClientRequest): string {
  const t = cr.task;
  if (cr.intent === 'pipe') return 'pipe';
  if (cr.intent === 'purge') return 'purge';
  if (cr.isHit) return 'hit';
  if (t.isHitpass) return 'hitpass';
  if (t.isHitmiss) return 'hitmiss';
  if (cr.passed) return 'pass';
  return cr.obj !== null ? 'miss' : 'synth';
}

/** A client request finished (its response is written): the `request` event. */
export function emitRequestEvent(cr: ClientRequest, times: StepTimes): void {
  const t = cr.task;
  const req = t.req;
  const backend = t.backendHint?.name ?? null;
  const bodyBytes = req?.method === 'HEAD' ? 0 : cr.obj !== null ? cr.obj.bodyBytes : Buffer.byteLength(t.body);
  cr.srv.events.emit('request', {
    xid: t.xid,
    vcl: cr.vcl.name,
    method: req?.method ?? cr.in.head.method,
    url: req?.url ?? cr.in.head.url,
    host: req?.get('host') ?? null,
    status: cr.res.statusCode,
    handling: handlingOf(cr),
    client: t.clientIp?.text ?? null,
    bytesIn: cr.in.head.body.kind === 'length' ? cr.in.head.body.length : 0,
    bytesOut: bodyBytes,
    // The fail step answers 503 "VCL failed" and closes: the one failure a client task reports.
    error: cr.close && cr.synthReason === 'VCL failed' ? 'VCL failed' : null,
    timestamps: { start: t.reqTime, end: Date.now() / 1000 },
    backend: cr.passed || cr.obj !== null ? backend : null,
    steps: times.list(),
  });
}

/** A backend fetch finished: the `fetch` event. */
export function emitFetchEvent(f: Fetch, times: StepTimes): void {
  const t = f.task;
  const bereq = t.bereq;
  f.srv.events.emit('fetch', {
    xid: t.xid,
    parentXid: f.clientXid,
    vcl: f.vcl.name,
    method: bereq?.method ?? '',
    url: bereq?.url ?? '',
    backend: t.berespBackend?.name ?? null,
    status: t.beresp?.status ?? null,
    mode: f.mode,
    bytesOut: f.obj?.bodyBytes ?? 0,
    error: f.errored ? 'vcl_backend_error' : f.obj === null ? 'abandoned' : null,
    timestamps: { start: t.bereqTime || null, end: Date.now() / 1000 },
    steps: times.list(),
  });
}
