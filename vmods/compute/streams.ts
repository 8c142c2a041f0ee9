// The main thread's side of streamed responses: a program that begins its response and sends
// it in chunks (the last program of program()'s chain) posts the head and each chunk on a
// BroadcastChannel as it makes them; this routes them by request id to the response body the
// fetch is reading, so the client gets the first bytes while the program still runs. The
// run's result, which comes on another channel and may overtake them, says how many chunks
// there were: the body ends when that many have come.

import { BroadcastChannel } from 'node:worker_threads';
import { STREAM_CHANNEL, type StreamMessage } from './image.ts';

export interface StreamHead {
  readonly status: number;
  readonly contentType: string;
  readonly headers: string[];
}

const sinks = new Map<number, StreamSink>();
let channel: BroadcastChannel | null = null;
let nextId = 1;

export class StreamSink implements AsyncIterable<Buffer> {
  readonly id: number;
  /** The head once it came (a program that streams begins with it). */
  head: StreamHead | null = null;
  /** Told of the head as it comes: set by the fetch waiting for the first of head or result. */
  onHead: ((h: StreamHead) => void) | null = null;
  readonly #chunks: Buffer[] = [];
  #received = 0;
  /** How many chunks the program sent, once its result says; -1 until then. */
  #expected = -1;
  #error: Error | null = null;
  #wake: (() => void) | null = null;

  constructor(id: number) {
    this.id = id;
  }

  receive(m: StreamMessage): void {
    if ('head' in m) {
      this.head = m.head;
      this.onHead?.(m.head);
      return;
    }
    this.#chunks.push(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.byteLength));
    this.#received++;
    this.#notify();
  }

  /** The program ended having sent `chunks`. */
  finish(chunks: number): void {
    this.#expected = chunks;
    this.#notify();
  }

  fail(message: string): void {
    this.#error ??= new Error(message);
    this.#notify();
    this.close();
  }

  abort(): void {
    this.fail('streamed response aborted by its reader');
  }

  close(): void {
    sinks.delete(this.id);
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer> {
    for (;;) {
      const chunk = this.#chunks.shift();
      if (chunk !== undefined) {
        yield chunk;
        continue;
      }
      if (this.#error !== null) throw this.#error;
      if (this.#expected >= 0 && this.#received >= this.#expected) {
        this.close();
        return;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }
}

/** A sink for one request's stream; close() it when the request ends without streaming. */
export function openStream(): StreamSink {
  if (channel === null) {
    channel = new BroadcastChannel(STREAM_CHANNEL);
    (channel as unknown as { unref(): void }).unref();
    channel.onmessage = (e: unknown) => {
      const m = (e as { data: StreamMessage }).data;
      sinks.get(m.id)?.receive(m);
    };
  }
  const sink = new StreamSink(nextId++);
  sinks.set(sink.id, sink);
  return sink;
}
