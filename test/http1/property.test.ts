// Property-based tests over generated requests (fast-check), against a real Shellac passing
// every request to an origin that records the bytes it gets:
// - no input crashes the process or leaves a connection hanging: each connection ends within
//   a bound (timeout_idle is short here), and the proxy serves a new connection after;
// - every response on the wire is well-formed (status line, header lines, a body framed by its
//   Content-Length or chunks, or by the close);
// - a refused request (400, 417) is the last answer on its connection;
// - a request either reaches the origin with exactly one unambiguous framing and comes back as
//   the origin's 200, or gets an error and never reaches it: the origin gets as many requests
//   as the client gets 200s, none with two framings or a length that is not its body's.

import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { get, type ProxyHandle, startProxy } from '../helpers/proxy.ts';
import { type RawOrigin, startRawOrigin } from '../helpers/raw-origin.ts';
import { ambiguous } from './run-case.ts';

let origin: RawOrigin;
let proxy: ProxyHandle;

beforeAll(async () => {
  origin = await startRawOrigin();
  proxy = await startProxy('vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "ORIGIN_PORT"; }\nsub vcl_recv { return (pass); }\n', {
    origin: origin as never,
    params: [['timeout_idle', '0.3']],
  });
});

afterAll(async () => {
  await proxy?.close();
  await origin?.close();
});

/** Sends bytes (in pieces), optionally half-closes, and collects everything until the close. */
function send(pieces: string[], halfClose: boolean): Promise<{ text: string; closedInTime: boolean }> {
  return new Promise((resolve) => {
    const s = connect(proxy.port, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text, closedInTime: false });
    }, 4000);
    s.on('connect', async () => {
      for (const p of pieces) {
        if (s.destroyed) break;
        s.write(Buffer.from(p, 'latin1'));
        await new Promise((r) => setImmediate(r));
      }
      if (halfClose && !s.destroyed) s.end();
    });
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closedInTime: true });
    });
  });
}

/** Splits the wire text into responses; throws on anything that is not a well-formed one. */
function responses(text: string): number[] {
  const statuses: number[] = [];
  let pos = 0;
  while (pos < text.length) {
    const end = text.indexOf('\r\n\r\n', pos);
    if (end < 0) throw new Error(`an unfinished head: ${JSON.stringify(text.slice(pos))}`);
    const lines = text.slice(pos, end).split('\r\n');
    const m = /^HTTP\/1\.1 (\d{3}) [^\r\n]*$/.exec(lines[0]);
    if (m === null) throw new Error(`a bad status line: ${JSON.stringify(lines[0])}`);
    for (const l of lines.slice(1)) if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+: [^\r\n]*$/.test(l)) throw new Error(`a bad header line: ${JSON.stringify(l)}`);
    const status = Number(m[1]);
    pos = end + 4;
    if (status < 200) continue;
    statuses.push(status);
    const header = (n: string) => lines.find((l) => l.toLowerCase().startsWith(`${n}:`))?.slice(n.length + 1).trim();
    const cl = header('content-length');
    if (cl !== undefined) {
      if (text.length < pos + Number(cl)) throw new Error('a body shorter than its Content-Length');
      pos += Number(cl);
    } else if (header('transfer-encoding') === 'chunked') {
      for (;;) {
        const eol = text.indexOf('\r\n', pos);
        if (eol < 0) throw new Error('an unfinished chunk');
        const size = Number.parseInt(text.slice(pos, eol), 16);
        pos = eol + 2 + size + 2;
        if (size === 0) break;
      }
    } else if (status !== 204 && status !== 304 && pos < text.length && !/^HTTP\/1\.1 /.test(text.slice(pos))) {
      // Framed by the close: the rest is its body.
      pos = text.length;
    }
  }
  return statuses;
}

// ---- generated requests: a grammar with the parts that matter, some of them hostile ----

