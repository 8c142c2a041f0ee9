// The hit path without sockets: Shellac's own work for one cache hit (request object, vcl_recv,
// vcl_hash, lookup, vcl_hit, vcl_deliver, response headers), run against stand-ins for the HTTP/1
// layer's request and response (src/http1), so that what it costs can be measured to the tenth of a microsecond on a
// machine too busy for wrk to tell. bench/proxy.ts says what a hit costs with node:http around
// it; this says how much of that is ours. Run: `node bench/hit-path.ts`.
//
// It runs three ways: plain (no server-event subscriber: a `request` event then costs one
// boolean test), with the latency histograms of /metrics, and with one trivial `request`
// subscriber (the payload is built and delivered after the work; each round waits for the
// deliveries, so their cost is in the figure). A fourth way runs the hit through the HTTP/1
// layer (src/http1: parser, connection loop, response writer) on a stand-in socket: bytes in,
// bytes out, no syscalls. `--wire` runs only that one.

import { EventEmitter } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { LatencyMetrics } from '../src/mgmt/latency.ts';
import { Params } from '../src/mgmt/params.ts';
import { ClientRequest } from '../src/proxy/client.ts';
import { Shellac } from '../src/proxy/server.ts';

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
{
  await new ClientRequest(srv, srv.vcls.enter()!, exchange()).run();
  await new Promise((r) => setTimeout(r, 50));
}
if (srv.counters.cache_miss !== 1) throw new Error('the first request did not miss');

/** Median and best microseconds per hit over ROUNDS rounds of N (wall and CPU), deliveries of events included. */
async function measure(run: () => void = one): Promise<{ median: number; best: number; cpu: number }> {
  const times: number[] = [];
  const cpus: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    // With sockets, each request ends in its own turn of the event loop and its event goes out
    // at the next; here a turn every BATCH hits keeps undelivered events from piling up.
    for (let i = 0; i < N; i += BATCH) {
      for (let j = 0; j < BATCH; j++) run();
      await new Promise((r) => setImmediate(r));
    }
    times.push(Number(process.hrtime.bigint() - start) / N);
    const used = process.cpuUsage(cpu);
    cpus.push(((used.user + used.system) * 1000) / N);
    // Let timers and the GC breathe between rounds.
    await new Promise((r) => setTimeout(r, 20));
  }
  times.sort((a, b) => a - b);
  cpus.sort((a, b) => a - b);
  return { median: times[ROUNDS >> 1] / 1000, best: times[0] / 1000, cpu: cpus[ROUNDS >> 1] / 1000 };
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
const wire = new WireSocket();
srv.serveConnection(wire as unknown as Socket);
function oneOnTheWire(): void {
  wire.emit('data', WIRE_REQUEST);
}

if (process.argv.includes('--wire')) {
  // Only the hit through the HTTP/1 layer: the figure to watch when the layer changes.
  const r = await measure(oneOnTheWire);
  if (!/^HTTP\/1\.1 200 OK\r\n/.test(wire.first) || !wire.first.endsWith('x'.repeat(16))) throw new Error(`a wire hit wrote ${JSON.stringify(wire.first.slice(0, 200))}`);
  console.log(`hit through the HTTP/1 layer (bytes in, bytes out, no syscalls): median ${r.median.toFixed(2)} us wall, ${r.cpu.toFixed(2)} us CPU, best ${r.best.toFixed(2)} us; ${(wire.writes / (N * ROUNDS)).toFixed(2)} writes and ${Math.round(wire.bytes / (N * ROUNDS))} bytes per response`);
  await srv.close(0);
  origin.close();
  process.exit(0);
}

const quiet = await measure();
const latency = new LatencyMetrics();
srv.latency = latency;
const measured = await measure();
srv.latency = null;
let delivered = 0;
const unsubscribe = srv.events.subscribe({ event: 'request', version: 2, handler: () => void delivered++, owner: 'bench' });
const heard = await measure();
unsubscribe();
const wired = await measure(oneOnTheWire);
if (srv.counters.cache_hit !== N * ROUNDS * 4) throw new Error(`hits: ${srv.counters.cache_hit}`);
if (latency.request.series.get('hit')?.count !== N * ROUNDS) throw new Error('the histogram missed hits');
if (delivered !== N * ROUNDS) throw new Error(`delivered: ${delivered}`);
const us = (n: number) => n.toFixed(2);
console.log(`hit path (Shellac's part of a cache hit, no sockets): median ${us(quiet.median)} us, best ${us(quiet.best)} us per request (${written > 0 ? 'written' : '?'})`);
console.log(`  with the /metrics latency histograms: median ${us(measured.median)} us (${(measured.median / quiet.median).toFixed(3)} of the plain median)`);
console.log(`  with one trivial 'request' subscriber: median ${us(heard.median)} us, best ${us(heard.best)} us (+${us(heard.median - quiet.median)} us per request)`);
console.log(`hit through the HTTP/1 layer (bytes in, bytes out, no syscalls): median ${us(wired.median)} us wall, ${us(wired.cpu)} us CPU, best ${us(wired.best)} us; ${(wire.writes / (N * ROUNDS)).toFixed(2)} writes per response`);
await srv.close(0);
origin.close();
