// A minimal client of varnishd's CLI protocol, enough for the runner to drive real varnishd
// and Shellac the same way: each reply is a 13-byte head `STATUS LENGTH\n` (status in 3
// columns, length in 8), the body, and a newline; a connection opens with 107 and a challenge
// when a secret is set, answered by `auth` + hex SHA-256 of challenge, newline, secret file
// contents, challenge, newline. Kept small and separate so src/mgmt's client can replace it.

import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { Conn } from './conn.ts';

export interface CliResponse {
  readonly status: number;
  readonly body: string;
}

/** The status codes the runner looks at. */
export const CLIS_AUTH = 107;
export const CLIS_OK = 200;
export const CLIS_CANT = 300;

export class CliError extends Error {
  override name = 'CliError';
}

export function authResponse(challenge: string, secret: Buffer): string {
  const h = createHash('sha256');
  h.update(`${challenge}\n`, 'latin1');
  h.update(secret);
  h.update(`${challenge}\n`, 'latin1');
  return h.digest('hex');
}

export class CliClient {
  readonly #conn: Conn;

  /** Wraps a connected socket; the CLI has its own life, not stopped by a test's failure. */
  constructor(socket: Socket) {
    socket.on('error', () => {});
    this.#conn = new Conn(socket, new AbortController().signal);
  }

  /** Reads one reply; throws CliError on a timeout, a closed connection or a bad head. */
  async read(timeoutMs: number): Promise<CliResponse> {
    const head = await this.#take(13, timeoutMs);
    const m = /^(\d{3}) +(\d+) *\n$/.exec(head);
    if (!m) throw new CliError(`bad CLI reply head ${JSON.stringify(head)}`);
    const len = Number(m[2]);
    const rest = await this.#take(len + 1, timeoutMs);
    return { status: Number(m[1]), body: rest.slice(0, len) };
  }

  /** Sends one command (a newline is added) and reads its reply. */
  async ask(command: string, timeoutMs: number): Promise<CliResponse> {
    try {
      await this.#conn.write(`${command}\n`);
    } catch (e) {
      throw new CliError(`CLI write failed: ${(e as Error).message}`);
    }
    return this.read(timeoutMs);
  }

  /** Reads the greeting and answers the challenge if there is one; gives the banner reply. */
  async authenticate(readSecret: () => Promise<Buffer>, timeoutMs: number): Promise<CliResponse> {
    const hello = await this.read(timeoutMs);
    if (hello.status !== CLIS_AUTH) return hello;
    const challenge = hello.body.split('\n')[0];
    const reply = await this.ask(`auth ${authResponse(challenge, await readSecret())}`, timeoutMs);
    if (reply.status !== CLIS_OK) throw new CliError(`CLI authentication failed: ${reply.status} ${reply.body}`);
    return reply;
  }

  close(): void {
    this.#conn.close();
  }

  async #take(n: number, timeoutMs: number): Promise<string> {
    const r = await this.#conn.fill(n, timeoutMs);
    if (r === 'timeout') throw new CliError(`CLI timeout after ${timeoutMs} ms`);
    if (r === 'eof') throw new CliError('CLI connection closed');
    if (r === 'error') throw new CliError(`CLI connection failed: ${this.#conn.error?.message}`);
    return this.#conn.take(n).toString('latin1');
  }
}
