// The PROXY protocol header a listener declared `,PROXY` reads before the first request
// (haproxy's proxy-protocol.txt, as varnishd's cache_proxy_proto.c takes it): version 1, a text
// line `PROXY TCP4|TCP6 src dst sport dport` or `PROXY UNKNOWN ...` ending in CR LF within 107
// bytes; version 2, the 12-byte signature, version 2 with LOCAL or PROXY, the family (TCP over
// IPv4 or IPv6, or unspecified), the length, the addresses and TLVs. Anything else is refused:
// the connection closes without an answer. LOCAL and UNKNOWN leave the socket's own addresses.

import { isIP } from 'node:net';

export interface ProxyEndpoint {
  readonly address: string;
  readonly port: number;
}

export interface ProxyInfo {
  readonly version: 1 | 2;
  /** The original client and the address it connected to; null for LOCAL / UNKNOWN. */
  readonly client: ProxyEndpoint | null;
  readonly server: ProxyEndpoint | null;
  /** Version 2's TLVs by type (ALPN 0x01, authority 0x02, SSL 0x20, ...), as sent. */
  readonly tlvs: ReadonlyMap<number, Buffer>;
}

export type ProxyParse = { readonly kind: 'more' } | { readonly kind: 'bad'; readonly reason: string } | { readonly kind: 'ok'; readonly info: ProxyInfo; readonly length: number };

const V1_MAX = 107;
const V2_SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');
const NO_TLVS: ReadonlyMap<number, Buffer> = new Map();

/** Reads a PROXY header at the start of `buf`. */
export function parseProxyHeader(buf: Buffer): ProxyParse {
  if (buf.length === 0) return { kind: 'more' };
  if (buf[0] === 0x50) return parseV1(buf);
  if (buf[0] === 0x0d) return parseV2(buf);
  return { kind: 'bad', reason: 'no PROXY header' };
}

function parseV1(buf: Buffer): ProxyParse {
  const prefix = 'PROXY ';
  const n = Math.min(buf.length, prefix.length);
  if (buf.toString('latin1', 0, n) !== prefix.slice(0, n)) return { kind: 'bad', reason: 'no PROXY header' };
  const end = buf.indexOf('\r\n', 0, 'latin1');
  if (end < 0) return buf.length >= V1_MAX ? { kind: 'bad', reason: 'PROXY v1 line too long' } : { kind: 'more' };
  if (end + 2 > V1_MAX) return { kind: 'bad', reason: 'PROXY v1 line too long' };
  const fields = buf.toString('latin1', prefix.length, end).split(' ');
  const length = end + 2;
  if (fields[0] === 'UNKNOWN') return { kind: 'ok', length, info: { version: 1, client: null, server: null, tlvs: NO_TLVS } };
  if (fields.length !== 5 || (fields[0] !== 'TCP4' && fields[0] !== 'TCP6')) return { kind: 'bad', reason: 'bad PROXY v1 line' };
  const family = fields[0] === 'TCP4' ? 4 : 6;
  const [, src, dst, sport, dport] = fields;
  if (isIP(src) !== family || isIP(dst) !== family) return { kind: 'bad', reason: 'bad PROXY v1 address' };
  const sp = port(sport);
  const dp = port(dport);
  if (sp < 0 || dp < 0) return { kind: 'bad', reason: 'bad PROXY v1 port' };
  return { kind: 'ok', length, info: { version: 1, client: { address: src, port: sp }, server: { address: dst, port: dp }, tlvs: NO_TLVS } };
}

function port(text: string): number {
  if (!/^\d{1,5}$/.test(text)) return -1;
  const n = Number(text);
  return n <= 65535 ? n : -1;
}

function parseV2(buf: Buffer): ProxyParse {
  const n = Math.min(buf.length, V2_SIGNATURE.length);
  if (buf.compare(V2_SIGNATURE, 0, n, 0, n) !== 0) return { kind: 'bad', reason: 'no PROXY header' };
  if (buf.length < 16) return { kind: 'more' };
  const verCmd = buf[12];
  if (verCmd >> 4 !== 2) return { kind: 'bad', reason: 'PROXY v2 with another version' };
  const cmd = verCmd & 0x0f;
  if (cmd > 1) return { kind: 'bad', reason: 'PROXY v2 with an unknown command' };
  const family = buf[13];
  const length = 16 + buf.readUInt16BE(14);
  if (buf.length < length) return { kind: 'more' };
  let pos = 16;
  let client: ProxyEndpoint | null = null;
  let server: ProxyEndpoint | null = null;
  if (family === 0x11 || family === 0x21) {
    const size = family === 0x11 ? 4 : 16;
    if (length < pos + 2 * size + 4) return { kind: 'bad', reason: 'PROXY v2 addresses cut short' };
    const src = formatAddress(buf.subarray(pos, pos + size));
    const dst = formatAddress(buf.subarray(pos + size, pos + 2 * size));
    pos += 2 * size;
    if (cmd === 1) {
      client = { address: src, port: buf.readUInt16BE(pos) };
      server = { address: dst, port: buf.readUInt16BE(pos + 2) };
    }
    pos += 4;
  } else if (family !== 0x00) {
    if (cmd === 1) return { kind: 'bad', reason: 'PROXY v2 family not spoken (only TCP)' };
    // LOCAL: the address block, whatever it is, is skipped.
    pos = length;
  }
  const tlvs = new Map<number, Buffer>();
  while (pos < length) {
    if (pos + 3 > length) return { kind: 'bad', reason: 'PROXY v2 TLV cut short' };
    const size = buf.readUInt16BE(pos + 1);
    if (pos + 3 + size > length) return { kind: 'bad', reason: 'PROXY v2 TLV longer than the header' };
    tlvs.set(buf[pos], Buffer.from(buf.subarray(pos + 3, pos + 3 + size)));
    pos += 3 + size;
  }
  return { kind: 'ok', length, info: { version: 2, client, server, tlvs } };
}

function formatAddress(bytes: Buffer): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':');
}
