// A client of the admin protocol, for `shellac adm`, `shellac stat`, `shellac log` and the VTC
// runner. It speaks to Shellac and to real varnishd alike: connect, answer the 107 challenge
// from the secret file, then one command at a time, each answered by one framed reply. After
// log.stream, frames keep coming; read them with `frames()`.

import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { authResponse, readAdminInfo } from './admin-auth.ts';
import { CLIS, type CliReply, decodeReplyHead, joinCommand, REPLY_HEAD_BYTES } from './cli-protocol.ts';

export type AdminErrorCode = 'ECONNECT' | 'EAUTH' | 'EPROTO' | 'ETIMEDOUT' | 'ECLOSED';

export class AdminError extends Error {
  override name = 'AdminError';
  readonly code: AdminErrorCode;
  constructor(code: AdminErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface AdminClientOptions {
  readonly host: string;
  readonly port: number;
  /** The secret file, read when the server asks for authentication. */
  readonly secretFile?: string;
  /** The secret itself, instead of a file. */
  readonly secret?: Uint8Array;
  /** How long to wait for each reply; 60 s by default (cli_timeout). */
  readonly timeoutMs?: number;
}

export class AdminClient {
  readonly #socket: Socket;
  readonly #timeoutMs: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #closed = false;
  #error: Error | undefined;
  #wake: (() => void) | undefined;
  #turn: Promise<unknown> = Promise.resolve();
  /** The reply that ended authentication (or the greeting when none was asked): the banner. */
  banner = '';

  private constructor(socket: Socket, timeoutMs: number) {
    this.#socket = socket;
    this.#timeoutMs = timeoutMs;
    socket.on('data', (b: Buffer) => {
      this.#chunks.push(b);
      this.#buffered += b.length;
      this.#poke();
    });
    socket.on('error', (e) => {
      this.#error = e;
      this.#poke();
    });
    socket.on('close', () => {
      this.#closed = true;
      this.#poke();
    });
  }

  /** Connects and authenticates; throws AdminError (ECONNECT, EAUTH, EPROTO, ETIMEDOUT). */
  static async connect(opts: AdminClientOptions): Promise<AdminClient> {
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: opts.host || '127.0.0.1', port: opts.port });
      const timer = setTimeout(() => {
        s.destroy();
        reject(new AdminError('ETIMEDOUT', `connect to ${opts.host}:${opts.port} timed out`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        reject(new AdminError('ECONNECT', `cannot connect to ${opts.host}:${opts.port}: ${e.message}`));
      });
    });
    const client = new AdminClient(socket, timeoutMs);
    try {
      const hello = await client.read();
      if (hello.status === CLIS.AUTH) {
        const challenge = hello.body.split('\n')[0];
        const secret = opts.secret ?? (opts.secretFile !== undefined ? readSecret(opts.secretFile) : undefined);
        if (!secret) throw new AdminError('EAUTH', 'Authentication required');
        const reply = await client.send(`auth ${authResponse(challenge, secret)}`);
        if (reply.status !== CLIS.OK) throw new AdminError('EAUTH', `Rejected ${reply.status}`);
        client.banner = reply.body;
      } else if (hello.status === CLIS.OK) {
        client.banner = hello.body;
      } else {
        throw new AdminError('EPROTO', `Rejected ${hello.status}: ${hello.body.trim()}`);
      }
    } catch (e) {
      client.close();
      if (e instanceof AdminError) throw e;
      throw new AdminError('EPROTO', (e as Error).message);
    }
    return client;
  }

  /** Sends argv as one command (words quoted as needed) and reads its reply. */
  command(argv: readonly string[]): Promise<CliReply> {
    return this.send(joinCommand(argv));
  }

  /**
   * Sends a command line as it is (a here document may follow on more lines) and reads its
   * reply. Calls made before an earlier one is answered wait their turn.
   */
  send(line: string): Promise<CliReply> {
    const turn = this.#turn.then(() => {
      if (this.#closed) throw new AdminError('ECLOSED', 'the admin connection is closed');
      this.#socket.write(line.endsWith('\n') ? line : `${line}\n`);
      return this.read();
    });
    this.#turn = turn.catch(() => {});
    return turn;
  }

  /** Reads one reply; throws AdminError on timeout, close or a malformed head. */
  async read(timeoutMs = this.#timeoutMs): Promise<CliReply> {
    const head = (await this.#take(REPLY_HEAD_BYTES, timeoutMs)).toString('latin1');
    const h = decodeReplyHead(head);
    if (!h) throw new AdminError('EPROTO', `bad reply head ${JSON.stringify(head)}`);
    const rest = await this.#take(h.length + 1, timeoutMs);
    return { status: h.status, body: rest.subarray(0, h.length).toString('utf8') };
  }

  /** The frames of a stream (after log.stream), until the connection closes. */
  async *frames(): AsyncGenerator<CliReply> {
    for (;;) {
      try {
        yield await this.read(2 ** 31 - 1);
      } catch (e) {
        if (e instanceof AdminError && e.code === 'ECLOSED') return;
        throw e;
      }
    }
  }

  close(): void {
    this.#closed = true;
    this.#socket.destroy();
    this.#poke();
  }

  #poke(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  async #take(n: number, timeoutMs: number): Promise<Buffer> {
    const deadline = Date.now() + timeoutMs;
    while (this.#buffered < n) {
      if (this.#error) throw new AdminError('ECLOSED', `admin connection failed: ${this.#error.message}`);
      if (this.#closed) throw new AdminError('ECLOSED', 'admin connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new AdminError('ETIMEDOUT', `no reply within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    const all = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks);
    const out = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return out;
  }
}

function readSecret(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new AdminError('EAUTH', `cannot read secret file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/**
 * A vcl.inline command with the source as a here document (how varnishtest sends VCL): the end
 * marker is chosen so that no line of the source equals it. A here document is always the last
 * argument, so with a state the source goes quoted instead.
 */
export function vclInlineCommand(name: string, source: string, state?: string): string {
  if (state) return joinCommand(['vcl.inline', name, source, state]);
  const lines = source.split('\n');
  let marker = 'SHELLAC_VCL_END';
  for (let i = 0; lines.includes(marker); i++) marker = `SHELLAC_VCL_END_${i}`;
  const body = source.endsWith('\n') ? source : `${source}\n`;
  return `${joinCommand(['vcl.inline', name])} << ${marker}\n${body}${marker}`;
}

export interface Target {
  readonly host: string;
  readonly port: number;
  readonly secretFile?: string;
}

/**
 * Where to connect, from -T, -S and -n as varnishadm takes them: -T and -S win; otherwise the
 * work dir's admin file gives both (default work dir /tmp/shellac, as shellac serve's).
 */
export function resolveTarget(flags: { T?: string; S?: string; n?: string }): Target {
  if (flags.T !== undefined) {
    const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(flags.T);
    if (!m) throw new Error(`-T ${flags.T}: expected host:port`);
    const port = Number(m[3]);
    if (port > 65535) throw new Error(`-T ${flags.T}: bad port`);
    let secretFile = flags.S;
    if (secretFile === undefined && flags.n !== undefined) secretFile = readAdminInfo(flags.n).secretFile;
    return { host: m[1] ?? m[2] ?? '127.0.0.1', port, secretFile };
  }
  const info = readAdminInfo(flags.n ?? '/tmp/shellac');
  return { host: info.host, port: info.port, secretFile: flags.S ?? info.secretFile };
}
