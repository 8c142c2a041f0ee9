// `server sNAME [-listen ADDR] [-repeat N] [-keepalive] [-dispatch] [-break] {SPEC}
// [-start|-wait]`: a scripted origin. It listens from its first -start until the test ends
// (the port stays the same across -wait/-start, as the VCL's backend points at it), takes one
// connection at a time and runs the spec on it, -repeat times. `-dispatch` (s0 only) runs the
// spec on every connection at once. Connections that come while no spec runs wait, as they
// would in the kernel's accept queue.

import { chmod, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { AddressError, parseAddr } from './addr.ts';
import { Conn } from './conn.ts';
import { abortable, inBackground, type TestContext, VtcAborted } from './context.ts';
import { httpProcess } from './http-commands.ts';
import type { SessionPeer } from './http-session.ts';
import type { Env } from './spec.ts';

export class VtcServer {
  readonly name: string;
  readonly ctx: TestContext;
  listen = '127.0.0.1 0';
  repeat = 1;
  keepalive = false;
  spec: string | undefined;
  /** The address as the VCL backend sees it, once listening. */
  host = '';
  port = '';
  #server: Server | undefined;
  #queue: Socket[] = [];
  #acceptWaiter: ((s: Socket) => void) | undefined;
  #run: Promise<void> | undefined;
  #stop: AbortController | undefined;
  #dispatched = 0;

  constructor(ctx: TestContext, name: string) {
    this.ctx = ctx;
    this.name = name;
  }

  get running(): boolean {
    return this.#run !== undefined;
  }

  get isUnix(): boolean {
    return this.listen.startsWith('/');
  }

  async start(dispatch: boolean): Promise<void> {
    const { ctx, name } = this;
    if (this.spec === undefined) return ctx.fail(name, 'Server has no spec to run');
    ctx.log.emit(name, 2, 'Starting server');
    if (!this.#server) await this.#listen();
    const stop = new AbortController();
    this.#stop = stop;
    const env: Env = { ctx, id: name, signal: AbortSignal.any([ctx.signal, stop.signal]) };
    const spec = this.spec;
    const body = dispatch ? this.#dispatch(env, spec) : this.#serve(env, spec);
    this.#run = inBackground(ctx, name, body);
  }

  /** Waits for the spec runs to finish. */
  async wait(): Promise<void> {
    if (!this.#run) this.ctx.fail(this.name, 'Server not -started');
    this.ctx.log.emit(this.name, 2, 'Waiting for server');
    await this.#run;
    this.#run = undefined;
    this.ctx.log.emit(this.name, 2, 'Server ended');
  }

  /** Stops the running spec at once; the listening socket stays. */
  async break(): Promise<void> {
    if (!this.#run) return;
    this.ctx.log.emit(this.name, 2, 'Breaking for server');
    this.#stop?.abort();
    await this.#run;
    this.#run = undefined;
  }

  /** Closes the listening socket (a new -listen, or the end of the test). */
  close(): void {
    this.#server?.close();
    this.#server = undefined;
    for (const s of this.#queue) s.destroy();
    this.#queue = [];
  }

  async #listen(): Promise<void> {
    const { ctx, name } = this;
    let addr: ReturnType<typeof parseAddr>;
    try {
      addr = parseAddr(this.listen);
    } catch (e) {
      if (e instanceof AddressError) ctx.fail(name, `Server listen address (${this.listen}) cannot be used: ${e.message}`);
      throw e;
    }
    const server = createServer({ allowHalfOpen: true }, (sock) => {
      sock.on('error', () => {});
      const w = this.#acceptWaiter;
      if (w) {
        this.#acceptWaiter = undefined;
        w(sock);
      } else {
        this.#queue.push(sock);
      }
    });
    if (addr.kind === 'unix') await rm(addr.path, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      if (addr.kind === 'unix') server.listen({ path: addr.path }, () => resolve());
      else server.listen({ host: addr.host, port: addr.port }, () => resolve());
    }).catch((e: Error) => ctx.fail(name, `Server listen address (${this.listen}) cannot be used: ${e.message}`));
    this.#server = server;
    ctx.cleanups.add(() => this.close());
    let sockMacro: string;
    if (addr.kind === 'unix') {
      // Anyone (varnishd's unprivileged child) may connect.
      await chmod(addr.path, 0o777);
      this.host = '0.0.0.0';
      this.port = '0';
      sockMacro = addr.path;
    } else {
      const a = server.address();
      if (a === null || typeof a === 'string') throw new Error('server has no TCP address');
      this.host = a.address;
      this.port = String(a.port);
      sockMacro = `${a.address}:${a.port}`;
    }
    for (const [k, v] of [
      ['addr', this.host],
      ['port', this.port],
      ['sock', sockMacro],
    ]) {
      ctx.macros.define(`${name}_${k}`, v);
      ctx.log.emit(name, 4, `macro def ${name}_${k}=${v}`);
    }
    ctx.log.emit(name, 1, `Listen on ${sockMacro}`);
  }

  #where(): string {
    return this.isUnix ? this.listen : `${this.host}:${this.port}`;
  }

  #accept(signal: AbortSignal): Promise<Socket> {
    const queued = this.#queue.shift();
    if (queued) return Promise.resolve(queued);
    return abortable(signal, (resolve) => {
      this.#acceptWaiter = resolve;
      return () => {
        if (this.#acceptWaiter === resolve) this.#acceptWaiter = undefined;
      };
    });
  }

  #peer(sock: Socket): SessionPeer {
    if (this.isUnix) return { ip: '0.0.0.0', port: '0', path: this.listen };
    return { ip: sock.remoteAddress ?? '', port: String(sock.remotePort ?? ''), path: undefined };
  }

  async #acceptConn(env: Env): Promise<Conn> {
    const sock = await this.#accept(env.signal);
    env.ctx.log.emit(env.id, 3, `accepted ${sock.remoteAddress ?? this.listen} ${sock.remotePort ?? ''}`);
    const conn = new Conn(sock, env.signal);
    return conn;
  }

  async #serve(env: Env, spec: string): Promise<void> {
    const { ctx, name } = this;
    const n = this.repeat;
    ctx.log.emit(name, 2, `Started on ${this.#where()} (${n} iterations${this.keepalive ? ' using keepalive' : ''})`);
    let conn: Conn | undefined;
    try {
      for (let i = 0; i < n; i++) {
        if (n > 1) ctx.log.emit(name, 3, `Iteration ${i}`);
        if (!this.keepalive || i === 0 || conn === undefined) conn = await this.#acceptConn(env);
        const peer = this.#peer(conn.socket);
        conn = await httpProcess(env, spec, conn, peer, true, () => this.#acceptConn(env));
        if (conn && (!this.keepalive || i === n - 1)) {
          ctx.log.emit(name, 3, 'shutting fd');
          conn.shutdownWrite();
          conn.close();
          conn = undefined;
        }
      }
    } finally {
      conn?.close();
    }
    ctx.log.emit(name, 2, 'Ending');
  }

  async #dispatch(env: Env, spec: string): Promise<void> {
    const { ctx, name } = this;
    if (name !== 's0') ctx.fail(name, 'server -dispatch only works on s0');
    ctx.log.emit(name, 2, `Dispatch started on ${this.#where()}`);
    const workers = new Set<Promise<void>>();
    try {
      for (;;) {
        const sock = await this.#accept(env.signal);
        const sub = `s${++this.#dispatched}`;
        ctx.log.emit(name, 3, `dispatch ${sock.remoteAddress ?? ''} ${sock.remotePort ?? ''} -> ${sub}`);
        const subEnv: Env = { ctx, id: sub, signal: env.signal };
        const conn = new Conn(sock, env.signal);
        const w = httpProcess(subEnv, spec, conn, this.#peer(sock), true)
          .then((c) => {
            c?.shutdownWrite();
            c?.close();
          })
          .catch((e: unknown) => {
            conn.close();
            return inBackground(ctx, sub, Promise.reject(e));
          })
          .finally(() => workers.delete(w));
        workers.add(w);
      }
    } finally {
      await Promise.all(workers);
    }
  }
}

export async function serverCommand(args: readonly string[], env: Env): Promise<void> {
  const { ctx, id } = env;
  const name = args[1];
  if (name === undefined || name[0] !== 's') ctx.fail(id, `Server name must start with 's' (got ${name ?? 'nothing'})`);
  let s = ctx.servers.get(name);
  if (!s) {
    s = new VtcServer(ctx, name);
    ctx.servers.set(name, s);
  }
  for (let i = 2; i < args.length; i++) {
    if (env.signal.aborted) throw new VtcAborted('stopped');
    const a = args[i];
    if (a === '-wait') {
      await s.wait();
      continue;
    }
    if (a === '-break') {
      await s.break();
      continue;
    }
    // Changing a running server first waits for it, as varnishtest does.
    if (s.running) await s.wait();
    if (a === '-repeat') s.repeat = Number(args[++i]);
    else if (a === '-keepalive') s.keepalive = true;
    else if (a === '-listen') {
      s.close();
      s.listen = args[++i] ?? '';
    } else if (a === '-start') await s.start(false);
    else if (a === '-dispatch') await s.start(true);
    else if (a.startsWith('-')) ctx.fail(s.name, `unsupported: server argument '${a}'`);
    else s.spec = a;
  }
}
