// Transaction records as the tagged lines a varnishlog reader knows (Begin, ReqURL, ReqHeader,
// VCL_call, VCL_Log, VCL_return, Link, RespStatus, Timestamp, ReqAcct, End...), in the order
// Varnish writes them: the request, then each VCL subroutine with the std.log lines it wrote
// between its VCL_call and VCL_return, the response just before vcl_deliver (or vcl_synth)
// runs, a Link to each fetch after the subroutine that asked for it. `shellac log` prints these
// lines; the VTC runner's logexpect matches against them. A record keeps fewer facts than
// Varnish's log (no header changes as they happen, no Hit or Storage lines): those are absent.

import type { TxHttp, TxRecord } from '../common/log.ts';

/** One log line of a transaction: varnishlog's tag and the text after it. */
export type VslLine = readonly [tag: string, data: string];

const HTTP_PREFIXES = ['Req', 'Resp', 'Bereq', 'Beresp'] as const;
const HTTP_FIELDS = ['Method', 'URL', 'Protocol', 'Status', 'Reason', 'Header'] as const;

/** Every tag vslLines writes but Begin and End (`shellac top -i` takes these). */
export const TX_TAGS: readonly string[] = [
  'ReqStart',
  'VCL_use',
  ...HTTP_PREFIXES.flatMap((p) => HTTP_FIELDS.map((f) => `${p}${f}`)),
  'VCL_call',
  'VCL_return',
  'VCL_Log',
  'VCL_Error',
  'Link',
  'FetchError',
  'Backend',
  'BackendOpen',
  'Handling',
  'Timestamp',
  'ReqAcct',
  'BereqAcct',
];

function httpLines(prefix: (typeof HTTP_PREFIXES)[number], h: TxHttp | undefined): VslLine[] {
  if (!h) return [];
  const out: VslLine[] = [];
  if (h.method !== undefined) out.push([`${prefix}Method`, h.method]);
  if (h.url !== undefined) out.push([`${prefix}URL`, h.url]);
  if (h.proto !== undefined) out.push([`${prefix}Protocol`, h.proto]);
  if (h.status !== undefined) out.push([`${prefix}Status`, String(h.status)]);
  if (h.reason !== undefined) out.push([`${prefix}Reason`, h.reason]);
  for (const [n, v] of h.headers) out.push([`${prefix}Header`, `${n}: ${v}`]);
  return out;
}

/** Timestamp lines as Varnish writes them: `Label: absolute since-start since-previous`. */
function timestampLines(r: TxRecord, labels: readonly string[]): VslLine[] {
  const all = Object.entries(r.timings);
  return all
    .map(([label, t], i): [string, number, number] => [label, t, i > 0 ? t - all[i - 1][1] : 0])
    .filter(([label]) => labels.includes(label))
    .map(([label, t, step]) => ['Timestamp', `${label}: ${(r.start + t).toFixed(6)} ${t.toFixed(6)} ${step.toFixed(6)}`]);
}

/** The VCL subroutines in order, each with the std.log lines it wrote before returning. */
function callLines(r: TxRecord, from: number, to: number): VslLine[] {
  const out: VslLine[] = [];
  const at = r.logAt ?? r.logs.map(() => r.calls.length);
  const logsAt = (n: number) => {
    for (let j = 0; j < r.logs.length; j++) if (at[j] === n) out.push(['VCL_Log', r.logs[j]]);
  };
  if (from === 0) logsAt(0);
  for (let i = from; i < to && i < r.calls.length; i++) {
    const c = r.calls[i];
    out.push(['VCL_call', c.sub.toUpperCase()]);
    logsAt(i + 1);
    if (c.ret) out.push(['VCL_return', c.ret]);
  }
  return out;
}

