// The commands of a client or server spec (txreq, rxresp, expect, ...), following
// varnishtest 7.1: what each sends by default (txreq: Host; txresp: Content-Length 0), in
// which order options must come (first line, then headers, then body), and how `expect`
// reads req.*, resp.* and remote.*.

import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { evalExpect, isExpectOp } from './expect.ts';
import type { Conn } from './conn.ts';
import { findHeader, HttpSession, SessionEnded, type SessionPeer } from './http-session.ts';
import { arity, type CommandTable, type Env, runSpec } from './spec.ts';
import { gunzipText, gzipText, parseHex, synthBody } from './synth.ts';

const NL = '\r\n';

function onlyServer(s: HttpSession, args: readonly string[]): void {
  if (!s.isServer) s.ctx.fail(s.id, `"${args[0]}" only possible in server`);
}

function onlyClient(s: HttpSession, args: readonly string[]): void {
  if (s.isServer) s.ctx.fail(s.id, `"${args[0]}" only possible in client`);
}

function need(s: HttpSession, args: readonly string[], i: number, what: string): string {
  const v = args[i];
  if (v === undefined) s.ctx.fail(s.id, `${args[0]}: ${args[i - 1]} needs ${what}`);
  return v;
}

/** Options shared by txreq and txresp after the first line: headers, then the body. */
function txHeadersAndBody(s: HttpSession, args: readonly string[], i: number, body: string | undefined, nohost: boolean): string {
  let head = '';
  let nolen = false;
  let nohdrs = false;
  let chunked = false;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '-nolen') nolen = true;
    else if (a === '-nohost') nohost = true;
    else if (a === '-nohdrs') nohdrs = true;
    else if (a === '-nodate' || a === '-noserver' || a === '-nouseragent') {
      // Newer varnishtest adds Date, Server and User-Agent unless told not to; 7.1 never does.
    } else if (a === '-hdr') {
      const h = need(s, args, ++i, 'a header');
      if (/^host:/i.test(h)) nohost = true;
      head += h + NL;
    } else if (a === '-hdrlen') {
      const name = need(s, args, ++i, 'a name');
      let l = Number(need(s, args, ++i, 'a length'));
      let v = '';
      while (l-- > 0) v += String.fromCharCode(0x30 + (l % 10));
      head += `${name}: ${v}${NL}`;
    } else break;
  }
  const initial = body;
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === '-body' || a === '-bodylen' || a === '-bodyfrom' || a === '-gzipbody' || a === '-gziplen') {
      if (body !== initial) s.ctx.fail(s.id, `${args[0]}: more than one body given`);
    }
    if (a === '-body') {
      // A backslash-zero left in the text (from a {braced} string) is a NUL byte.
      body = need(s, args, ++i, 'a string').replaceAll('\\0', '\0');
    } else if (a === '-bodylen') {
      body = synthBody(Number(need(s, args, ++i, 'a length')), false);
    } else if (a === '-bodyfrom') {
      const f = need(s, args, ++i, 'a file');
      try {
        body = readFileSync(isAbsolute(f) ? f : join(s.ctx.tmpdir, f), 'latin1');
      } catch (e) {
        s.ctx.fail(s.id, `-bodyfrom: ${(e as Error).message}`);
      }
    } else if (a === '-gziplevel') {
      s.gzipLevel = Number(need(s, args, ++i, 'a level'));
    } else if (a === '-gzipresidual') {
      s.ctx.fail(s.id, 'unsupported: -gzipresidual');
    } else if (a === '-gziplen') {
      body = gzipBody(s, synthBody(Number(need(s, args, ++i, 'a length')), true));
      head += `Content-Encoding: gzip${NL}`;
    } else if (a === '-gzipbody') {
      body = gzipBody(s, need(s, args, ++i, 'a string'));
      head += `Content-Encoding: gzip${NL}`;
    } else if (a === '-chunked') {
      chunked = true;
    } else break;
  }
  if (i < args.length) s.ctx.fail(s.id, `unsupported: ${args[0]} argument '${args[i]}'`);
  if (!nohost && !nohdrs) head += `Host: ${s.ctx.macros.get('localhost') ?? '127.0.0.1'}${NL}`;
  if (chunked && body !== undefined) {
    if (!nohdrs) head += `Transfer-Encoding: chunked${NL}`;
    const chunk = body.length > 0 ? `${body.length.toString(16)}${NL}${body}${NL}` : '';
    return `${head}${NL}${chunk}0${NL}${NL}`;
  }
  if (body !== undefined && !nolen && !nohdrs) head += `Content-Length: ${body.length}${NL}`;
  return head + NL + (body ?? '');
}

function gzipBody(s: HttpSession, text: string): string {
  const z = gzipText(text, s.gzipLevel);
  s.log(3, `new bodylen ${z.length}`);
  return z;
}

