// What a sandbox may reach outside itself, on the worker side: the response it builds, its log
// lines, the initialisation's arguments and environment, and self-requests. A self-request is
// synchronous for the program (a WebAssembly import or an isolate callback cannot wait): the
// worker thread posts it to the main thread and blocks on an Atomics.wait until the answer is
// written into a shared buffer. Only the worker blocks; the proxy's event loop does the fetch.

import { BroadcastChannel, threadId } from 'node:worker_threads';
import { LOG_LINES, type ProgramImage, type ProgramResponse, SELF_CHANNEL, SELF_RESPONSE_MAX, STREAM_CHANNEL, type StreamMessage } from './image.ts';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The largest response body a program may make, bytes. */
export const RESPONSE_MAX = 256 * 1024 * 1024;

/** Header layout of the shared answer buffer: state, status, body length (Int32 each). */
const HEAD = 12;

/**
 * How long before max_request_time a run stops itself (a JS run by isolated-vm's timeout, a
 * host call that waits by giving up), so that its thread answers, as a timeout, before the
 * main thread gives up on it: a thread that holds an isolate must end by itself.
 */
export const STOP_MARGIN_MS = 50;

/** A host call gave up waiting at the request's time limit: the run is a timeout. */
export class HostTimeoutError extends Error {
  override readonly name = 'HostTimeoutError';
}

/** One request's view of the host. */
export class HostCall {
  status = 0;
  contentType = '';
  readonly headers: string[] = [];
  body: Uint8Array = new Uint8Array(0);
  responded = false;
  readonly logs: string[] = [];
  /** The last self-request's body, for the program to copy. */
  selfBody: Uint8Array = new Uint8Array(0);
  /** What the program's state_save callback handed over. */
  state: Uint8Array | null = null;
  readonly #image: ProgramImage;
  /** The request's stream id (0: buffer), and the chunks sent on it. */
  readonly #stream: number;
  #streamed = 0;
  #begun = false;
  /** Bytes of response body so far. */
  #bytes = 0;
  readonly #chunks: Uint8Array[] = [];
  /** When a waiting host call gives up (performance.now() ms): the run's stop, STOP_MARGIN_MS. */
  readonly #deadline: number;
  /** A host call gave up at the deadline: the run failed as a timeout. */
  expired = false;

  constructor(image: ProgramImage, stream = 0) {
    this.#image = image;
    this.#stream = stream;
    this.#deadline = performance.now() + image.maxRequestMs - STOP_MARGIN_MS;
  }

