// The hit path without sockets: Shellac's own work for one cache hit (request object, vcl_recv,
// vcl_hash, lookup, vcl_hit, vcl_deliver, response headers), run against stand-ins for node's
// request and response, so that what it costs can be measured to the tenth of a microsecond on a
// machine too busy for wrk to tell. bench/proxy.ts says what a hit costs with node:http around
// it; this says how much of that is ours. Rounds alternate without and with the latency
// histograms of /metrics (what serving metrics adds to a hit), and both are printed.
// Run: `node bench/hit-path.ts`.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LatencyMetrics } from '../src/mgmt/latency.ts';
import { Params } from '../src/mgmt/params.ts';
import { ClientRequest } from '../src/proxy/client.ts';
import { Shellac } from '../src/proxy/server.ts';

const N = 200_000;
const ROUNDS = 7;
const BODY = Buffer.alloc(1024, 'x');

const origin = createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'max-age=3600' });
  res.end(BODY);
});
await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
const originPort = (origin.address() as AddressInfo).port;

const srv = new Shellac({ params: new Params([]), storageBytes: 64 * 1024 * 1024 });
await srv.vcls.load('boot', { source: `vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "${originPort}"; }\n` });

// Stand-ins: what the client state machine reads of node's IncomingMessage and ServerResponse.
const socket = { remoteAddress: '127.0.0.1', remotePort: 40000, localAddress: '127.0.0.1', localPort: 6081 };
let written = 0;
function exchange(): [never, never] {
  const req = {
    method: 'GET',
    url: '/hit',
    httpVersion: '1.1',
    httpVersionMajor: 1,
    rawHeaders: ['Host', '127.0.0.1:6081', 'User-Agent', 'wrk', 'Accept', '*/*'],
    headers: { host: '127.0.0.1:6081', 'user-agent': 'wrk', accept: '*/*' },
    socket,
  };
  const res = {
    headersSent: false,
    destroyed: false,
    shouldKeepAlive: true,
    writeHead(_status: number, _reason: string | undefined, headers: string[]) {
      written += headers.length;
      this.headersSent = true;
      return this;
    },
    write: () => true,
    end(chunk?: Buffer) {
      written += chunk?.length ?? 0;
    },
    on: () => res,
    off: () => res,
    destroy: () => {},
  };
  return [req as never, res as never];
}

function one(): void {
  const [req, res] = exchange();
  const entry = srv.vcls.enter()!;
  const pending = new ClientRequest(srv, entry, req, res, null).run();
  if (pending !== undefined) throw new Error('a hit went async');
}

// The first request is the miss that fills the cache (it goes async, through the backend).
{
  const [req, res] = exchange();
  await new ClientRequest(srv, srv.vcls.enter()!, req, res, null).run();
  await new Promise((r) => setTimeout(r, 50));
}
if (srv.counters.cache_miss !== 1) throw new Error('the first request did not miss');

const times: number[] = [];
const measured: number[] = [];
const latency = new LatencyMetrics();
for (let round = 0; round < ROUNDS; round++) {
  // Which goes first alternates, so that warming up favours neither.
  for (const into of round % 2 === 0 ? [times, measured] : [measured, times]) {
    srv.latency = into === measured ? latency : null;
    const start = process.hrtime.bigint();
    for (let i = 0; i < N; i++) one();
    into.push(Number(process.hrtime.bigint() - start) / N);
    // Let timers and the GC breathe between rounds.
    await new Promise((r) => setTimeout(r, 20));
  }
}
if (srv.counters.cache_hit !== N * ROUNDS * 2) throw new Error(`hits: ${srv.counters.cache_hit}`);
if (latency.request.series.get('hit')?.count !== N * ROUNDS) throw new Error('the histogram missed hits');
times.sort((a, b) => a - b);
measured.sort((a, b) => a - b);
const us = (t: number[]) => `median ${(t[ROUNDS >> 1] / 1000).toFixed(2)} us, best ${(t[0] / 1000).toFixed(2)} us`;
console.log(`hit path (Shellac's part of a cache hit, no sockets): ${us(times)} per request (${written > 0 ? 'written' : '?'})`);
console.log(`with the /metrics latency histograms: ${us(measured)} per request (${(measured[ROUNDS >> 1] / times[ROUNDS >> 1]).toFixed(3)} of the median without)`);
await srv.close(0);
origin.close();
