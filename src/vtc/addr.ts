// Socket addresses as VTC writes them ("127.0.0.1 8080", "127.0.0.1:8080", "[::1]:80",
// "/path/to.sock"), and the rule that a test only ever talks to loopback: an address outside
// 127.0.0.0/8 and ::1 is refused rather than connected to.

import { isIP } from 'node:net';

export type SockAddr = { readonly kind: 'tcp'; readonly host: string; readonly port: number } | { readonly kind: 'unix'; readonly path: string };

export class AddressError extends Error {
  override name = 'AddressError';
}

export function parseAddr(spec: string): SockAddr {
  const s = spec.trim();
  if (s.startsWith('/')) return { kind: 'unix', path: s };
  let host: string;
  let port: string;
  const sp = s.split(/[ \t]+/);
  if (sp.length === 2) {
    [host, port] = sp;
  } else if (s.startsWith('[')) {
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
    if (!m) throw new AddressError(`bad address '${spec}'`);
    host = m[1];
    port = m[2] ?? '80';
  } else if (s.split(':').length === 2) {
    [host, port] = s.split(':');
  } else {
    host = s;
    port = '80';
  }
  if (host === 'localhost') host = '127.0.0.1';
  if (!isIP(host)) throw new AddressError(`not an IP address: '${host}' (names are not resolved)`);
  if (!isLoopback(host)) throw new AddressError(`refusing non-loopback address ${host}`);
  const n = Number(port);
  if (!/^\d+$/.test(port) || n > 65535) throw new AddressError(`bad port '${port}' in '${spec}'`);
  return { kind: 'tcp', host, port: n };
}

export function isLoopback(ip: string): boolean {
  if (isIP(ip) === 4) return ip.startsWith('127.');
  const v6 = ip.toLowerCase();
  return v6 === '::1' || v6 === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(v6);
}

export function formatAddr(a: SockAddr): string {
  return a.kind === 'unix' ? a.path : `${a.host}:${a.port}`;
}
