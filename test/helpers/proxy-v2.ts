// Builders of PROXY protocol v2 headers for tests: the fixed part, addresses, TLVs, an SSL TLV
// with sub-TLVs and a CRC32C TLV whose checksum is right (or deliberately wrong).

import { crc32c } from '../../src/http1/crc32c.ts';

const SIGNATURE = Buffer.from('\r\n\r\n\0\r\nQUIT\n', 'latin1');

/** 192.0.2.1:5678 → 198.51.100.2:80, as a TCP over IPv4 address block. */
export const V4 = Buffer.from([192, 0, 2, 1, 198, 51, 100, 2, 0x16, 0x2e, 0, 80]);

/** A v2 header: command (0 LOCAL, 1 PROXY), family byte, address block, TLVs. */
export function v2(cmd: number, family: number, addresses: Buffer, tlvs: Buffer = Buffer.alloc(0)): Buffer {
  const fixed = Buffer.from([0x20 | cmd, family, 0, 0]);
  fixed.writeUInt16BE(addresses.length + tlvs.length, 2);
  return Buffer.concat([SIGNATURE, fixed, addresses, tlvs]);
}

export function tlv(type: number, value: string | Buffer): Buffer {
  const v = typeof value === 'string' ? Buffer.from(value, 'latin1') : value;
  const head = Buffer.from([type, 0, 0]);
  head.writeUInt16BE(v.length, 1);
  return Buffer.concat([head, v]);
}

/** PP2_TYPE_SSL: the client flags, the verify result, then sub-TLVs. */
export function sslTlv(client: number, verify: number, subs: readonly Buffer[] = []): Buffer {
  const fixed = Buffer.alloc(5);
  fixed[0] = client;
  fixed.writeUInt32BE(verify, 1);
  return tlv(0x20, Buffer.concat([fixed, ...subs]));
}

/** A PROXY TCP4 header whose last TLV is a CRC32C of the whole header; `wrong` flips a bit. */
export function v2WithCrc(tlvs: Buffer = Buffer.alloc(0), wrong = false): Buffer {
  const h = v2(1, 0x11, V4, Buffer.concat([tlvs, tlv(0x03, Buffer.alloc(4))]));
  const sum = crc32c(h);
  h.writeUInt32BE(wrong ? (sum ^ 1) >>> 0 : sum, h.length - 4);
  return h;
}
