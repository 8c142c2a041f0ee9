// The admin server: varnishd's CLI protocol on a TCP listener (-T, loopback by default) or any
// duplex stream (a -M connection, stdin). Each connection is greeted with a 107 challenge (see
// admin-auth.ts); before `auth` succeeds only help, ping, auth and quit are served, and any
// failure closes the connection. Commands run one at a time per connection, in order.
//
// Commands live in a registry: name → { syntax, help, min, max, json, run }. The generic ones
// are registered by admin-builtins.ts; the server registers vcl.*, ban, backend.* and
// storage.list with `admin.register(...)`. Arity is checked here (104 too few, 105 too many), a
// leading -j is taken off for commands that speak JSON, and a command that throws answers 300.

import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, isIPv4, isIPv6, type Server, type Socket } from 'node:net';
import { arch, release, type } from 'node:os';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { type AdminInfo, answerMatches, authResponse, newChallenge, writeAdminInfo, writeRandomSecret } from './admin-auth.ts';
import { CLIS, type CliReply, CommandReader, encodeReply, type IncomingCommand } from './cli-protocol.ts';
import { silentLogger } from '../common/log.ts';
import type { Params } from '../common/params.ts';
import type { EventPayload } from '../vmod/events.ts';

export { CLIS, type CliReply } from './cli-protocol.ts';

/** A live stream of frames after a command's reply (log.stream). */
export interface CliStreamSink {
  /** Sends one frame; false when it was dropped because the reader is too slow. */
  send(status: number, body: string): boolean;
  /** Ends the stream and closes the connection. */
  close(): void;
}

export interface CommandContext {
  /** The command took a leading -j (and it is not in `args`). */
  readonly json: boolean;
  /** The whole command as received, name and -j included (for the JSON envelope). */
  readonly argv: readonly string[];
  /** `ip:port` of the client, for logs. */
  readonly peer: string;
  /** The client has authenticated (or needs not). */
  readonly authed: boolean;
  /** Closes the connection once the reply is written (quit). */
  closeAfterReply(): void;
  /**
   * Turns the connection into a stream once the reply is written: `start` gets the sink and
   * returns what to do when the connection ends. Later input on the connection is ignored.
   */
  stream(start: (sink: CliStreamSink) => () => void): void;
}

export interface CommandSpec {
  /** The usage line help prints: `vcl.load <configname> <filename> [auto|cold|warm]`. */
  readonly syntax: string;
  /** One sentence or more for `help NAME`. */
  readonly help: string;
  /** Arguments after the name (and after a -j), at least and at most; max -1 for no limit. */
  readonly min: number;
  readonly max: number;
  /** Takes a leading -j and answers JSON then. */
  readonly json?: boolean;
  /** Served before authentication (help, ping, auth, quit). */
  readonly preAuth?: boolean;
  /** Left out of help's list (still served). */
  readonly hidden?: boolean;
  run(args: readonly string[], ctx: CommandContext): CliReply | Promise<CliReply>;
}

/**
 * Where an admin server's `cli` events go: the server's events (a VMOD may listen), or, in the
 * manager, the channel to the child, whose VMODs hear them (src/mgmt/manager.ts).
 */
export interface CliEventSink {
  readonly listening: { readonly cli: boolean };
  emit(name: 'cli', payload: EventPayload): void;
}

/**
 * Answers the commands nobody registered, for authenticated clients: the manager hands them
 * to its child (src/mgmt/manager.ts). Arity is the receiver's to check.
 */
export type CommandFallback = (argv: readonly string[], ctx: CommandContext) => Promise<CliReply>;

/** What start, stop and status act on; the server provides it. */
export interface Lifecycle {
  state(): 'running' | 'stopped';
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
}

export interface AdminServerOptions {
  readonly params: Params;
  readonly logger?: Logger;
  /** -S: the secret file; `none` turns authentication off. Absent: a random one in `workdir`. */
  readonly secretFile?: string;
  /** -n: where a generated secret and the admin address (for `shellac adm -n`) are written. */
  readonly workdir?: string;
  /** The text of `banner` and of a successful auth. */
  readonly banner?: string;
  /** How long a failed auth waits before its answer (and the close): slows down guessing. */
  readonly authFailDelayMs?: number;
  /** The longest command accepted, here documents included. */
  readonly maxCommandBytes?: number;
}

