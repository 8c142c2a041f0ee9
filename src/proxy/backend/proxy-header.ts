// The PROXY protocol preamble a backend with `.proxy_header = 1` or `2` gets at the start of
// each connection (HAProxy's spec, versions 1 and 2): the client's address and the address it
// connected to, so the backend sees who the request came from. It names one client, so such
// connections are never shared between requests.

import type { VclIp } from '../../common/ip.ts';

/** The addresses the preamble carries: client.ip and server.ip. */
export interface ProxyAddresses {
  readonly client: VclIp | null;
  readonly server: VclIp | null;
}

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

/** PP2_TYPE_AUTHORITY: the host name the client asked for (version 2 only). */
const TLV_AUTHORITY = 0x02;

/**
 * The preamble of `version` 1 or 2. `authority`, when given, is added to a version 2 preamble
 * as an authority TLV (vmod vtc's proxy_header asks for it; backends never get one).
 */
export function proxyPreamble(version: number, addresses: ProxyAddresses | undefined, authority?: string): Buffer {
  const client = addresses?.client ?? null;
  const server = addresses?.server ?? null;
  const known = client !== null && server !== null && client.family === server.family;
  if (version === 1) {
    if (!known) return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
    const proto = client.family === 4 ? 'TCP4' : 'TCP6';
    return Buffer.from(`PROXY ${proto} ${client.text} ${server.text} ${client.port} ${server.port}\r\n`, 'latin1');
  }
  if (!known) {
    // LOCAL command, no address: the backend uses the connection's own addresses.
    return Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
  }
  const tlvs: Buffer[] = [];
  if (authority !== undefined) {
    const value = Buffer.from(authority, 'latin1');
    const tlv = Buffer.alloc(3);
    tlv.writeUInt8(TLV_AUTHORITY, 0);
    tlv.writeUInt16BE(value.length, 1);
    tlvs.push(tlv, value);
  }
  const size = (client.family === 4 ? 12 : 36) + tlvs.reduce((n, b) => n + b.length, 0);
  const head = Buffer.alloc(4);
  head.writeUInt8(0x21, 0);
  head.writeUInt8(client.family === 4 ? 0x11 : 0x21, 1);
  head.writeUInt16BE(size, 2);
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(client.port, 0);
  ports.writeUInt16BE(server.port, 2);
  return Buffer.concat([V2_SIGNATURE, head, client.bytes, server.bytes, ports, ...tlvs]);
}
