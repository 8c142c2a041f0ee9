// The bench's origin and its ceiling: a bare node:http server answering every request with the
// same 1 KB buffer. As the origin it says the answer may be cached for an hour; as the ceiling
// it is what Shellac's hit path is measured against (node:http with nothing in between).
// Run: node bench/proxy-origin.ts PORT. Prints "ready PORT" once listening.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const BODY = Buffer.alloc(1024, 'x');
const HEADERS = { 'Content-Type': 'text/plain', 'Content-Length': String(BODY.length), 'Cache-Control': 'max-age=3600' };

const server = createServer((req, res) => {
  // Drain a request body if any, then answer.
  req.resume();
  res.writeHead(200, HEADERS);
  res.end(BODY);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
