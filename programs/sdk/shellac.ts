// The AssemblyScript side of Shellac's compute program interface (docs/compute.md). A program
// imports what it needs from here, registers its handler at top level (its initialisation) and
// re-exports the entry points the host calls:
//
//   import { Request, onRequest, respond } from './sdk/shellac';
//   export { alloc, handle_request, state_save, state_restore } from './sdk/shellac';
//   onRequest((req: Request): void => { respond(200, 'text/plain', 'Hello'); });
//
// Programs are built with --importMemory (the host bounds memory to max_memory) and
// --exportStart _initialize (the host runs the initialisation once, then snapshots).

@external('shellac', 'response')
declare function host_response(status: i32, ct: usize, ctLen: i32, body: usize, bodyLen: i32): void;
@external('shellac', 'begin_response')
declare function host_begin_response(status: i32, ct: usize, ctLen: i32): void;
@external('shellac', 'send_chunk')
declare function host_send_chunk(data: usize, len: i32): void;
@external('shellac', 'header')
declare function host_header(line: usize, len: i32): void;
@external('shellac', 'log')
declare function host_log(msg: usize, len: i32): void;
@external('shellac', 'init_data')
declare function host_init_data(which: i32, dst: usize): i32;
@external('shellac', 'self_request')
declare function host_self_request(url: usize, len: i32): i32;
@external('shellac', 'self_body')
declare function host_self_body(dst: usize): i32;
@external('shellac', 'state_put')
declare function host_state_put(data: usize, len: i32): void;

/** One request as the host hands it over. */
export class Request {
  method: string = '';
  url: string = '';
  /** The `arg` of program() or chain(). */
  argument: string = '';
  /** The `config` of program() or chain(). */
  config: string = '';
  headerNames: string[] = [];
  headerValues: string[] = [];
  /** The POSTed body, or the response body of the program before this one in a chain. */
  body: Uint8Array = new Uint8Array(0);

  /** The first value of a header (names compare without case), or '' when absent. */
  header(name: string): string {
    const lower = name.toLowerCase();
    for (let i = 0; i < this.headerNames.length; i++) {
      if (this.headerNames[i].toLowerCase() == lower) return this.headerValues[i];
    }
    return '';
  }

  bodyText(): string {
    return String.UTF8.decode(this.body.buffer);
  }
}

/** The answer of a self-request. */
export class SelfResponse {
  constructor(
    public status: i32,
    public body: Uint8Array,
  ) {}
  text(): string {
    return String.UTF8.decode(this.body.buffer);
  }
}

let handler: ((req: Request) => void) | null = null;
let stateSaver: (() => string) | null = null;
let stateRestorer: ((state: string) => void) | null = null;

export function onRequest(fn: (req: Request) => void): void {
  handler = fn;
}

/** Live update: what to hand the new version of this program (see onStateRestore). */
export function onStateSave(fn: () => string): void {
  stateSaver = fn;
}

export function onStateRestore(fn: (state: string) => void): void {
  stateRestorer = fn;
}

export function respond(status: i32, contentType: string, body: string): void {
  respondBytes(status, contentType, Uint8Array.wrap(String.UTF8.encode(body)));
}

export function respondBytes(status: i32, contentType: string, body: Uint8Array): void {
  const ct = String.UTF8.encode(contentType);
  host_response(status, changetype<usize>(ct), ct.byteLength, body.dataStart, body.byteLength);
}

/**
 * Starts a response sent in pieces with sendChunk(): when the program is the last of
 * program()'s chain, each piece goes to the client as it is made (else they are joined).
 */
export function beginResponse(status: i32, contentType: string): void {
  const ct = String.UTF8.encode(contentType);
  host_begin_response(status, changetype<usize>(ct), ct.byteLength);
}

export function sendChunk(text: string): void {
  const b = String.UTF8.encode(text);
  host_send_chunk(changetype<usize>(b), b.byteLength);
}

export function sendChunkBytes(bytes: Uint8Array): void {
  host_send_chunk(bytes.dataStart, bytes.byteLength);
}

/** Adds a response header; call before respond() or beginResponse(). */
export function setHeader(name: string, value: string): void {
  const line = String.UTF8.encode(name + ': ' + value);
  host_header(changetype<usize>(line), line.byteLength);
}

export function log(message: string): void {
  const m = String.UTF8.encode(message);
  host_log(changetype<usize>(m), m.byteLength);
}

/** The initialisation's `arguments` (0) or `environment` as NAME=value (1). */
function initList(which: i32): string[] {
  const n = host_init_data(which, 0);
  if (n <= 0) return [];
  const buf = new ArrayBuffer(n);
  host_init_data(which, changetype<usize>(buf));
  return String.UTF8.decode(buf).split('\0');
}

export function getArguments(): string[] {
  return initList(0);
}

export function getEnv(name: string): string {
  const env = initList(1);
  for (let i = 0; i < env.length; i++) {
    if (env[i].startsWith(name + '=')) return env[i].substring(name.length + 1);
  }
  return '';
}

/** A GET to this server (init_self_requests); status 0 when it could not be made. */
export function selfRequest(url: string): SelfResponse {
  const u = String.UTF8.encode(url);
  const status = host_self_request(changetype<usize>(u), u.byteLength);
  const len = host_self_body(0);
  const body = new Uint8Array(len);
  if (len > 0) host_self_body(body.dataStart);
  return new SelfResponse(status, body);
}

// --- entry points the host calls ---

export function alloc(size: i32): usize {
  return heap.alloc(<usize>size);
}

function text(ptr: usize, len: i32): string {
  return String.UTF8.decodeUnsafe(ptr, <usize>len);
}

/** head: method, url, argument, config, then header names and values, each ended by NUL. */
export function handle_request(head: usize, headLen: i32, body: usize, bodyLen: i32): void {
  const fields = text(head, headLen).split('\0');
  const req = new Request();
  req.method = fields[0];
  req.url = fields[1];
  req.argument = fields[2];
  req.config = fields[3];
  for (let i = 4; i + 1 < fields.length; i += 2) {
    req.headerNames.push(fields[i]);
    req.headerValues.push(fields[i + 1]);
  }
  const b = new Uint8Array(bodyLen);
  memory.copy(b.dataStart, body, <usize>bodyLen);
  req.body = b;
  const h = handler;
  if (h === null) {
    respond(500, 'text/plain', 'program registered no handler');
    return;
  }
  h(req);
}

export function state_save(): void {
  const s = stateSaver;
  if (s === null) return;
  const data = String.UTF8.encode(s());
  host_state_put(changetype<usize>(data), data.byteLength);
}

export function state_restore(ptr: usize, len: i32): void {
  const r = stateRestorer;
  if (r !== null) r(text(ptr, len));
}
