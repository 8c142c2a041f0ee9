// The main thread's side of self-requests: programs' workers post them on a BroadcastChannel
// (host.ts), and this listener fetches them from this server (a Unix socket of one of its
// listeners, or an http prefix) and writes the answer where the worker waits. At most
// max_concurrent_requests are in flight per VCL: beyond that a self-request is answered 508
// at once, which is what stops a program that requests itself from piling up forever.

import { BroadcastChannel } from 'node:worker_threads';
import { Agent, request } from 'undici';
import { answerSelfRequest } from './host.ts';
import { SELF_CHANNEL, SELF_RESPONSE_MAX } from './image.ts';
import { selfRequesting } from './sandbox-thread.ts';
import type { VmodComputeCounters } from './interface.ts';

export interface SelfRequestTarget {
  readonly unixSocket: string;
  readonly prefix: string;
  readonly max: number;
  readonly counters: VmodComputeCounters;
  inFlight: number;
  agent: Agent | null;
}

/** Targets by VCL name: a program's id starts with its VCL's. */
const targets = new Map<string, SelfRequestTarget>();
let channel: BroadcastChannel | null = null;

/** A self-request may take this long before it is answered with status 0. */
const SELF_TIMEOUT_MS = 30_000;

export function setSelfRequestTarget(vclName: string, unixSocket: string, prefix: string, max: number, counters: VmodComputeCounters): void {
  targets.get(vclName)?.agent?.close();
  targets.set(vclName, { unixSocket, prefix: prefix.replace(/\/$/, ''), max, counters, inFlight: 0, agent: null });
  if (channel !== null) return;
  channel = new BroadcastChannel(SELF_CHANNEL);
  (channel as unknown as { unref(): void }).unref();
  channel.onmessage = (e: unknown) => {
    const m = (e as { data: { program: string; url: string; buffer: SharedArrayBuffer; thread: number } }).data;
    void serve(m.program, m.url, m.buffer, m.thread);
  };
}

export function dropSelfRequestTarget(vclName: string): void {
  targets.get(vclName)?.agent?.close();
  targets.delete(vclName);
}

async function serve(program: string, url: string, buffer: SharedArrayBuffer, thread: number): Promise<void> {
  const target = targets.get(program.slice(0, program.indexOf('/')));
  if (target === undefined) return answerSelfRequest(buffer, 0, new TextEncoder().encode('self-requests are not set up (init_self_requests)'));
  if (target.inFlight >= target.max) {
    target.counters.self_requests_refused++;
    return answerSelfRequest(buffer, 508, new TextEncoder().encode('too many self-requests in flight'));
  }
  target.counters.self_requests++;
  target.inFlight++;
  selfRequesting(thread, true);
  try {
    const path = url.startsWith('/') ? url : `/${url}`;
    const origin = target.unixSocket !== '' ? 'http://localhost' : target.prefix;
    if (target.unixSocket !== '') target.agent ??= new Agent({ connect: { socketPath: target.unixSocket } });
    const r = await request(`${origin}${path}`, {
      dispatcher: target.agent ?? undefined,
      headersTimeout: SELF_TIMEOUT_MS,
      bodyTimeout: SELF_TIMEOUT_MS,
      headers: { 'x-shellac-self-request': program },
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of r.body) {
      size += chunk.length;
      if (size > SELF_RESPONSE_MAX) break;
      chunks.push(chunk as Buffer);
    }
    answerSelfRequest(buffer, r.statusCode, Buffer.concat(chunks));
  } catch (e) {
    answerSelfRequest(buffer, 0, new TextEncoder().encode((e as Error).message));
  } finally {
    target.inFlight--;
    selfRequesting(thread, false);
  }
}
