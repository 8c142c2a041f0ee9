// The ceiling of Shellac's design (issue 13): a bare node:net server that finds each request
// head's end with string operations and writes one prebuilt response, headers and 1 KB body in
// one buffer, the way a hit could at best be served on node:net. No parsing beyond the end of
// the head, no VCL, no cache: what is left is node's socket machinery and the syscalls, which
// Shellac's own HTTP/1 layer pays too. bench/proxy prints each hit's rate as a ratio to it.
// Run: node bench/proxy-net-probe.ts PORT. Prints "ready PORT" once listening.

import { type AddressInfo, createServer } from 'node:net';

const BODY = 'x'.repeat(1024);
const RESPONSE = Buffer.from(
  `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: max-age=3600\r\nDate: Mon, 07 Dec 2026 00:00:00 GMT\r\nAge: 0\r\nVia: 1.1 probe\r\nAccept-Ranges: bytes\r\nContent-Length: 1024\r\nConnection: keep-alive\r\n\r\n${BODY}`,
  'latin1',
);

const server = createServer({ noDelay: true }, (sock) => {
  let pending = '';
  sock.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    let answers = 0;
    for (;;) {
      const end = pending.indexOf('\r\n\r\n');
      if (end < 0) break;
      pending = pending.slice(end + 4);
      answers++;
    }
    // Pipelined heads are answered in one write, as they came in one read.
    if (answers === 1) sock.write(RESPONSE);
    else if (answers > 1) sock.write(Buffer.concat(Array.from({ length: answers }, () => RESPONSE)));
  });
  sock.on('error', () => sock.destroy());
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
