// `barrier bNAME cond|sock N [-cyclic]` and `barrier bNAME sync`: N parties meet before any
// goes on. A cond barrier is in-process; a sock barrier also listens on loopback (macros
// bNAME_addr/_port/_sock) so VCL can join through vmod vtc's barrier_sync: every party
// connects, and when N are connected each gets one byte and the connections close.
// Without -cyclic a barrier is used once; one party too many fails the test.

import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { abortable } from './context.ts';
import type { Env } from './spec.ts';

export class Barrier {
  readonly name: string;
  type: 'none' | 'cond' | 'sock' = 'none';
  expected = 0;
  cyclic = false;
  waiters = 0;
  #wakers: (() => void)[] = [];
  #server: Server | undefined;
  #conns: Socket[] = [];
  address: { host: string; port: number } | undefined;

  constructor(name: string) {
    this.name = name;
  }

  /** Counts one party in; resolves when all have arrived. */
  async syncCond(env: Env): Promise<void> {
    if (this.waiters === this.expected) {
      env.ctx.fail(env.id, `Barrier(${this.name}) use error: more waiters than the ${this.expected} expected`);
    }
    this.waiters++;
    if (this.waiters === this.expected) {
      env.ctx.log.emit(env.id, 4, `Barrier(${this.name}) wake ${this.expected}`);
      const wake = this.#wakers;
      this.#wakers = [];
      if (this.cyclic) this.waiters = 0;
      for (const w of wake) w();
      return;
    }
    env.ctx.log.emit(env.id, 4, `Barrier(${this.name}) wait ${this.waiters} of ${this.expected}`);
    await abortable(env.signal, (resolve) => {
      this.#wakers.push(resolve);
      return () => {};
    });
  }

  /** Starts the loopback listener of a sock barrier. */
  async listen(env: Env): Promise<void> {
    const server = createServer((sock) => this.#arrive(env, sock));
    this.#server = server;
    env.ctx.cleanups.add(() => this.close());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
    });
    const a = server.address();
    if (a === null || typeof a === 'string') throw new Error('barrier listener has no TCP address');
    this.address = { host: a.address, port: a.port };
    for (const [k, v] of [
      ['addr', a.address],
      ['port', String(a.port)],
      ['sock', `${a.address}:${a.port}`],
    ]) {
      env.ctx.macros.define(`${this.name}_${k}`, v);
      env.ctx.log.emit(this.name, 4, `macro def ${this.name}_${k}=${v}`);
    }
  }

  /** A local party of a sock barrier joins the way VCL does: connect, wait for the byte. */
  async syncSock(env: Env): Promise<void> {
    const a = this.address;
    if (!a) env.ctx.fail(env.id, `Barrier(${this.name}) is not listening`);
    const sock = createConnection({ host: a.host, port: a.port });
    await abortable<void>(env.signal, (resolve, reject) => {
      sock.once('data', () => resolve());
      sock.once('error', reject);
      sock.once('end', () => reject(new Error('barrier closed without releasing')));
      return () => sock.destroy();
    }).catch((e: unknown) => {
      if (e instanceof Error && e.name === 'VtcAborted') throw e;
      env.ctx.fail(env.id, `Barrier(${this.name}) sync failed: ${(e as Error).message}`);
    });
  }

  #arrive(env: Env, sock: Socket): void {
    sock.on('error', () => {});
    if (this.waiters === this.expected) {
      sock.destroy();
      env.ctx.record(this.name, `Barrier(${this.name}) use error: more waiters than the ${this.expected} expected`);
      return;
    }
    this.#conns.push(sock);
    this.waiters++;
    env.ctx.log.emit(this.name, 4, `Barrier(${this.name}) wait ${this.waiters} of ${this.expected}`);
    if (this.waiters < this.expected) return;
    env.ctx.log.emit(this.name, 4, `Barrier(${this.name}) wake ${this.expected}`);
    for (const c of this.#conns) c.end(Buffer.from([0]));
    this.#conns = [];
    if (this.cyclic) this.waiters = 0;
  }

  close(): void {
    this.#server?.close();
    for (const c of this.#conns) c.destroy();
    this.#conns = [];
  }
}

export async function barrierCommand(args: readonly string[], env: Env): Promise<void> {
  const { ctx, id } = env;
  const name = args[1];
  if (name === undefined || name[0] !== 'b') ctx.fail(id, `Barrier name must start with 'b' (got ${name ?? 'nothing'})`);
  let b = ctx.barriers.get(name);
  if (!b) {
    b = new Barrier(name);
    ctx.barriers.set(name, b);
  }
  for (let i = 2; i < args.length; i++) {
    const a = args[i];
    if (a === 'cond' || a === 'sock') {
      if (b.type !== 'none') ctx.fail(id, `Barrier(${name}) use error: already initialized`);
      const n = Number(args[++i]);
      if (!Number.isInteger(n) || n < 2) ctx.fail(id, `Barrier(${name}) needs a count of at least 2 (got ${args[i]})`);
      b.expected = n;
      b.type = a;
      if (a === 'sock') await b.listen(env);
    } else if (a === '-cyclic') {
      if (b.type === 'none') ctx.fail(id, `Barrier(${name}) use error: not initialized`);
      if (b.waiters > 0) ctx.fail(id, `Barrier(${name}) use error: already in use`);
      b.cyclic = true;
    } else if (a === 'sync') {
      if (b.type === 'none') ctx.fail(id, `Barrier(${name}) use error: not initialized`);
      if (b.type === 'cond') await b.syncCond(env);
      else await b.syncSock(env);
    } else {
      ctx.fail(id, `unsupported: barrier argument '${a}'`);
    }
  }
}
