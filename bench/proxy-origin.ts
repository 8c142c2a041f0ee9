// The bench's origin and its ceiling: a bare node:http server answering every request with the
// same 1 KB buffer (100 KB under /100k, 1 MB under /1m, for the throughput loads). As the origin it says the answer may be cached for an hour; as the ceiling
// it is what Shellac's hit path is measured against (node:http with nothing in between).
// Two more pages for the filter loads: /gz, 20 KB of HTML sent gzipped, and /esi, a page of
// ten <esi:include>s of 1 KB fragments (/frag/N).
// Run: node bench/proxy-origin.ts PORT. Prints "ready PORT" once listening.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';

const answer = (size: number) => {
  const body = Buffer.alloc(size, 'x');
  return { body, headers: { 'Content-Type': 'text/plain', 'Content-Length': String(size), 'Cache-Control': 'max-age=3600' } };
};
const SMALL = answer(1024);
const MEDIUM = answer(100 * 1024);
const LARGE = answer(1024 * 1024);

/** 20 KB of HTML made of words from a fixed pseudo-random walk: it compresses as text does. */
function html(bytes: number): string {
  const words = ['shellac', 'varnish', 'cache', 'object', 'header', 'fragment', 'include', 'gzip', 'request', 'response', 'client', 'backend'];
  let seed = 42;
  let out = '<html><body>\n';
  while (out.length < bytes - 20) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    out += seed % 9 === 0 ? `<p class="c${seed % 97}">\n` : `${words[seed % words.length]} `;
  }
  return `${out}</body></html>\n`.slice(0, bytes);
}

const GZ = gzipSync(html(20 * 1024));
const GZ_HEADERS = { 'Content-Type': 'text/html', 'Content-Encoding': 'gzip', 'Content-Length': String(GZ.length), 'Cache-Control': 'max-age=3600' };
const ESI = Buffer.from(`<html><body>${Array.from({ length: 10 }, (_, i) => `<div><esi:include src="/frag/${i}"/></div>`).join('\n')}</body></html>`);
const ESI_HEADERS = { 'Content-Type': 'text/html', 'Content-Length': String(ESI.length), 'Cache-Control': 'max-age=3600' };

const server = createServer((req, res) => {
  // Drain a request body if any, then answer.
  req.resume();
  const url = req.url ?? '';
  if (url === '/gz') {
    res.writeHead(200, GZ_HEADERS);
    res.end(GZ);
  } else if (url === '/esi') {
    res.writeHead(200, ESI_HEADERS);
    res.end(ESI);
  } else {
    const a = url.startsWith('/100k') ? MEDIUM : url.startsWith('/1m') ? LARGE : SMALL;
    res.writeHead(200, a.headers);
    res.end(a.body);
  }
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