/** What an `expect` operand names; anything else stands for itself. */
function resolve(s: HttpSession, spec: string): string | undefined {
  switch (spec) {
    case 'remote.ip':
      return s.peer.ip;
    case 'remote.port':
      return s.peer.port;
    case 'remote.path':
      return s.peer.path;
    case 'req.method':
      return s.req[0];
    case 'req.url':
      return s.req[1];
    case 'req.proto':
      return s.req[2];
    case 'resp.proto':
      return s.resp[0];
    case 'resp.status':
      return s.resp[1];
    case 'resp.reason':
      return s.resp[2];
    case 'resp.chunklen':
      return s.chunklen;
    case 'req.bodylen':
    case 'resp.bodylen':
      return s.bodylen;
    case 'req.body':
    case 'resp.body':
      return s.body ?? spec;
  }
  if (spec.startsWith('req.http.')) return findHeader(s.req, spec.slice(9));
  if (spec.startsWith('resp.http.')) return findHeader(s.resp, spec.slice(10));
  return spec;
}

function noArgs(s: HttpSession, args: readonly string[]): void {
  if (args.length > 1) s.ctx.fail(s.id, `unsupported: ${args[0]} argument '${args[1]}'`);
}

export const HTTP_COMMANDS: CommandTable<HttpSession> = {
  txreq: async (args, s) => {
    onlyClient(s, args);
    let method = 'GET';
    let url = '/';
    let proto = 'HTTP/1.1';
    s.headMethod = false;
    let i = 1;
    for (; i < args.length; i++) {
      const a = args[i];
      if (a === '-url') url = need(s, args, ++i, 'a URL');
      else if (a === '-proto') proto = need(s, args, ++i, 'a protocol');
      else if (a === '-method' || a === '-req') {
        method = need(s, args, ++i, 'a method');
        s.headMethod = method === 'HEAD';
      } else if (a === '-up') s.ctx.fail(s.id, 'unsupported: txreq -up (HTTP/2)');
      else break;
    }
    const msg = `${method} ${url} ${proto}${NL}${txHeadersAndBody(s, args, i, undefined, proto !== 'HTTP/1.1')}`;
    await s.tx('txreq', msg);
  },

  txresp: async (args, s) => {
    onlyServer(s, args);
    let proto = 'HTTP/1.1';
    let status = '200';
    let reason = 'OK';
    let i = 1;
    for (; i < args.length; i++) {
      const a = args[i];
      if (a === '-proto') proto = need(s, args, ++i, 'a protocol');
      else if (a === '-status') status = need(s, args, ++i, 'a status');
      else if (a === '-reason') reason = need(s, args, ++i, 'a reason');
      else break;
    }
    // txresp sends "Content-Length: 0" unless a body or -nolen says otherwise.
    const msg = `${proto} ${status} ${reason}${NL}${txHeadersAndBody(s, args, i, '', true)}`;
    await s.tx('txresp', msg);
  },

  rxreq: async (args, s) => {
    onlyServer(s, args);
    noArgs(s, args);
    await s.rxReqHeaders();
    await s.swallowBody(s.req, false);
  },

  rxreqhdrs: async (args, s) => {
    onlyServer(s, args);
    noArgs(s, args);
    await s.rxReqHeaders();
  },

  rxreqbody: async (args, s) => {
    onlyServer(s, args);
    noArgs(s, args);
    await s.swallowBody(s.req, false);
  },

  rxresp: async (args, s) => {
    onlyClient(s, args);
    let obj = true;
    for (const a of args.slice(1)) {
      if (a === '-no_obj') obj = false;
      else s.ctx.fail(s.id, `unsupported: rxresp argument '${a}'`);
    }
    await s.rxRespHeaders();
    if (!obj || s.headMethod) return;
    await s.swallowBody(s.resp, s.resp[1] === '200');
  },

  rxresphdrs: async (args, s) => {
    onlyClient(s, args);
    noArgs(s, args);
    await s.rxRespHeaders();
  },

  rxrespbody: async (args, s) => {
    onlyClient(s, args);
    let max = 0;
    for (let i = 1; i < args.length; i++) {
      if (args[i] === '-max') max = Number(need(s, args, ++i, 'a length'));
      else s.ctx.fail(s.id, `unsupported: rxrespbody argument '${args[i]}'`);
    }
    await s.swallowBody(s.resp, true, max);
  },

  rxchunk: async (args, s) => {
    noArgs(s, args);
    const n = await s.rxChunk();
    if (n === 0) {
      s.bodylen = String(s.body?.length ?? 0);
      s.log(4, `bodylen = ${s.bodylen}`);
    }
  },

  send: async (args, s, env) => {
    arity(env, args, 1, 'send STRING');
    await s.tx('send', args[1]);
  },

  send_n: async (args, s, env) => {
    arity(env, args, 2, 'send_n NUMBER STRING');
    const n = Number(args[1]);
    for (let i = 0; i < n; i++) await s.tx('send_n', args[2]);
  },

  sendhex: async (args, s, env) => {
    arity(env, args, 1, 'sendhex HEX');
    const b = parseHex(args[1]);
    if (!b) return s.ctx.fail(s.id, 'Illegal hex string');
    await s.tx('sendhex', b.toString('latin1'));
  },

  recv: async (args, s, env) => {
    arity(env, args, 1, 'recv NUMBER');
    const data = await s.rx(Number(args[1]));
    s.ctx.log.dump(s.id, 4, 'recv', data);
  },

  chunked: async (args, s, env) => {
    arity(env, args, 1, 'chunked STRING');
    await s.tx('chunked', `${args[1].length.toString(16)}${NL}${args[1]}${NL}`);
  },

  chunkedlen: async (args, s, env) => {
    arity(env, args, 1, 'chunkedlen NUMBER');
    const n = Number(args[1]);
    if (n === 0) {
      await s.tx('chunked', `0${NL}${NL}`);
      return;
    }
    let data = '';
    for (let u = 0; u < n; u++) data += String.fromCharCode(0x30 + ((u % 16384) & 7));
    await s.tx('chunked', `${n.toString(16)}${NL}${data}${NL}`);
  },

  timeout: (args, s, env) => {
    arity(env, args, 1, 'timeout SECONDS');
    const t = Number(args[1]);
    if (!Number.isFinite(t) || t < 0) s.ctx.fail(s.id, `timeout: bad value '${args[1]}'`);
    s.timeoutMs = t * 1000;
  },

  expect: (args, s, env) => {
    arity(env, args, 3, 'expect A OP B');
    const [, l, op, r] = args;
    if (!isExpectOp(op)) s.ctx.fail(s.id, `EXPECT ${l} ${op} ${r}: unknown operator '${op}'`);
    const lhs = resolve(s, l);
    const rhs = resolve(s, r);
    const out = evalExpect(lhs, op, rhs);
    const shown = lhs ?? '<undef>';
    if ('error' in out) return s.ctx.fail(s.id, `EXPECT ${l} (${shown}) ${op} ${r}: ${out.error}`);
    if (!out.ok) s.ctx.fail(s.id, `EXPECT ${l} (${shown}) ${op} "${rhs ?? '<undef>'}" failed`);
    s.log(4, `EXPECT ${l} (${shown}) ${op} "${r}" match`);
  },

  expect_close: async (args, s) => {
    noArgs(s, args);
    s.log(4, 'Expecting close');
    const r = await (await s.rc()).waitClose(s.timeoutMs);
    if (r.kind === 'timeout') s.ioError('Expected close: timeout');
    if (r.kind === 'data') s.ioError(`Expecting close: read = 1, c = 0x${r.byte.toString(16).padStart(2, '0')}`);
    s.log(4, 'EOF, as expected');
  },

  gunzip: (args, s) => {
    noArgs(s, args);
    let body: string;
    try {
      body = gunzipText(s.body ?? '');
    } catch (e) {
      return s.ctx.fail(s.id, `Gunzip error: ${(e as Error).message}`);
    }
    s.body = body;
    s.bodylen = String(body.length);
    s.log(3, `new bodylen ${s.bodylen}`);
    s.ctx.log.dump(s.id, 4, 'body', body);
  },

  close: (args, s) => {
    onlyServer(s, args);
    noArgs(s, args);
    s.log(4, 'Closing connection');
    s.conn?.close();
    s.conn = undefined;
  },

  accept: async (args, s) => {
    onlyServer(s, args);
    noArgs(s, args);
    if (!s.accept) return s.ctx.fail(s.id, 'accept: no listening socket');
    s.conn?.close();
    s.conn = undefined;
    s.log(4, 'Accepting');
    s.conn = await s.accept();
  },

  loop: async (args, s, env) => {
    arity(env, args, 2, 'loop NUMBER SPEC');
    const n = Number(args[1]);
    if (!Number.isInteger(n) || n < 0) s.ctx.fail(s.id, `loop: bad count '${args[1]}'`);
    for (let m = 1; m <= n; m++) {
      s.log(4, `Loop #${m}`);
      await runSpec(env, args[2], HTTP_COMMANDS, s);
    }
  },

  fatal: (args, s) => {
    noArgs(s, args);
    s.fatal = true;
  },

  non_fatal: (args, s) => {
    noArgs(s, args);
    s.fatal = false;
  },

  write_body: async (args, s, env: Env) => {
    arity(env, args, 1, 'write_body FILE');
    const file = isAbsolute(args[1]) ? args[1] : join(s.ctx.tmpdir, args[1]);
    await writeFile(file, Buffer.from(s.body ?? '', 'latin1'));
  },
};

/**
 * Runs `spec` on one connection, as varnishtest's http_process: a fresh session (headers,
 * timeout, non_fatal all reset), and the connection it ends with (`accept` may replace it,
 * `close` drop it). An I/O error under non_fatal ends the spec quietly.
 */
export async function httpProcess(
  env: Env,
  spec: string,
  conn: Conn,
  peer: SessionPeer,
  isServer: boolean,
  accept?: () => Promise<Conn>,
): Promise<Conn | undefined> {
  const s = new HttpSession(env, conn, peer, isServer, accept);
  try {
    await runSpec(env, spec, HTTP_COMMANDS, s);
  } catch (e) {
    if (!(e instanceof SessionEnded)) {
      s.conn?.close();
      throw e;
    }
  }
  return s.conn;
}
