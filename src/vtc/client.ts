// `client cNAME [-connect ADDR] [-repeat N] [-keepalive] {SPEC} [-start|-wait|-run]`: a
// scripted user agent. It connects (by default to ${v1_sock}, expanded when it starts), runs
// the spec, closes; -repeat times, on one connection with -keepalive.

import { createConnection } from 'node:net';
import { AddressError, parseAddr, type SockAddr } from './addr.ts';
import { Conn } from './conn.ts';
import { BackgroundEntity } from './background.ts';
import { abortable, VtcAborted } from './context.ts';
import { httpProcess } from './http-commands.ts';
import type { SessionPeer } from './http-session.ts';
import { MacroError } from './macros.ts';
import type { Env } from './spec.ts';

const CONNECT_TIMEOUT_MS = 10_000;
/** Where a client connects unless told otherwise: a macro, expanded when it starts. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a VTC macro, not a JS template
const DEFAULT_CONNECT = '${v1_sock}';

export class VtcClient extends BackgroundEntity {
  connect = DEFAULT_CONNECT;
  repeat = 1;
  keepalive = false;
  spec: string | undefined;

  start(): void {
    const { ctx, name } = this;
    const spec = this.spec;
    if (spec === undefined) throw ctx.fail(name, 'Client has no spec to run');
    ctx.log.emit(name, 2, 'Starting client');
    const env: Env = { ctx, id: name, signal: ctx.signal };
    this.runInBackground(this.#body(env, spec));
  }

  wait(): Promise<void> {
    return this.waitForRun('Client not -started', 'Waiting for client');
  }

  async #body(env: Env, spec: string): Promise<void> {
    const { ctx, name } = this;
    let where: string;
    let addr: SockAddr;
    try {
      where = ctx.macros.expand(this.connect);
      addr = parseAddr(where);
    } catch (e) {
      if (e instanceof MacroError || e instanceof AddressError) ctx.fail(name, `Cannot connect: ${e.message}`);
      throw e;
    }
    const n = this.repeat;
    ctx.log.emit(name, 2, `Started on ${where} (${n} iterations${this.keepalive ? ' using keepalive' : ''})`);
    let conn: Conn | undefined;
    try {
      for (let i = 0; i < n; i++) {
        if (!this.keepalive || i === 0 || conn === undefined) {
          ctx.log.emit(name, 3, `Connect to ${where}`);
          conn = await openConn(env, addr, where);
        }
        const peer: SessionPeer =
          addr.kind === 'unix'
            ? { ip: '0.0.0.0', port: '0', path: addr.path }
            : { ip: conn.socket.remoteAddress ?? '', port: String(conn.socket.remotePort ?? ''), path: undefined };
        conn = await httpProcess(env, spec, conn, peer, false);
        if (!this.keepalive || i === n - 1) {
          ctx.log.emit(name, 3, 'closing fd');
          conn?.close();
          conn = undefined;
        }
      }
    } finally {
      conn?.close();
    }
    ctx.log.emit(name, 2, 'Ending');
  }
}

async function openConn(env: Env, addr: SockAddr, where: string): Promise<Conn> {
  const sock =
    addr.kind === 'unix'
      ? createConnection({ path: addr.path, allowHalfOpen: true })
      : createConnection({ host: addr.host, port: addr.port, allowHalfOpen: true });
  try {
    await abortable<void>(env.signal, (resolve, reject) => {
      const t = setTimeout(() => reject(new Error('connect timeout')), CONNECT_TIMEOUT_MS);
      sock.once('connect', () => resolve());
      sock.once('error', reject);
      return () => clearTimeout(t);
    });
  } catch (e) {
    sock.destroy();
    if (e instanceof VtcAborted) throw e;
    env.ctx.fail(env.id, `Failed to open ${where}: ${(e as Error).message}`);
  }
  sock.on('error', () => {});
  sock.setNoDelay(true);
  env.ctx.log.emit(env.id, 3, `connected to ${where}`);
  return new Conn(sock, env.signal);
}

export async function clientCommand(args: readonly string[], env: Env): Promise<void> {
  const { ctx, id } = env;
  const name = args[1];
  if (name === undefined || name[0] !== 'c') ctx.fail(id, `Client name must start with 'c' (got ${name ?? 'nothing'})`);
  let c = ctx.clients.get(name);
  if (!c) {
    c = new VtcClient(ctx, name);
    ctx.clients.set(name, c);
  }
  for (let i = 2; i < args.length; i++) {
    if (env.signal.aborted) throw new VtcAborted('stopped');
    const a = args[i];
    if (a === '-wait') {
      await c.wait();
      continue;
    }
    // Changing a running client first waits for it, as varnishtest does.
    if (c.running) await c.wait();
    if (a === '-connect') c.connect = args[++i] ?? '';
    else if (a === '-repeat') c.repeat = Number(args[++i]);
    else if (a === '-keepalive') c.keepalive = true;
    else if (a === '-start') c.start();
    else if (a === '-run') {
      c.start();
      await c.wait();
    } else if (a.startsWith('-')) ctx.fail(c.name, `unsupported: client argument '${a}'`);
    else c.spec = a;
  }
}
