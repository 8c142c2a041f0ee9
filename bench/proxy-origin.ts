// The bench's origin and its ceiling: a bare node:http server answering every request with the
// same 1 KB buffer (100 KB under /100k, 1 MB under /1m, for the throughput loads). As the origin it says the answer may be cached for an hour; as the ceiling
// it is what Shellac's hit path is measured against (node:http with nothing in between).
// Run: node bench/proxy-origin.ts PORT. Prints "ready PORT" once listening.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const answer = (size: number) => {
  const body = Buffer.alloc(size, 'x');
  return { body, headers: { 'Content-Type': 'text/plain', 'Content-Length': String(size), 'Cache-Control': 'max-age=3600' } };
};
const SMALL = answer(1024);
const MEDIUM = answer(100 * 1024);
const LARGE = answer(1024 * 1024);

const server = createServer((req, res) => {
  // Drain a request body if any, then answer.
  req.resume();
  const url = req.url ?? '';
  const a = url.startsWith('/100k') ? MEDIUM : url.startsWith('/1m') ? LARGE : SMALL;
  res.writeHead(200, a.headers);
  res.end(a.body);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
