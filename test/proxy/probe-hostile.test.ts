// Hostile bytes in answer to health probes (issue 10): whatever a backend sends back, the probe
// marks it sick, keeps at most a short status line of it, and probes on; a good answer after
// makes it healthy again. The test runs in this process: a probe that threw would fail it.

import { afterEach, describe, expect, it } from 'vitest';
import { backendFrom, cleanup, rawOrigin, until } from './backend-helpers.ts';

afterEach(cleanup);

type Answer = (socket: import('node:net').Socket) => void;

const GOOD: Answer = (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');

const HOSTILE: readonly (readonly [string, Answer, RegExp])[] = [
  ['NUL and control bytes, no line end', (s) => s.end(Buffer.from([0, 1, 2, 0x7f, 0x1b, 0x5b, 0x32, 0x4a, 0])), /^\x00\x01\x02/],
  ['a megabyte of bytes without a newline', (s) => s.end(Buffer.alloc(1024 * 1024, 0x41)), /^A{128}$/],
  ['a status too large for any number', (s) => s.end('HTTP/1.1 99999999999999999999999999 OK\r\n\r\n'), /^HTTP\/1\.1 9+ OK$/],
  [
    'a 200 that never ends',
    (s) => {
      s.write('HTTP/1.1 200 OK\r\n');
      const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write('x'.repeat(4096))), 10);
      s.once('close', () => clearInterval(timer));
    },
    /^Timed out$/,
  ],
  ['a reset after the request', (s) => s.resetAndDestroy(), /^(Read error|Empty response)/],
];

describe('probes against hostile answers', () => {
  it.each(HOSTILE)('%s: sick, a bounded message, then healthy again on a good answer', async (_what, hostile, message) => {
    let answer: Answer = hostile;
    const origin = await rawOrigin((socket) => answer(socket));
    const be = await backendFrom(
      `.host = "127.0.0.1"; .port = "${origin.port}"; .probe = { .url = "/"; .interval = 50ms; .timeout = 300ms; .window = 1; .threshold = 1; .initial = 1; }`,
    );
    expect(be.healthy(null)).toBe(true);
    be.start();
    await until(() => !be.healthy(null), 5000, 'sick');
    const status = be.describe().probeStatus!;
    expect(status.message.length).toBeLessThanOrEqual(128);
    expect(status.message).toMatch(message);
    answer = GOOD;
    await until(() => be.healthy(null), 5000, 'healthy again');
    expect(be.describe().probeStatus!.message).toBe('HTTP/1.1 200 OK');
    be.stop();
  });
});
