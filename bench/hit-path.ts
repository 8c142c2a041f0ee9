// The hit path without sockets: Shellac's own work for one cache hit (request object, vcl_recv,
// vcl_hash, lookup, vcl_hit, vcl_deliver, response headers), run against stand-ins for the HTTP/1
// layer's request and response (src/http1), so that what it costs can be measured to the tenth of a microsecond on a
// machine too busy for wrk to tell. bench/proxy.ts says what a hit costs with node:http around
// it; this says how much of that is ours. Run: `node bench/hit-path.ts`.
//
// It runs three ways, taking turns round after round: plain (no server-event subscriber: a
// `request` event then costs one boolean test), with the latency histograms of /metrics, and
// with one trivial `request` subscriber (the payload is built and delivered after the work;
// each round waits for the deliveries, so their cost is in the figure). The figure is CPU time
// per hit, which a busy machine disturbs far less than wall time. A fourth way runs the hit
// through the HTTP/1 layer (src/http1: parser, connection loop, response writer) on a stand-in
// socket: bytes in, bytes out, no syscalls. `--wire` runs only that one.

import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import { loadavg } from 'node:os';
import type { AddressInfo, Socket } from 'node:net';
import { LatencyMetrics } from '../src/proxy/latency.ts';
import { Params } from '../src/common/params.ts';
import { ClientRequest } from '../src/proxy/client.ts';
import { Shellac } from '../src/proxy/server.ts';
import { latestVersion } from '../src/vmod/events.ts';

const N = 200_000;
const ROUNDS = 7;
const BATCH = 100;
const BODY = Buffer.alloc(1024, 'x');

const origin = createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'max-age=3600' });
  res.end(BODY);
});
await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
const originPort = (origin.address() as AddressInfo).port;

const srv = new Shellac({ params: new Params([]), storageBytes: 64 * 1024 * 1024 });
await srv.vcls.load('boot', { source: `vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "${originPort}"; }\n` });

// Stand-ins: what the client state machine reads of the HTTP/1 layer's request and response.
const socket = { remoteAddress: '127.0.0.1', remotePort: 40000, localAddress: '127.0.0.1', localPort: 6081 };
let written = 0;
function exchange(): never {
  const res = {
    headersSent: false,
    destroyed: false,
    finished: false,
    close: false,
    statusCode: 200,
    statusMessage: '',
    writeHead(_status: number, _reason: string, headers: string[]) {
      written += headers.length;
      this.headersSent = true;
    },
    write: () => true,
    end(chunk?: Buffer) {
      written += chunk?.length ?? 0;
    },
    endAll(chunks: Buffer[]) {
      for (const c of chunks) written += c.length;
    },
    flushHead: () => {},
    drained: () => Promise.resolve(),
    destroy: () => {},
  };
  const req = {
    head: {
      method: 'GET',
      url: '/hit',
      proto: 'HTTP/1.1',
      protover: 11,
      names: ['Host', 'User-Agent', 'Accept'],
      lower: ['host', 'user-agent', 'accept'],
      values: ['127.0.0.1:6081', 'wrk', '*/*'],
      body: { kind: 'none' },
      close: false,
      expect100: false,
    },
    res,
    socket,
    listener: null,
    want100: false,
    hasBody: false,
    bodyState: 'done',
    discardBody: () => undefined,
    done: () => {},
    closeAfter: () => {},
  };
  return req as never;
}

function one(): void {
  const req = exchange();
  const entry = srv.vcls.enter()!;
  const pending = new ClientRequest(srv, entry, req).run();
  if (pending !== undefined) throw new Error('a hit went async');
}

// The first request is the miss that fills the cache (it goes async, through the backend).
await new ClientRequest(srv, srv.vcls.enter()!, exchange()).run();
await new Promise((r) => setTimeout(r, 50));
if (srv.counters.cache_miss !== 1) throw new Error('the first request did not miss');

/** One round of N hits: microseconds per hit, of wall time and of this process's CPU time. */
async function round(run: () => void = one): Promise<{ wall: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  // With sockets, each request ends in its own turn of the event loop and its event goes out
  // at the next; here a turn every BATCH hits keeps undelivered events from piling up.
  for (let i = 0; i < N; i += BATCH) {
    for (let j = 0; j < BATCH; j++) run();
    await new Promise((r) => setImmediate(r));
  }
  const wall = Number(process.hrtime.bigint() - start) / N / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { wall, cpu: (cpu.user + cpu.system) / N };
}

/**
 * A stand-in for a client's socket under the HTTP/1 layer: it takes what is written and counts
 * it, never blocks, never closes. The layer reads its bytes from 'data' events, so a hit runs
 * the real parser, connection loop and response writer, without the kernel.
 */
class WireSocket extends EventEmitter {
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 40000;
  readonly localAddress = '127.0.0.1';
  readonly localPort = 6081;
  destroyed = false;
  /** It takes every byte at once, as a kernel with room does. */
  readonly writableLength = 0;
  readonly writableCorked = 0;
  bytes = 0;
  writes = 0;
  first = '';
  setNoDelay(): this {
    return this;
  }
  write(chunk: Uint8Array | string): boolean {
    if (this.first === '') this.first = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1');
    this.bytes += chunk.length;
    this.writes++;
    return true;
  }
  cork(): void {}
  uncork(): void {}
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  isPaused(): boolean {
    return false;
  }
  end(): this {
    return this;
  }
  destroy(): this {
    if (!this.destroyed) {
      this.destroyed = true;
      this.emit('close');
    }
    return this;
  }
}