  respond(status: number, contentType: string, body: Uint8Array): void {
    if (this.#begun) throw new Error('respond() after beginResponse()');
    this.#count(body.length);
    this.status = status;
    this.contentType = contentType;
    this.body = body;
    this.responded = true;
  }

  /** A response is bounded: a program that sends without end fails instead of filling memory. */
  #count(n: number): void {
    this.#bytes += n;
    if (this.#bytes > RESPONSE_MAX) throw new Error(`the response is over ${RESPONSE_MAX} bytes`);
  }

  get begun(): boolean {
    return this.#begun;
  }

  /** Starts a response sent in chunks: streamed when the request allows, else buffered. */
  begin(status: number, contentType: string): void {
    if (this.#begun || this.responded) throw new Error('a response was already begun');
    this.status = status;
    this.contentType = contentType;
    if (/[\r\n\0]/.test(contentType)) throw new Error('a content type with a line break');
    this.#begun = true;
    this.responded = true;
    if (this.#stream !== 0) post({ id: this.#stream, head: { status, contentType, headers: this.headers } });
  }

  chunk(bytes: Uint8Array): void {
    if (!this.#begun) throw new Error('sendChunk() before beginResponse()');
    if (!(bytes instanceof Uint8Array)) throw new Error('a chunk must be bytes or a string');
    if (bytes.length === 0) return;
    this.#count(bytes.length);
    if (this.#stream === 0) {
      this.#chunks.push(bytes);
      return;
    }
    post({ id: this.#stream, chunk: bytes });
    this.#streamed++;
  }

  /** A `Name: value` line; a line without a colon is dropped. */
  header(line: string): void {
    const colon = line.indexOf(':');
    if (colon > 0) this.addHeader(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }

  /**
   * A response header, dropped (and logged) when it could not be written as one: a name that is
   * not an HTTP token, or a value with a line break or NUL that would split the response.
   */
  addHeader(name: string, value: string): void {
    if (!TOKEN.test(name) || /[\r\n\0]/.test(value)) {
      this.log(`header dropped: not a valid header line (${JSON.stringify(name).slice(0, 64)})`);
      return;
    }
    this.headers.push(name, value);
  }

  log(line: string): void {
    if (this.logs.length < LOG_LINES) this.logs.push(line.slice(0, 1024));
  }

  /** NUL-joined arguments (0) or NAME=value environment (1), UTF-8. */
  initData(which: number): Uint8Array {
    const list = which === 0 ? this.#image.arguments : Object.entries(this.#image.environment).map(([k, v]) => `${k}=${v}`);
    return new TextEncoder().encode(list.join('\0'));
  }

  /** Throws HostTimeoutError when no answer came before the run's deadline. */
  selfRequest(url: string): number {
    const answer = selfRequest(this.#image.id, url, this.#deadline - performance.now());
    if (answer === null) {
      this.expired = true;
      throw new HostTimeoutError(`a self-request (${url.slice(0, 200)}) was not answered within max_request_time`);
    }
    this.selfBody = answer.body;
    return answer.status;
  }

  response(): ProgramResponse {
    if (!this.responded) throw new Error('the program produced no response');
    if (/[\r\n\0]/.test(this.contentType)) throw new Error('the program answered a content type with a line break');
    if (!Number.isInteger(this.status) || this.status < 100 || this.status > 999) throw new Error(`the program answered a bad status ${this.status}`);
    if (this.#begun && this.#stream === 0) this.body = Buffer.concat(this.#chunks);
    return { status: this.status, contentType: this.contentType, headers: this.headers, body: this.body, streamed: this.#begun && this.#stream !== 0 ? this.#streamed : -1 };
  }
}

let streams: BroadcastChannel | null = null;

function post(message: StreamMessage): void {
  streams ??= new BroadcastChannel(STREAM_CHANNEL);
  (streams as unknown as { unref?: () => void }).unref?.();
  streams.postMessage(message);
}

let channel: BroadcastChannel | null = null;
let shared: SharedArrayBuffer | null = null;

/** The thread is ending: nothing of the host's may keep its event loop up. */
export function closeHostChannels(): void {
  streams?.close();
  channel?.close();
  streams = null;
  channel = null;
}

/**
 * Blocks this worker until the main thread answers (status 0: it could not be made), at most
 * `waitMs`: then null, and the buffer is left to the late answer (the next self-request gets a
 * new one), so that the thread can end its run by itself.
 */
function selfRequest(program: string, url: string, waitMs: number): { status: number; body: Uint8Array } | null {
  if (waitMs <= 0) return null;
  channel ??= new BroadcastChannel(SELF_CHANNEL);
  // Not ref'd: an idle worker must be free to exit.
  (channel as unknown as { unref?: () => void }).unref?.();
  shared ??= new SharedArrayBuffer(HEAD + SELF_RESPONSE_MAX);
  const head = new Int32Array(shared, 0, 3);
  Atomics.store(head, 0, 0);
  channel.postMessage({ program, url, buffer: shared, thread: threadId });
  if (Atomics.wait(head, 0, 0, waitMs) === 'timed-out') {
    shared = null;
    return null;
  }
  const length = Math.min(head[2], SELF_RESPONSE_MAX);
  return { status: head[1], body: new Uint8Array(shared, HEAD, length).slice() };
}

/** The main thread's side: writes an answer into the buffer a worker waits on. */
export function answerSelfRequest(buffer: SharedArrayBuffer, status: number, body: Uint8Array): void {
  const head = new Int32Array(buffer, 0, 3);
  const length = Math.min(body.length, SELF_RESPONSE_MAX);
  new Uint8Array(buffer, HEAD, length).set(body.subarray(0, length));
  head[1] = status;
  head[2] = length;
  Atomics.store(head, 0, 1);
  Atomics.notify(head, 0);
}
