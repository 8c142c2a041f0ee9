// The hit path without sockets: Shellac's own work for one cache hit (request object, vcl_recv,
// vcl_hash, lookup, vcl_hit, vcl_deliver, response headers), run against stand-ins for the HTTP/1
// layer's request and response (src/http1), so that what it costs can be measured to the tenth of a microsecond on a
// machine too busy for wrk to tell. bench/proxy.ts says what a hit costs with node:http around
// it; this says how much of that is ours. Run: `node bench/hit-path.ts`.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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
    want100: false,
    hasBody: false,
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

const times: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) one();
  times.push(Number(process.hrtime.bigint() - start) / N);
  // Let timers and the GC breathe between rounds.
  await new Promise((r) => setTimeout(r, 20));
}
if (srv.counters.cache_hit !== N * ROUNDS) throw new Error(`hits: ${srv.counters.cache_hit}`);
times.sort((a, b) => a - b);
console.log(`hit path (Shellac's part of a cache hit, no sockets): median ${(times[ROUNDS >> 1] / 1000).toFixed(2)} us, best ${(times[0] / 1000).toFixed(2)} us per request (${written > 0 ? 'written' : '?'})`);
await srv.close(0);
origin.close();
