// The PROXY protocol header a listener declared `,PROXY` reads before the first request
// (haproxy's proxy-protocol.txt, as varnishd's cache_proxy_proto.c takes it): version 1, a text
// line `PROXY TCP4|TCP6 src dst sport dport` or `PROXY UNKNOWN ...` ending in CR LF within 107
// bytes; version 2, the 12-byte signature, version 2 with LOCAL or PROXY, the family (TCP over
// IPv4 or IPv6, or unspecified), the length, the addresses and TLVs, their CRC32C checksum
// checked when one is sent. Anything else is refused: the connection closes without an answer.
// LOCAL and UNKNOWN (and v2 families other than TCP) leave the socket's own addresses.

import { isIP } from 'node:net';
import { crc32c } from './crc32c.ts';

export interface ProxyEndpoint {
  readonly address: string;
  readonly port: number;
}

export interface ProxyInfo {
  readonly version: 1 | 2;
  /** The original client and the address it connected to; null for LOCAL / UNKNOWN. */
  readonly client: ProxyEndpoint | null;
  readonly server: ProxyEndpoint | null;
  /** Version 2's TLVs as sent (ALPN 0x01, authority 0x02, SSL 0x20...), checked: read with proxyTlv. */
  readonly tlv: Buffer;
}

export type ProxyParse = { readonly kind: 'more' } | { readonly kind: 'bad'; readonly reason: string } | { readonly kind: 'ok'; readonly info: ProxyInfo; readonly length: number };

const V1_MAX = 107;
const V2_SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');
const NO_TLVS = Buffer.alloc(0);
/** PP2_TYPE_SSL, whose value is a client flags byte, a verify result and sub-TLVs. */
export const TLV_SSL = 0x20;
const TLV_CRC32C = 0x03;

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
  if (fields[0] === 'UNKNOWN') return { kind: 'ok', length, info: { version: 1, client: null, server: null, tlv: NO_TLVS } };
  if (fields.length !== 5 || (fields[0] !== 'TCP4' && fields[0] !== 'TCP6')) return { kind: 'bad', reason: 'bad PROXY v1 line' };
  const family = fields[0] === 'TCP4' ? 4 : 6;
  const [, src, dst, sport, dport] = fields;
  if (isIP(src) !== family || isIP(dst) !== family) return { kind: 'bad', reason: 'bad PROXY v1 address' };
  const sp = port(sport);
  const dp = port(dport);
  if (sp < 0 || dp < 0) return { kind: 'bad', reason: 'bad PROXY v1 port' };
  return { kind: 'ok', length, info: { version: 1, client: { address: src, port: sp }, server: { address: dst, port: dp }, tlv: NO_TLVS } };
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
  const length = 16 + buf.readUInt16BE(14);
  if (buf.length < length) return { kind: 'more' };
  // LOCAL, an unspecified family, another protocol than TCP (UDP, Unix) or addresses cut
  // short: varnishd takes the connection and keeps the socket's addresses, TLVs unread.
  const family = buf[13];
  const size = family === 0x11 ? 4 : family === 0x21 ? 16 : 0;
  let pos = 16;
  if (cmd === 0 || size === 0 || length < pos + 2 * size + 4) return { kind: 'ok', length, info: { version: 2, client: null, server: null, tlv: NO_TLVS } };
  const src = formatAddress(buf.subarray(pos, pos + size));
  const dst = formatAddress(buf.subarray(pos + size, pos + 2 * size));
  pos += 2 * size;
  const client = { address: src, port: buf.readUInt16BE(pos) };
  const server = { address: dst, port: buf.readUInt16BE(pos + 2) };
  pos += 4;
  const tlv = Buffer.from(buf.subarray(pos, length));
  const bad = checkTlvs(buf.subarray(0, length), tlv);
  if (bad !== null) return { kind: 'bad', reason: `PROXY v2 ${bad}` };
  return { kind: 'ok', length, info: { version: 2, client, server, tlv } };
}

/**
 * What varnishd refuses in a v2 header's TLVs: one cut short or running past the header, an
 * SSL TLV without its 5 fixed bytes or with broken sub-TLVs, a CRC32C TLV whose checksum (of
 * the whole header, the checksum's own 4 bytes read as zeros) does not match. null: fine.
 */
function checkTlvs(header: Buffer, tlv: Buffer): string | null {
  return walkTlvs(tlv, (type, value) => {
    if (type === TLV_SSL) {
      if (value.length < 5) return 'SSL TLV shorter than 5 bytes';
      return walkTlvs(value.subarray(5), () => null);
    }
    if (type !== TLV_CRC32C) return null;
    if (value.length !== 4) return 'CRC32C TLV not 4 bytes long';
    const sent = value.readUInt32BE(0);
    const copy = Buffer.from(header);
    // Where the checksum sits in the header (the TLV area is its last bytes).
    const at = header.length - tlv.length + (value.byteOffset - tlv.byteOffset);
    copy.fill(0, at, at + 4);
    return crc32c(copy) === sent ? null : 'CRC32C mismatch';
  });
}

/**
 * Visits each TLV of `area` in order (type, value) until `visit` returns something other than
 * null; returns that, or a framing error, or null at the end.
 */
function walkTlvs<T>(area: Buffer, visit: (type: number, value: Buffer) => T | null): T | string | null {
  let pos = 0;
  while (pos < area.length) {
    if (pos + 3 > area.length) return 'TLV cut short';
    const size = area.readUInt16BE(pos + 1);
    if (pos + 3 + size > area.length) return 'TLV longer than the header';
    const r = visit(area[pos], area.subarray(pos + 3, pos + 3 + size));
    if (r !== null) return r;
    pos += 3 + size;
  }
  return null;
}

/**
 * The value of the first TLV of `type` the header carried, looked for among the SSL TLV's
 * sub-TLVs too (ssl_version, the client certificate's CN...), as Varnish's VPX_tlv; null when
 * there is none (or no v2 header).
 */
export function proxyTlv(info: ProxyInfo | null, type: number): Buffer | null {
  if (info === null || info.tlv.length === 0) return null;
  const found = walkTlvs(info.tlv, (t, value) => {
    if (t === type) return value;
    if (t !== TLV_SSL) return null;
    const sub = walkTlvs(value.subarray(5), (st, sv) => (st === type ? sv : null));
    return typeof sub === 'string' ? null : sub;
  });
  // The TLVs were checked when the header came: a string here cannot be a framing error.
  return typeof found === 'string' ? null : found;
}

function formatAddress(bytes: Buffer): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return groups.join(':');
}
