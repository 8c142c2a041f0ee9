// Transaction records as text a varnishlog reader knows: a header line per transaction, then one
// tagged line per fact (Begin, ReqURL, ReqHeader, VCL_call, VCL_return, VCL_Log, Timestamp,
// RespStatus, ReqAcct, End). A backend fetch grouped under its client request is indented.

import type { TxHttp, TxRecord } from './log.ts';

const HTTP_PREFIXES = ['Req', 'Resp', 'Bereq', 'Beresp'] as const;
const HTTP_FIELDS = ['Method', 'URL', 'Protocol', 'Status', 'Reason', 'Header'] as const;

/** Every tag recordLines writes but Begin and End (`shellac top -i` takes these). */
export const TX_TAGS: readonly string[] = [
  'ReqStart',
  'VCL_use',
  ...HTTP_PREFIXES.flatMap((p) => HTTP_FIELDS.map((f) => `${p}${f}`)),
  'VCL_call',
  'VCL_return',
  'VCL_Log',
  'VCL_Error',
  'FetchError',
  'Backend',
  'Handling',
  'Timestamp',
  'ReqAcct',
  'BereqAcct',
];

function httpLines(prefix: (typeof HTTP_PREFIXES)[number], h: TxHttp | undefined): [string, string][] {
  if (!h) return [];
  const out: [string, string][] = [];
  if (h.method !== undefined) out.push([`${prefix}Method`, h.method]);
  if (h.url !== undefined) out.push([`${prefix}URL`, h.url]);
  if (h.proto !== undefined) out.push([`${prefix}Protocol`, h.proto]);
  if (h.status !== undefined) out.push([`${prefix}Status`, String(h.status)]);
  if (h.reason !== undefined) out.push([`${prefix}Reason`, h.reason]);
  for (const [n, v] of h.headers) out.push([`${prefix}Header`, `${n}: ${v}`]);
  return out;
}

/** One record as varnishlog's tagged lines, [tag, text]; `shellac top` ranks these. */
export function recordLines(r: TxRecord): [string, string][] {
  const client = r.side === 'client';
  const lines: [string, string][] = [['Begin', `${client ? 'req' : 'bereq'} ${r.parent ?? 0}`]];
  if (r.client) lines.push(['ReqStart', `${r.client.ip} ${r.client.port}`]);
  if (r.vcl) lines.push(['VCL_use', r.vcl]);
  lines.push(...httpLines(client ? 'Req' : 'Bereq', client ? r.req : r.bereq));
  for (const c of r.calls) {
    lines.push(['VCL_call', c.sub.toUpperCase()]);
    if (c.ret) lines.push(['VCL_return', c.ret]);
  }
  for (const l of r.logs) lines.push(['VCL_Log', l]);
  for (const e of r.errors) lines.push([client ? 'VCL_Error' : 'FetchError', e]);
  if (r.backend) lines.push(['Backend', r.backend]);
  if (r.handling) lines.push(['Handling', r.handling]);
  lines.push(...httpLines(client ? 'Resp' : 'Beresp', client ? r.resp : r.beresp));
  for (const [label, t] of Object.entries(r.timings)) lines.push(['Timestamp', `${label}: ${(r.start + t).toFixed(6)} ${t.toFixed(6)}`]);
  const b = r.bytes;
  lines.push([client ? 'ReqAcct' : 'BereqAcct', `${b.reqHdr} ${b.reqBody} ${b.reqHdr + b.reqBody} ${b.respHdr} ${b.respBody} ${b.respHdr + b.respBody}`]);
  lines.push(['End', '']);
  return lines;
}

/** A group of records (one, or a request with its fetches) as text, ending in a blank line. */
export function formatTxText(group: readonly TxRecord[]): string {
  let out = '';
  group.forEach((r, i) => {
    const level = i === 0 ? 1 : 2;
    const star = '*'.repeat(level).padEnd(3);
    const dash = '-'.repeat(level).padEnd(3);
    out += `${star} << ${r.side === 'client' ? 'Request ' : 'BeReq   '} >> ${r.vxid}\n`;
    for (const [tag, text] of recordLines(r)) out += `${`${dash} ${tag.padEnd(14)} ${text}`.trimEnd()}\n`;
    out += '\n';
  });
  return out;
}
