// first_byte_timeout counts from the moment the backend request, body included, has been sent:
// a client that uploads its body slowly through Shellac is not the backend's delay (issue 10).
// While the body goes out, the same length bounds each wait between two chunks, so an upload
// that stops fails the fetch instead of holding the backend connection.

import { connect } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { type OriginHandler, sleep, startOrigin, startProxy } from '../helpers/proxy.ts';

const VCL = `vcl 4.1;
backend default { .host = "127.0.0.1"; .port = "ORIGIN_PORT"; .first_byte_timeout = 1s; }
sub vcl_recv { return (pass); }
`;

/**
 * POSTs `body` one byte at a time, `gapMs` apart, on a raw connection; resolves with the
 * status line of the answer (or '' when the connection closed without one).
 */
function slowPost(port: number, body: string, gapMs: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    let timer: NodeJS.Timeout | undefined;
    s.on('connect', () => {
      s.write(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
      let i = 0;
      const next = (): void => {
        if (i >= body.length || s.destroyed) return;
        s.write(body[i++]);
        timer = setTimeout(next, gapMs);
      };
      timer = setTimeout(next, gapMs);
    });
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
    });
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(timer);
      resolve(text.split('\r\n')[0]);
    });
  });
}

/** An origin and a Shellac in front of it with VCL, both closed when the test ends. */
async function setup(handler: OriginHandler) {
  const origin = await startOrigin(handler);
  const proxy = await startProxy(VCL, { origin });
  onTestFinished(async () => {
    await proxy.close();
    await origin.close();
  });
  return { origin, proxy };
}

describe('first_byte_timeout and the request body', () => {
  it('does not count a slow upload: 5 bytes over 2.5 s with a 1 s first byte timeout get 200', async () => {
    const { origin, proxy } = await setup((_req, res, body) => res.end(`got ${body}`));
    const status = await slowPost(proxy.port, 'abcde', 500);
    expect(status).toBe('HTTP/1.1 200 OK');
    expect(origin.seen.map((r) => r.body)).toEqual(['abcde']);
  });

  it('still fails a backend that answers late once the request is sent', async () => {
    const { proxy } = await setup((_req, res) => {
      setTimeout(() => res.end('late'), 2500);
    });
    const started = Date.now();
    const status = await slowPost(proxy.port, 'ab', 300);
    expect(status).toBe('HTTP/1.1 503 Backend fetch failed');
    // The clock started after the last byte (~0.6 s), so the 503 came after about 1.6 s.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
  });

  it('fails the fetch when the upload stops for longer than the timeout', async () => {
    const { origin, proxy } = await setup((_req, res, body) => res.end(`got ${body}`));
    // One byte of three, then nothing: the fetch gives up after 1 s of silence.
    const s = connect(proxy.port, '127.0.0.1');
    let text = '';
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
    });
    s.on('error', () => {});
    await new Promise<void>((r) => s.once('connect', () => r()));
    s.write('POST /stalled HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\na');
    for (let i = 0; i < 100 && !text.includes('\r\n'); i++) await sleep(50);
    s.destroy();
    expect(text.split('\r\n')[0]).toBe('HTTP/1.1 503 Backend fetch failed');
    expect(origin.seen).toEqual([]);
  });
});
