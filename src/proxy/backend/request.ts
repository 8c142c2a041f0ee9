// Turns a backend request's headers into what undici sends: a flat name/value list with the
// backend's Host added when the request has none, and without the framing and hop-by-hop
// headers undici writes itself (it refuses them rather than sending two). Also counts the
// header bytes, for the bereq_hdrbytes counter.

import type { VclHttp } from '../../runtime/http.ts';

export type RequestHeaders = VclHttp | readonly (readonly [string, string])[];

export interface PreparedHeaders {
  /** Flat name, value, name, value... as undici takes them. */
  readonly flat: string[];
  /** The size of the request head as sent (request line, headers, blank line). */
  readonly bytes: number;
}

/** Headers undici refuses because it frames the message itself. */
const DROPPED = new Set(['transfer-encoding', 'keep-alive', 'upgrade', 'expect', 'proxy-connection']);
const TOKEN_LIST = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*,[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*$/;

/**
 * `keepLength`: whether Content-Length is kept (a streamed body of known length); with no body,
 * or a Buffer, undici writes the right length itself.
 */
export function prepareHeaders(
  method: string,
  url: string,
  headers: RequestHeaders,
  hostHeader: string | undefined,
  keepLength: boolean,
): PreparedHeaders {
  const flat: string[] = [];
  let bytes = method.length + url.length + 12; // "M U HTTP/1.1\r\n"
  let host = false;
  let length = false;
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (DROPPED.has(lower)) continue;
    if (lower === 'host') {
      if (host) continue;
      host = true;
    } else if (lower === 'content-length') {
      if (length || !keepLength) continue;
      length = true;
    } else if (lower === 'connection' && !TOKEN_LIST.test(value.trim())) {
      continue;
    }
    flat.push(name, value);
    bytes += name.length + value.length + 4;
  }
  if (!host && hostHeader !== undefined) {
    flat.push('Host', hostHeader);
    bytes += hostHeader.length + 8;
  }
  return { flat, bytes: bytes + 2 };
}

/** The size of a response head as received, from undici's raw header list. */
export function responseHeadBytes(status: number, reason: string, raw: readonly Buffer[]): number {
  let bytes = 15 + String(status).length + reason.length - 3; // "HTTP/1.1 200 OK\r\n"
  for (const b of raw) bytes += b.length;
  return bytes + raw.length * 2 + 2;
}