const UNKNOWN = "Unknown request.\nType 'help' for more info.\n";
const DEFAULT_MAX_COMMAND = 16 * 1024 * 1024;
/**
 * Before authentication a client may send only short lines (`auth` and its 64 hex digits fit
 * many times over), few commands ahead of their answers, and only so many such clients may
 * wait at once: bytes from an unknown peer must not grow our memory or take every descriptor.
 */
const PRE_AUTH_MAX_COMMAND = 4096;
const MAX_QUEUED_COMMANDS = 256;
const PRE_AUTH_QUEUED_COMMANDS = 4;
const MAX_UNAUTHED_CONNECTIONS = 64;
/** A stream reader this far behind loses frames instead of growing our memory. */
const STREAM_HIGH_WATER = 1024 * 1024;

/** varnishd's JSON envelope: `[ 2, argv, time, item... ]`. */
export function jsonReply(argv: readonly string[], ...items: unknown[]): CliReply {
  const head = `[ 2, ${JSON.stringify(argv).replace(/","/g, '", "')}, ${(Date.now() / 1000).toFixed(3)}`;
  if (items.length === 1 && (typeof items[0] !== 'object' || items[0] === null)) {
    return { status: CLIS.OK, body: `${head}, ${JSON.stringify(items[0])}\n]\n` };
  }
  if (items.length === 0) return { status: CLIS.OK, body: `${head}\n]\n` };
  const body = items.map((it) => `  ${JSON.stringify(it, null, 2).replace(/\n/g, '\n  ')}`).join(',\n');
  return { status: CLIS.OK, body: `${head},\n${body}\n]\n` };
}

export function ok(body = ''): CliReply {
  return { status: CLIS.OK, body };
}

export function fail(status: number, body: string): CliReply {
  return { status, body };
}

export class AdminServer {
  readonly params: Params;
  readonly logger: Logger;
  readonly #commands = new Map<string, CommandSpec>();
  readonly #opts: AdminServerOptions;
  readonly #conns = new Set<Duplex>();
  #server: Server | undefined;
  #secretFile: string | undefined;
  #lifecycle: Lifecycle | undefined;
  #fallback: CommandFallback | undefined;
  /** Connections still waiting to authenticate. */
  unauthed = 0;
  /** Where `cli` server events go, when VMODs may listen. */
  events: CliEventSink | null = null;

  constructor(opts: AdminServerOptions) {
    this.#opts = opts;
    this.params = opts.params;
    this.logger = opts.logger ?? silentLogger();
    if (opts.secretFile !== undefined && opts.secretFile !== 'none') this.#secretFile = opts.secretFile;
  }

