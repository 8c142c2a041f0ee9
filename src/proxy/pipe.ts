// Pipe: the client's connection becomes a raw TCP tunnel to the backend for the rest of its
// life. The request head is written as bereq says (VCL may have changed it in vcl_pipe), then
// the bytes already read from the client, then everything flows both ways. An end of stream on
// one side is passed on as a half-close to the other, as Varnish does; the tunnel is over when
// both sides have closed, on an error, or when nothing moved either way for pipe_timeout.

import type { Duplex } from 'node:stream';
import type { VclHttp } from '../runtime/http.ts';
import type { Backend } from './backend/backend.ts';
import type { BackendGlobalCounters } from './backend/counters.ts';
import type { BackendFailure } from './backend/failure.ts';
import type { ProxyAddresses } from './backend/proxy-header.ts';

export interface PipeRequest {
  /**
   * The client connection, detached from any HTTP parser: the socket the HTTP/1 layer hands over
   * (Http1Request.takeOver). It must allow half-open connections (the layer's listeners do), or
   * a client's end of stream cuts the backend's answer short.
   */
  readonly client: Duplex;
  /** Bytes the client already sent after its request head (a pipelined body or request). */
  readonly head?: Buffer;
  readonly backend: Backend;
  readonly bereq: VclHttp;
  /** pipe_timeout in seconds: the longest time with no byte either way; 0 for none. */
  readonly timeout: number;
  readonly counters?: Pick<BackendGlobalCounters, 's_pipe_hdrbytes' | 's_pipe_in' | 's_pipe_out'>;
  /** client.ip and server.ip, for backends with .proxy_header. */
  readonly proxy?: ProxyAddresses;
  /** Called once the tunnel is open and the request sent on (Varnish's Pipe timestamp). */
  readonly onOpen?: () => void;
}

export type PipeEnd = 'client' | 'backend' | 'timeout' | 'error';

export interface PipeDone {
  readonly ok: true;
  /** Bytes from the client to the backend (after the head), and from the backend to the client. */
  readonly in: number;
  readonly out: number;
  /** Which side closed first, or what ended the tunnel. */
  readonly endedBy: PipeEnd;
}

/**
 * Runs a pipe to its end. Resolves with a failure (nothing was written to the client, so the
 * caller can still answer 503) when the backend cannot be reached; never rejects.
 */
export async function pipe(req: PipeRequest): Promise<PipeDone | BackendFailure> {
  // Hold the client's bytes while the backend connection opens; none may be dropped.
  req.client.pause();
  const opened = await req.backend.openTunnel(req.proxy);
  if (!opened.ok) return opened;
  const { socket: backend, release } = opened;
  const { client } = req;
  const bc = req.backend.counters;
  const gc = req.counters;

  const headText = requestHead(req.bereq);
  const headBytes = Buffer.byteLength(headText, 'latin1');
  bc.pipe_hdrbytes += headBytes;
  if (gc) gc.s_pipe_hdrbytes += headBytes;
  backend.write(headText, 'latin1');

  let inBytes = 0;
  let outBytes = 0;
  const countIn = (n: number): void => {
    inBytes += n;
    bc.pipe_out += n;
    if (gc) gc.s_pipe_in += n;
  };
  if (req.head && req.head.length > 0) {
    countIn(req.head.length);
    backend.write(req.head);
  }
  req.onOpen?.();

  return new Promise((resolve) => {
    let endedBy: PipeEnd | null = null;
    let open = 2;
    const idle = req.timeout > 0 ? setTimeout(() => stop('timeout'), req.timeout * 1000) : null;
    const touch = (): void => {
      idle?.refresh();
    };
    const stop = (why: PipeEnd): void => {
      endedBy ??= why;
      client.destroy();
      backend.destroy();
    };
    const closed = (side: PipeEnd): void => {
      endedBy ??= side;
      if (--open > 0) return;
      if (idle) clearTimeout(idle);
      release();
      resolve({ ok: true, in: inBytes, out: outBytes, endedBy });
    };

    client.on('data', (chunk: Buffer) => {
      countIn(chunk.length);
      touch();
      if (!backend.write(chunk)) client.pause();
    });
    backend.on('drain', () => client.resume());
    backend.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      bc.pipe_in += chunk.length;
      if (gc) gc.s_pipe_out += chunk.length;
      touch();
      if (!client.write(chunk)) backend.pause();
    });
    client.on('drain', () => backend.resume());

    // End of stream: pass the half-close on, keep the other direction flowing.
    client.on('end', () => backend.end());
    backend.on('end', () => client.end());
    // A side gone for good takes the tunnel with it; the other side gets what was written.
    client.on('close', () => {
      backend.destroy();
      closed('client');
    });
    backend.on('close', () => {
      client.end();
      if (!client.writableFinished) client.once('finish', () => client.destroy());
      else client.destroy();
      closed('backend');
    });
    client.on('error', () => stop('error'));
    backend.on('error', () => stop('error'));
    client.resume();
  });
}

/** The request line and headers of bereq, as written to the backend. */
export function requestHead(bereq: VclHttp): string {
  let text = `${bereq.method} ${bereq.url} ${bereq.proto}\r\n`;
  for (const [name, value] of bereq) text += `${name}: ${value}\r\n`;
  return `${text}\r\n`;
}