/** A client request's lines; `fetches` are the backend transactions it started, for Link lines. */
function clientLines(r: TxRecord, fetches: readonly number[]): VslLine[] {
  const lines: VslLine[] = [['Begin', `req ${r.parent ?? 0} rxreq`], ...timestampLines(r, ['Start', 'Req'])];
  if (r.client) lines.push(['ReqStart', `${r.client.ip} ${r.client.port}`]);
  if (r.vcl) lines.push(['VCL_use', r.vcl]);
  lines.push(...httpLines('Req', r.req));
  // The response exists once vcl_deliver or vcl_synth is entered: its lines go before that call.
  let deliver = r.calls.findLastIndex((c) => c.sub === 'deliver' || c.sub === 'synth');
  if (deliver < 0) deliver = r.calls.length;
  // The fetch is started by the subroutine that returned fetch (miss) or pass.
  const fetcher = r.calls.findIndex((c) => c.ret === 'fetch' || c.ret === 'pass');
  const linkAfter = fetcher < 0 || fetcher >= deliver ? deliver : fetcher + 1;
  lines.push(...callLines(r, 0, linkAfter));
  for (const vxid of fetches) lines.push(['Link', `bereq ${vxid} fetch`]);
  lines.push(...callLines(r, linkAfter, deliver));
  for (const e of r.errors) lines.push(['VCL_Error', e]);
  lines.push(...httpLines('Resp', r.resp));
  lines.push(...callLines(r, deliver, r.calls.length));
  if (r.handling) lines.push(['Handling', r.handling]);
  return lines;
}

function backendLines(r: TxRecord): VslLine[] {
  const lines: VslLine[] = [['Begin', `bereq ${r.parent ?? 0} fetch`], ...timestampLines(r, ['Start'])];
  if (r.vcl) lines.push(['VCL_use', r.vcl]);
  lines.push(...httpLines('Bereq', r.bereq));
  // vcl_backend_fetch, then the fetch (its errors, the response), then the rest.
  lines.push(...callLines(r, 0, 1));
  if (r.backend) lines.push(['Backend', r.backend]);
  const o = r.backendOpen;
  if (o) lines.push(['BackendOpen', `${o.fd} ${r.backend ?? ''} ${o.remoteAddress} ${o.remotePort} ${o.localAddress} ${o.localPort} ${o.how}`]);
  for (const e of r.errors) lines.push(['FetchError', e]);
  lines.push(...httpLines('Beresp', r.beresp));
  lines.push(...callLines(r, 1, r.calls.length));
  if (r.handling) lines.push(['Handling', r.handling]);
  return lines;
}

/** Every line of one transaction, Begin to End. */
export function vslLines(r: TxRecord, fetches: readonly number[] = []): VslLine[] {
  const client = r.side === 'client';
  const lines = client ? clientLines(r, fetches) : backendLines(r);
  const early = client ? ['Start', 'Req'] : ['Start'];
  lines.push(...timestampLines(r, Object.keys(r.timings).filter((l) => !early.includes(l))));
  const b = r.bytes;
  lines.push([client ? 'ReqAcct' : 'BereqAcct', `${b.reqHdr} ${b.reqBody} ${b.reqHdr + b.reqBody} ${b.respHdr} ${b.respBody} ${b.respHdr + b.respBody}`]);
  lines.push(['End', '']);
  return lines;
}

/** A group of records (one, or a request with its fetches) as text, ending in a blank line. */
export function formatTxText(group: readonly TxRecord[]): string {
  let out = '';
  const fetches = group.filter((r) => r.side === 'backend' && r.parent === group[0]?.vxid).map((r) => r.vxid);
  group.forEach((r, i) => {
    const level = i === 0 ? 1 : 2;
    const star = '*'.repeat(level).padEnd(3);
    const dash = '-'.repeat(level).padEnd(3);
    out += `${star} << ${r.side === 'client' ? 'Request ' : 'BeReq   '} >> ${r.vxid}\n`;
    for (const [tag, text] of vslLines(r, i === 0 ? fetches : [])) out += `${`${dash} ${tag.padEnd(14)} ${text}`.trimEnd()}\n`;
    out += '\n';
  });
  return out;
}
