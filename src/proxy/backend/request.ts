// Turns a backend request's headers into what the backend client sends: a flat name/value list
// with the backend's Host added when the request has none, and without the framing and
// hop-by-hop headers the client writes itself (fetch.ts frames the body). Also counts the
// header bytes, for the bereq_hdrbytes counter.

import type { VclHttp } from '../../runtime/http.ts';

export type RequestHeaders = VclHttp | readonly (readonly [string, string])[];

export interface PreparedHeaders {
  /** Flat name, value, name, value... */
  readonly flat: string[];
  /** The size of the request head as sent (request line, headers, blank line). */
  readonly bytes: number;
}

/** Headers the client does not pass on: it frames the message itself. */
const DROPPED = new Set(['transfer-encoding', 'keep-alive', 'upgrade', 'expect', 'proxy-connection']);
const TOKEN_LIST = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+(?:[ \t]*,[ \t]*[!#$%&'*+\-.^_`|~0-9A-Za-z]+)*$/;

/**
 * `keepLength`: whether Content-Length is kept (a streamed body of known length); with no body,
 * or a Buffer, the client writes the right length itself.
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

/** The request head as written: request line, headers, the framing header, blank line. */
export function requestHead(method: string, url: string, proto: string, flat: readonly string[], framing: string): string {
  let head = `${method} ${url} ${proto}\r\n`;
  for (let i = 0; i < flat.length; i += 2) head += `${flat[i]}: ${flat[i + 1]}\r\n`;
  return `${head}${framing}\r\n`;
}

/** Whether a Connection header of a flat list (or one value) has the token `close`, as http_GetHdrField finds it. */
export function saysClose(flat: readonly string[] | string | null | undefined): boolean {
  if (flat == null) return false;
  if (typeof flat === 'string') return CLOSE_TOKEN.test(flat);
  for (let i = 0; i < flat.length; i += 2) if (flat[i].length === 10 && flat[i].toLowerCase() === 'connection' && CLOSE_TOKEN.test(flat[i + 1])) return true;
  return false;
}

const CLOSE_TOKEN = /(?:^|,)[ \t]*close[ \t]*(?:,|$)/i;