// What wrk sends, with the two headers browsers add to every request.
const WIRE_REQUEST = Buffer.from('GET /hit HTTP/1.1\r\nHost: 127.0.0.1:6081\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n', 'latin1');
// A connection left idle past timeout_idle while the other ways take their turns would be
// closed, and its hits go nowhere: each wire round gets a fresh one (wireOpen), counted here.
let wire = new WireSocket();
let wireWrites = 0;
function wireOpen(): void {
  wireWrites += wire.writes;
  wire.destroy();
  wire = new WireSocket();
  srv.serveConnection(wire as unknown as Socket);
}
srv.serveConnection(wire as unknown as Socket);
function oneOnTheWire(): void {
  wire.emit('data', WIRE_REQUEST);
}

if (process.argv.includes('--wire')) {
  // Only the hit through the HTTP/1 layer: the figure to watch when the layer changes.
  const rounds: { wall: number; cpu: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(await round(oneOnTheWire));
  if (!/^HTTP\/1\.1 200 OK\r\n/.test(wire.first) || !wire.first.endsWith('x'.repeat(16))) throw new Error(`a wire hit wrote ${JSON.stringify(wire.first.slice(0, 200))}`);
  const cpu = rounds.map((x) => x.cpu).sort((x, y) => x - y);
  const wall = rounds.map((x) => x.wall).sort((x, y) => x - y);
  console.log(`hit through the HTTP/1 layer (bytes in, bytes out, no syscalls; load ${loadavg()[0].toFixed(1)}): median ${cpu[ROUNDS >> 1].toFixed(2)} us CPU, best ${cpu[0].toFixed(2)} us, median ${wall[ROUNDS >> 1].toFixed(2)} us wall; ${(wire.writes / (N * ROUNDS)).toFixed(2)} writes and ${Math.round(wire.bytes / (N * ROUNDS))} bytes per response`);
  await srv.close(0);
  origin.close();
  process.exit(0);
}

// The four ways take turns, round after round, so that a machine whose load changes during the
// run slows each of them alike; CPU time, unlike wall time, leaves out the time other processes
// held the core.
const latency = new LatencyMetrics();
let delivered = 0;
const MODES = {
  plain: { on: () => {}, off: () => {} },
  wire: { on: wireOpen, off: () => {}, run: oneOnTheWire },
  histograms: {
    on: () => {
      srv.latency = latency;
    },
    off: () => {
      srv.latency = null;
    },
  },
  subscriber: {
    // The newest version: its payload carries the most (version 3: the steps' Timestamp records).
    on: () => {
      unsubscribe = srv.events.subscribe({ event: 'request', version: latestVersion('request'), handler: () => void delivered++, owner: 'bench' });
    },
    off: () => unsubscribe(),
  },
} as const;
let unsubscribe = (): void => {};
type Mode = keyof typeof MODES;
const results: Record<Mode, { wall: number; cpu: number }[]> = { plain: [], wire: [], histograms: [], subscriber: [] };
for (let r = 0; r < ROUNDS; r++) {
  for (const mode of Object.keys(MODES) as Mode[]) {
    MODES[mode].on();
    const m = MODES[mode];
    results[mode].push(await round('run' in m ? m.run : one));
    MODES[mode].off();
    // Let timers and the GC breathe between rounds.
    await new Promise((res) => setTimeout(res, 20));
  }
}
if (srv.counters.cache_hit !== N * ROUNDS * 4) throw new Error(`hits: ${srv.counters.cache_hit}`);
if (latency.request.series.get('hit')?.count !== N * ROUNDS) throw new Error('the histogram missed hits');
if (delivered !== N * ROUNDS) throw new Error(`delivered: ${delivered}`);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const us = (n: number) => n.toFixed(2);
const figures = (mode: Mode) => {
  const cpu = results[mode].map((x) => x.cpu);
  return { cpu: median(cpu), best: Math.min(...cpu), wall: median(results[mode].map((x) => x.wall)) };
};
/** The median over rounds of (this mode's CPU per hit - the plain one's in the same round). */
const extra = (mode: Mode) => median(results[mode].map((x, i) => x.cpu - results.plain[i].cpu));
const plain = figures('plain');
const hist = figures('histograms');
const sub = figures('subscriber');
const wired = figures('wire');
console.log(`hit path (Shellac's part of a cache hit, no sockets; ${ROUNDS} rounds of ${N} per way, taking turns; load ${loadavg()[0].toFixed(1)}) ${written > 0 ? '' : '?'}`);
console.log(`  CPU us per hit, median (best) [wall median]`);
console.log(`  plain, no subscriber:                  ${us(plain.cpu)} (${us(plain.best)}) [${us(plain.wall)}]`);
console.log(`  with the /metrics latency histograms:  ${us(hist.cpu)} (${us(hist.best)}) [${us(hist.wall)}], ${(hist.cpu / plain.cpu).toFixed(3)} of plain, +${us(extra('histograms'))} us per round pair`);
wireOpen();
console.log(`  through the HTTP/1 layer (stand-in socket): ${us(wired.cpu)} (${us(wired.best)}) [${us(wired.wall)}], ${(wireWrites / (N * ROUNDS)).toFixed(2)} writes per response`);
console.log(`  with one trivial 'request' subscriber (version ${latestVersion('request')}): ${us(sub.cpu)} (${us(sub.best)}) [${us(sub.wall)}], +${us(extra('subscriber'))} us per request`);
await srv.close(0);
origin.close();
