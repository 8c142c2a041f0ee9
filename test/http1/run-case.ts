// Runs one case of the framing table against a server (Shellac in the tests; varnishd when the
// table is checked against it, see docs/proxy.md) and lists how the outcome differs from the
// case's expectations: an empty list is a pass.

import { connect } from 'node:net';
import type { RawOrigin } from '../helpers/raw-origin.ts';
import type { FramingCase } from './cases.ts';

export interface Outcome {
  /** Statuses of the final responses, in order (100 Continue left out). */
  readonly statuses: number[];
  readonly closed: boolean;
}

/** Sends the bytes; reads `responses` answers, then waits to see whether the server closes. */
export function exchange(port: number, bytes: string, responses: number, expectClose: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(Buffer.from(bytes, 'latin1')));
    let text = '';
    let closed = false;
    let settle: NodeJS.Timeout | null = null;
    const finish = (): void => {
      if (settle !== null) clearTimeout(settle);
      clearTimeout(overall);
      s.destroy();
      resolve({ statuses: parseResponses(text).statuses, closed });
    };
    const overall = setTimeout(finish, 5000);
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (settle === null && parseResponses(text).complete >= responses) {
        // All answers are in: give the server a moment to close (or to show that it does not).
        settle = setTimeout(finish, expectClose ? 2000 : 100);
      }
    });
    s.on('error', () => {});
    s.on('close', () => {
      closed = true;
      finish();
    });
  });
}

/** Final responses in the text (1xx skipped) and how many are complete. */
function parseResponses(text: string): { statuses: number[]; complete: number } {
  const statuses: number[] = [];
  let complete = 0;
  let pos = 0;
  for (;;) {
    const end = text.indexOf('\r\n\r\n', pos);
    if (end < 0) break;
    const head = text.slice(pos, end);
    const status = Number(head.slice(9, 12));
    if (status >= 100 && status < 200) {
      pos = end + 4;
      continue;
    }
    statuses.push(status);
    const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    let bodyEnd = end + 4;
    if (cl !== null) bodyEnd += Number(cl[1]);
    else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const last = text.indexOf('\r\n0\r\n\r\n', end);
      if (last < 0) break;
      bodyEnd = last + 7;
    }
    if (text.length < bodyEnd) break;
    complete++;
    pos = bodyEnd;
  }
  return { statuses, complete };
}

/** Runs the case and lists every difference from what it expects. */
export async function runCase(port: number, origin: RawOrigin, c: FramingCase): Promise<string[]> {
  const before = origin.requests.length;
  const answers = c.status === null ? 0 : Array.isArray(c.origin) ? c.origin.length : 1;
  const out = await exchange(port, c.bytes, answers, c.closed);
  const problems: string[] = [];
  const want = c.status === null ? [] : Array(answers).fill(c.status);
  if (JSON.stringify(out.statuses) !== JSON.stringify(want)) problems.push(`statuses ${JSON.stringify(out.statuses)}, expected ${JSON.stringify(want)}`);
  if (out.closed !== c.closed) problems.push(out.closed ? 'closed the connection' : 'kept the connection open');
  // Let a backend request in flight land before looking at what the origin got.
  await new Promise((r) => setTimeout(r, 20));
  const got = origin.requests.slice(before);
  if (c.origin === 'nothing' || c.origin === 'broken') {
    if (got.length > 0) problems.push(`the origin got ${got.length} complete request(s): ${JSON.stringify(got.map((r) => r.raw))}`);
    return problems;
  }
  if (got.length !== c.origin.length) {
    problems.push(`the origin got ${got.length} request(s), expected ${c.origin.length}: ${JSON.stringify(got.map((r) => r.raw))}`);
    return problems;
  }
  c.origin.forEach((w, i) => {
    const r = got[i];
    if (w.method !== undefined && r.method !== w.method) problems.push(`origin method ${r.method}, expected ${w.method}`);
    if (w.url !== undefined && r.url !== w.url) problems.push(`origin URL ${r.url}, expected ${w.url}`);
    if (r.body !== w.body) problems.push(`origin body ${JSON.stringify(r.body)}, expected ${JSON.stringify(w.body)}`);
    for (const [name, value] of Object.entries(w.headers ?? {})) {
      const seen = r.headers.filter(([n]) => n === name).map(([, v]) => v);
      if (value === null ? seen.length > 0 : seen.length !== 1 || seen[0] !== value) problems.push(`origin header ${name}: ${JSON.stringify(seen)}, expected ${JSON.stringify(value)}`);
    }
  });
  return problems;
}

/** A request the origin got with more than one framing, or a length that is not its body's. */
export function ambiguous(r: { headers: readonly [string, string][]; body: string }): string | null {
  const cl = r.headers.filter(([n]) => n === 'content-length');
  const te = r.headers.filter(([n]) => n === 'transfer-encoding');
  if (cl.length + te.length > 1) return 'more than one framing header';
  if (cl.length === 1 && Number(cl[0][1]) !== r.body.length) return 'Content-Length is not the body length';
  return null;
}
