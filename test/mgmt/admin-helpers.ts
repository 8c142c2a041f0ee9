// Helpers for admin tests: an AdminServer on a loopback port with a secret in a temp dir, a
// logger whose lines the test can read, and a raw socket reader for checking bytes on the wire.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { AdminServer, type AdminServerOptions } from '../../src/mgmt/admin.ts';
import { registerBuiltins } from '../../src/mgmt/admin-builtins.ts';
import { CounterRegistry } from '../../src/mgmt/counters.ts';
import { createLogger, LogHub } from '../../src/common/log.ts';
import { Params } from '../../src/common/params.ts';

export interface TestAdmin {
  readonly admin: AdminServer;
  readonly port: number;
  readonly dir: string;
  readonly secretFile: string;
  readonly params: Params;
  readonly counters: CounterRegistry;
  readonly hub: LogHub;
  /** Parsed pino lines written so far. */
  readonly logLines: Record<string, unknown>[];
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'shellac-mgmt-'));
}

export async function startAdmin(opts: Partial<AdminServerOptions> & { secret?: string } = {}): Promise<TestAdmin> {
  const dir = tempDir();
  let secretFile = opts.secretFile;
  if (secretFile === undefined && opts.secret !== undefined) {
    secretFile = join(dir, 'secret');
    writeFileSync(secretFile, opts.secret, { mode: 0o600 });
  }
  const logLines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(l));
      cb();
    },
  });
  const params = new Params();
  const counters = new CounterRegistry();
  const hub = new LogHub();
  const admin = new AdminServer({
    params,
    logger: createLogger({ level: 'info', stream }),
    workdir: join(dir, 'work'),
    authFailDelayMs: 200,
    ...opts,
    secretFile,
  });
  registerBuiltins(admin, { counters, logHub: hub });
  const { port } = await admin.listen('127.0.0.1', 0);
  return { admin, port, dir, secretFile: admin.secretFile ?? '', params, counters, hub, logLines };
}

/** A raw connection that reads whole replies, for checking the wire format itself. */
export class RawCli {
  readonly socket: Socket;
  #buf = Buffer.alloc(0);
  #closed = false;
  #waiters: (() => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (b: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, b]);
      this.#wake();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    socket.on('error', () => {});
  }

  static open(port: number): Promise<RawCli> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port }, () => resolve(new RawCli(s)));
      s.once('error', reject);
    });
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }

  async #wait(pred: () => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (this.#closed) throw new Error('closed');
      if (Date.now() > deadline) throw new Error('timeout');
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  /** One reply: the raw 13-byte head, the status, and the body. */
  async reply(ms = 5000): Promise<{ head: string; status: number; body: string }> {
    await this.#wait(() => this.#buf.length >= 13, ms);
    const head = this.#buf.subarray(0, 13).toString('latin1');
    const len = Number(head.slice(4).trim());
    await this.#wait(() => this.#buf.length >= 13 + len + 1, ms);
    const body = this.#buf.subarray(13, 13 + len).toString('utf8');
    if (this.#buf[13 + len] !== 0x0a) throw new Error('reply not followed by a newline');
    this.#buf = this.#buf.subarray(13 + len + 1);
    return { head, status: Number(head.slice(0, 3)), body };
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** Resolves when the server has closed the connection. */
  async closed(ms = 5000): Promise<void> {
    await this.#wait(() => false, ms).catch((e: Error) => {
      if (e.message !== 'closed') throw e;
    });
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.socket.destroy();
  }
}
