// What crosses between the main thread and a sandbox's worker thread: a program's image (its
// code and settings: a structured clone on the thread's port, the code a SharedArrayBuffer,
// shared rather than copied), one request and one result (bytes in the thread's slot, wire.ts).

export type ProgramKind = 'wasm' | 'js';

/** A program version as a worker builds sandboxes from it. */
export interface ProgramImage {
  /** `vcl/program`: sandboxes of two VCLs never mix. */
  readonly id: string;
  /** Bumped by every load and live update: a worker holding an older one rebuilds. */
  readonly version: number;
  readonly kind: ProgramKind;
  /** The WebAssembly binary (globals exported for snapshots) or the JS source, UTF-8. */
  readonly code: Uint8Array;
  readonly maxMemoryMb: number;
  /** max_request_time, ms: a JS program's run stops inside its isolate a little before it. */
  readonly maxRequestMs: number;
  readonly ephemeral: boolean;
  readonly arguments: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
  /** State handed over by live update, for the program's restore callback. */
  readonly state: Uint8Array | null;
  /** Pages of linear memory an imported memory must start with (wasm). */
  readonly memoryPages: number;
}

export interface ProgramRequest {
  readonly method: string;
  readonly url: string;
  readonly argument: string;
  readonly config: string;
  /** Flat: name, value, name, value... */
  readonly headers: readonly string[];
  readonly body: Uint8Array;
  /**
   * Non-zero: the response may be streamed, its head and chunks posted on STREAM_CHANNEL under
   * this id as the program makes them (the last program of program()'s chain). 0: buffered.
   */
  readonly stream: number;
}

/** What a streaming program posts on STREAM_CHANNEL. */
export type StreamMessage =
  | { readonly id: number; readonly head: { status: number; contentType: string; headers: string[] } }
  | { readonly id: number; readonly chunk: Uint8Array };

export interface ProgramResponse {
  readonly status: number;
  readonly contentType: string;
  /** Flat: name, value, name, value... */
  readonly headers: string[];
  readonly body: Uint8Array;
  /** Chunks posted on STREAM_CHANNEL when the response was streamed, else -1. */
  readonly streamed: number;
}

/** How a program request ended, as the worker reports it. */
export type RunResult =
  | ({ readonly ok: true; readonly timing: RunTiming } & ProgramResponse)
  | { readonly ok: false; readonly kind: FailureKind; readonly error: string; readonly timing: RunTiming };

/**
 * `image`: the thread has no sandbox of that version, send the image (not a failure).
 * `timeout`: a JS program stopped by its isolate at max_request_time (counted as a timeout).
 */
export const FAILURE_KINDS = ['trap', 'memory', 'load', 'image', 'timeout'] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

export interface RunTiming {
  /** Time in the program, ms. */
  readonly execMs: number;
  /** Time the resets counted in `resets` took, ms. */
  readonly resetMs: number;
  /** The sandbox's memory after the request, bytes. */
  readonly memoryBytes: number;
  /** Resets this worker has done since it last reported. */
  readonly resets: number;
  /** The worker thread, for counting instances. */
  readonly thread: number;
  /** When the thread took the request and when it handed the answer back (epoch ms, µs precision). */
  readonly tookAt: number;
  readonly answeredAt: number;
  /** Lines the program logged (at most LOG_LINES). */
  readonly logs: readonly string[];
}

/** A program that logs more than this per request has the rest dropped. */
export const LOG_LINES = 32;

/** The largest self-request response a program can receive, bytes. */
export const SELF_RESPONSE_MAX = 8 * 1024 * 1024;

/** The name of the channel self-requests go through (worker to main thread). */
export const SELF_CHANNEL = 'shellac-compute-self-requests';

/** The name of the channel streamed responses go through (worker to main thread). */
export const STREAM_CHANNEL = 'shellac-compute-streams';