// Mostly well-formed, so that the framing headers meet often; hostile pieces now and then.
const often = <T>(common: fc.Arbitrary<T>, rare: fc.Arbitrary<T>): fc.Arbitrary<T> => fc.oneof({ arbitrary: common, weight: 4 }, { arbitrary: rare, weight: 1 });
const eol = often(fc.constant('\r\n'), fc.constantFrom('\n', '\r', ''));
const method = often(fc.constantFrom('GET', 'POST', 'PUT'), fc.constantFrom('BAN', 'get', 'G\x00T', 'PATCH', ''));
const url = often(fc.constantFrom('/', '/a?b'), fc.constantFrom('http://h.example/p', '/a b', '/\x01', '*x', ''));
const proto = often(fc.constant('HTTP/1.1'), fc.constantFrom('HTTP/1.0', 'HTTP/1.2', 'http/1.1', 'HTTP/1.1 ', 'nonsense', ''));
const name = often(
  fc.constantFrom('Content-Length', 'Transfer-Encoding', 'Host', 'X-A'),
  fc.constantFrom('Connection', 'Expect', 'content-length', 'TRANSFER-ENCODING', 'X A', ''),
);
const value = fc.oneof(
  fc.constantFrom('x', '0', '1', '3', '10', '-1', '1a', ' 2 ', 'chunked', 'Chunked', 'chunked, identity', 'close', 'keep-alive', 'content-length', '100-continue', 'a\x00b', 'a\x7fb', 'a\tb'),
  fc.string({ maxLength: 6 }),
);
const sep = often(fc.constant(': '), fc.constantFrom(':', ' : ', ':\r\n ', '\t:'));
const header = fc.tuple(name, sep, value, eol).map(([n, s, v, e]) => `${n}${s}${v}${e}`);
const body = fc.oneof(fc.constantFrom('', 'abc', '0\r\n\r\n', '3\r\nabc\r\n0\r\n\r\n', '3\nabc\n0\n\n', '3;x\r\nabc\r\n0\r\n\r\n', 'zz\r\n', '0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n'), fc.string({ maxLength: 12 }));
const request = fc
  .tuple(method, url, proto, eol, fc.array(header, { maxLength: 4 }), eol, body)
  .map(([m, u, p, e1, hs, e2, b]) => `${m} ${u} ${p}${e1}${hs.join('')}${e2}${b}`);
/** One to three requests back to back, sent in one piece or split at random places. */
const wire = fc.tuple(fc.array(request, { minLength: 1, maxLength: 3 }), fc.array(fc.nat(), { maxLength: 3 }), fc.boolean()).map(([reqs, cuts, halfClose]) => {
  const all = reqs.join('');
  const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let last = 0;
  for (const p of points) {
    pieces.push(all.slice(last, p));
    last = p;
  }
  pieces.push(all.slice(last));
  return { pieces, halfClose };
});
const randomBytes = fc.tuple(fc.uint8Array({ maxLength: 80 }), fc.boolean()).map(([b, halfClose]) => ({ pieces: [Buffer.from(b).toString('latin1')], halfClose }));

async function check(input: { pieces: string[]; halfClose: boolean }): Promise<void> {
  const before = origin.requests.length;
  const { text, closedInTime } = await send(input.pieces, input.halfClose);
  expect(closedInTime, 'the connection ended').toBe(true);
  const statuses = responses(text);
  // A refused request is the last one answered on its connection: nothing after it is read.
  const refused = statuses.findIndex((s) => s === 400 || s === 417);
  if (refused >= 0) expect(refused, `answers after a refusal: ${statuses}`).toBe(statuses.length - 1);
  await new Promise((r) => setTimeout(r, 20));
  const got = origin.requests.slice(before);
  for (const r of got) expect(ambiguous(r), r.raw).toBeNull();
  expect(got.length, `origin requests for ${JSON.stringify(input.pieces.join(''))}`).toBe(statuses.filter((s) => s === 200).length);
}

it('handles generated requests: no hang, well-formed answers, one framing or none at the origin', async () => {
  await fc.assert(fc.asyncProperty(wire, check), { numRuns: 150 });
  expect((await get(proxy.port, '/alive')).status).toBe(200);
}, 300_000);

it('handles random bytes the same way', async () => {
  await fc.assert(fc.asyncProperty(randomBytes, check), { numRuns: 60 });
  expect((await get(proxy.port, '/alive')).status).toBe(200);
}, 300_000);