  /** Adds a command; a name can be registered once (unregister first to replace it). */
  register(name: string, spec: CommandSpec): void {
    if (!/^[a-z][a-z0-9_.]*$/.test(name)) throw new Error(`bad admin command name '${name}'`);
    if (this.#commands.has(name)) throw new Error(`admin command '${name}' is already registered`);
    this.#commands.set(name, spec);
  }

  unregister(name: string): boolean {
    return this.#commands.delete(name);
  }

  command(name: string): CommandSpec | undefined {
    return this.#commands.get(name);
  }

  /** Registered names, sorted. */
  commandNames(): string[] {
    return [...this.#commands.keys()].sort();
  }

  setLifecycle(l: Lifecycle): void {
    this.#lifecycle = l;
  }

  get lifecycle(): Lifecycle | undefined {
    return this.#lifecycle;
  }

  setFallback(f: CommandFallback): void {
    this.#fallback = f;
  }

  get fallback(): CommandFallback | undefined {
    return this.#fallback;
  }

  /** The secret file auth reads (generated by listen() when none was given), or undefined. */
  get secretFile(): string | undefined {
    return this.#secretFile;
  }

  get authRequired(): boolean {
    return this.#opts.secretFile !== 'none';
  }

  get banner(): string {
    return this.#opts.banner ?? defaultBanner();
  }

  /**
   * Listens on host:port (host '' means 127.0.0.1; port 0 picks one) and returns the bound
   * address. Writes a random secret into the work dir when no -S was given, and the address
   * for `shellac adm -n`.
   */
  async listen(host: string, port: number): Promise<{ host: string; port: number }> {
    this.#ensureSecret();
    const bindHost = host === '' ? '127.0.0.1' : host;
    if (!isLoopback(bindHost)) this.logger.warn({ host: bindHost }, 'admin listener is not on loopback');
    const server = createServer((socket) => this.handle(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, bindHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    const addr = server.address();
    const bound = typeof addr === 'object' && addr ? { host: addr.address, port: addr.port } : { host: bindHost, port };
    if (this.#opts.workdir !== undefined) {
      const info: AdminInfo = { host: bound.host, port: bound.port, secretFile: this.#secretFile };
      writeAdminInfo(this.#opts.workdir, info);
    }
    this.logger.info({ admin: `${bound.host}:${bound.port}` }, 'admin listener ready');
    return bound;
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    for (const c of this.#conns) c.destroy();
    this.#conns.clear();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Serves the protocol on a connected stream: a -T socket, a -M connection to a test runner,
   * or stdin/stdout joined. `trusted` skips authentication (a local terminal).
   */
  handle(stream: Duplex, opts: { trusted?: boolean; peer?: string } = {}): void {
    this.#ensureSecret();
    const socket = stream as Partial<Socket>;
    const peer = opts.peer ?? (socket.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort}` : 'local');
    new Connection(this, stream, peer, !this.authRequired || opts.trusted === true).start();
  }

  /** @internal bookkeeping for close(). */
  track(stream: Duplex): void {
    this.#conns.add(stream);
    stream.once('close', () => this.#conns.delete(stream));
  }

  /** @internal */
  get maxCommandBytes(): number {
    return this.#opts.maxCommandBytes ?? DEFAULT_MAX_COMMAND;
  }

  /** @internal */
  get authFailDelayMs(): number {
    return this.#opts.authFailDelayMs ?? 1000;
  }

  #ensureSecret(): void {
    if (!this.authRequired || this.#secretFile !== undefined) return;
    if (this.#opts.workdir === undefined) throw new Error('the admin listener needs a secret file (-S) or a work dir (-n) to write one into');
    this.#secretFile = writeRandomSecret(this.#opts.workdir);
  }
}

/** One client of the admin server. */
class Connection {
  readonly #admin: AdminServer;
  readonly #stream: Duplex;
  readonly #peer: string;
  #authed: boolean;
  #challenge = '';
  readonly #queue: IncomingCommand[] = [];
  #busy = false;
  #closing = false;
  #streaming = false;
  #onStreamEnd: (() => void) | undefined;
  #reader: CommandReader | undefined;
  /** Counted in the admin's unauthenticated connections. */
  #counted = false;

  constructor(admin: AdminServer, stream: Duplex, peer: string, authed: boolean) {
    this.#admin = admin;
    this.#stream = stream;
    this.#peer = peer;
    this.#authed = authed;
  }

  start(): void {
    const admin = this.#admin;
    const reader = new CommandReader(this.#authed ? admin.maxCommandBytes : Math.min(PRE_AUTH_MAX_COMMAND, admin.maxCommandBytes));
    this.#reader = reader;
    admin.track(this.#stream);
    if (!this.#authed) {
      if (admin.unauthed >= MAX_UNAUTHED_CONNECTIONS) {
        admin.logger.warn({ peer: this.#peer }, 'admin connection refused: too many waiting to authenticate');
        this.#stream.on('error', () => {});
        this.#stream.destroy();
        return;
      }
      admin.unauthed++;
      this.#counted = true;
    }
    this.#stream.setEncoding('utf8');
    this.#stream.on('error', () => {});
    this.#stream.on('close', () => {
      this.#uncount();
      this.#closing = true;
      this.#onStreamEnd?.();
      this.#onStreamEnd = undefined;
    });
    this.#stream.on('data', (text: string) => {
      if (this.#closing || this.#streaming) return;
      try {
        for (const cmd of reader.push(text)) this.#queue.push(cmd);
        if (this.#queue.length > (this.#authed ? MAX_QUEUED_COMMANDS : PRE_AUTH_QUEUED_COMMANDS)) throw new RangeError('too many commands sent ahead of their answers');
      } catch (e) {
        this.#admin.logger.warn({ peer: this.#peer, err: (e as Error).message }, 'admin connection closed: bad input');
        this.#queue.length = 0;
        this.#write(CLIS.COMMS, `${(e as Error).message}\n`);
        this.#end();
        return;
      }
      this.#drain().catch((e: unknown) => {
        // A bug of ours in answering: this connection ends, the server goes on.
        this.#admin.logger.error({ err: e, peer: this.#peer }, 'admin connection failed');
        this.#end();
      });
    });
    if (this.#authed) {
      this.#write(CLIS.OK, this.#admin.banner);
    } else {
      this.#challenge = newChallenge();
      this.#write(CLIS.AUTH, `${this.#challenge}\n\nAuthentication required.\n`);
      // A connection that never authenticates is not kept: cli_timeout bounds the wait.
      const timer = setTimeout(() => {
        if (!this.#authed) this.#end();
      }, this.#admin.params.values.cli_timeout * 1000);
      timer.unref();
      this.#stream.once('close', () => clearTimeout(timer));
    }
  }

  async #drain(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      while (this.#queue.length > 0 && !this.#closing && !this.#streaming) {
        await this.#one(this.#queue.shift()!);
      }
    } finally {
      this.#busy = false;
    }
  }

  async #one(cmd: IncomingCommand): Promise<void> {
    let closeAfter = false;
    let streamStart: ((sink: CliStreamSink) => () => void) | undefined;
    let reply: CliReply;
    const started = performance.now();
    const name = 'argv' in cmd ? (cmd.argv[0] ?? '') : '';
    const wasAuthed = this.#authed;
    // Read before the command runs: `param.set syslog_cli_traffic off` is itself logged.
    const logTraffic = this.#admin.params.values.syslog_cli_traffic && name !== '';
    if ('syntaxError' in cmd) {
      reply = { status: CLIS.SYNTAX, body: `${UNKNOWN}Syntax Error: ${cmd.syntaxError}\n` };
    } else if (name === 'auth' && !this.#authed) {
      reply = await this.#auth(cmd.argv.slice(1));
    } else {
      reply = await this.#dispatch(cmd.argv, {
        authed: this.#authed,
        closeAfterReply: () => {
          closeAfter = true;
        },
        stream: (start) => {
          streamStart = start;
        },
      });
    }
    const events = this.#admin.events;
    if (events?.listening.cli && name !== '') this.#emitCli(events, cmd, reply, wasAuthed, performance.now() - started);
    if (this.#closing) return;
    this.#write(reply.status, reply.body);
    if (logTraffic) this.#admin.logger.info({ peer: this.#peer, command: name, status: reply.status }, 'admin command');
    if (closeAfter || reply.status === CLIS.CLOSE || (!this.#authed && reply.status !== CLIS.OK)) {
      this.#end();
      return;
    }
    if (streamStart) this.#startStream(streamStart);
  }

  /** The `cli` event: a failed auth and a command refused before auth are outcomes of their own. */
  #emitCli(events: CliEventSink, cmd: IncomingCommand, reply: CliReply, wasAuthed: boolean, ms: number): void {
    const argv = 'argv' in cmd ? cmd.argv : [];
    const command = argv[0] ?? '';
    let outcome = reply.status === CLIS.OK ? 'ok' : 'error';
    if (command === 'auth' && !wasAuthed) outcome = reply.status === CLIS.OK ? 'ok' : 'auth_failed';
    // Before auth only a few commands are served; any other is refused whatever its name (the
    // manager cannot tell which ones its child knows).
    else if (!wasAuthed && this.#admin.command(command)?.preAuth !== true) outcome = 'denied';
    // The response to a challenge is as good as the secret: never handed on.
    const args = command === 'auth' ? [] : argv.slice(1);
    events.emit('cli', { command, args, status: reply.status, outcome, durationMs: Math.round(ms * 1000) / 1000, peer: this.#peer });
  }

  async #dispatch(argv: readonly string[], hooks: Pick<CommandContext, 'authed' | 'closeAfterReply' | 'stream'>): Promise<CliReply> {
    const name = argv[0];
    const spec = this.#admin.command(name);
    const fallback = this.#admin.fallback;
    if (!spec && this.#authed && fallback) {
      try {
        return await fallback(argv, { json: false, argv, peer: this.#peer, ...hooks });
      } catch (e) {
        this.#admin.logger.error({ err: e, command: name }, 'admin command failed');
        return fail(CLIS.CANT, `${(e as Error).message}\n`);
      }
    }
    if (!spec || (!this.#authed && !spec.preAuth)) {
      const lower = name.toLowerCase();
      return fail(CLIS.UNKNOWN, lower !== name && this.#admin.command(lower) ? `${UNKNOWN}all commands are in lower-case.\n` : UNKNOWN);
    }
    let args = argv.slice(1);
    const json = spec.json === true && args[0] === '-j';
    if (json) args = args.slice(1);
    if (args.length < spec.min) return fail(CLIS.TOOFEW, 'Too few parameters\n');
    if (spec.max >= 0 && args.length > spec.max) return fail(CLIS.TOOMANY, 'Too many parameters\n');
    try {
      return await spec.run(args, { json, argv, peer: this.#peer, ...hooks });
    } catch (e) {
      this.#admin.logger.error({ err: e, command: name }, 'admin command failed');
      return fail(CLIS.CANT, `${(e as Error).message}\n`);
    }
  }

  async #auth(args: readonly string[]): Promise<CliReply> {
    if (args.length < 1) return fail(CLIS.TOOFEW, 'Too few parameters\n');
    if (args.length > 1) return fail(CLIS.TOOMANY, 'Too many parameters\n');
    const file = this.#admin.secretFile;
    if (file === undefined) return fail(CLIS.CANT, 'Secret file not configured\n');
    let secret: Buffer;
    try {
      secret = await readFile(file);
    } catch (e) {
      this.#admin.logger.error({ err: e, file }, 'cannot read the admin secret file');
      return fail(CLIS.CANT, `Cannot read secret file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})\n`);
    }
    if (!answerMatches(authResponse(this.#challenge, secret), args[0])) {
      this.#admin.logger.warn({ peer: this.#peer }, 'admin authentication failure');
      await new Promise((r) => setTimeout(r, this.#admin.authFailDelayMs));
      return fail(CLIS.CLOSE, '');
    }
    this.#authed = true;
    this.#challenge = '';
    this.#uncount();
    this.#reader?.setLimit(this.#admin.maxCommandBytes);
    return ok(this.#admin.banner);
  }

  #startStream(start: (sink: CliStreamSink) => () => void): void {
    this.#streaming = true;
    this.#queue.length = 0;
    let dropped = 0;
    const sink: CliStreamSink = {
      send: (status, body) => {
        if (this.#closing) return false;
        if (this.#stream.writableLength > STREAM_HIGH_WATER) {
          dropped++;
          return false;
        }
        if (dropped > 0) {
          this.#write(CLIS.TRUNCATED, `${dropped} records dropped: the reader was too slow\n`);
          dropped = 0;
        }
        this.#write(status, body);
        return true;
      },
      close: () => this.#end(),
    };
    this.#onStreamEnd = start(sink);
  }

  #uncount(): void {
    if (!this.#counted) return;
    this.#counted = false;
    this.#admin.unauthed--;
  }

  #write(status: number, body: string): void {
    if (!this.#stream.writableEnded && !this.#stream.destroyed) this.#stream.write(encodeReply(status, body));
  }

  #end(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#stream.end();
    // A peer that never reads must not keep the socket forever.
    setTimeout(() => this.#stream.destroy(), 5000).unref();
  }
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  if (isIPv4(host)) return host.startsWith('127.');
  return isIPv6(host) && host.replace(/^::ffff:/, '').startsWith('127.');
}

let cachedVersion: string | undefined;

function shellacVersion(): string {
  if (cachedVersion === undefined) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
      cachedVersion = pkg.version ?? 'unknown';
    } catch {
      cachedVersion = 'unknown';
    }
  }
  return cachedVersion;
}

/** The greeting after a successful auth, laid out as varnishd's. */
export function defaultBanner(): string {
  return [
    '-----------------------------',
    'Shellac CLI 1.0',
    '-----------------------------',
    `${type()},${release()},${arch()},-smalloc,node-${process.version}`,
    `shellac ${shellacVersion()}`,
    '',
    "Type 'help' for command list.",
    "Type 'quit' to close CLI session.",
    '',
  ].join('\n');
}
