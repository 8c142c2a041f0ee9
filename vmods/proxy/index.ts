// The proxy VMOD: the TLVs of the PROXY v2 header a `,PROXY` listener read before the
// connection's first request. The HTTP/1 layer checked and kept them (src/http1/proxy-protocol.ts);
// ctx.proxyTlv finds one by type, looking into the SSL TLV's sub-TLVs as Varnish's VPX_tlv
// does. The manifest is vmod.vcc; interface.ts is the contract.

import type { VmodContext } from '../../src/vmod/api.ts';
import * as self from './index.ts';
import type { VmodProxy } from './interface.ts';

/** TLV and sub-TLV types (haproxy's proxy-protocol.txt, section 2.2). */
const TLV = {
  alpn: 0x01,
  authority: 0x02,
  ssl: 0x20,
  sslVersion: 0x21,
  sslCn: 0x22,
  sslCipher: 0x23,
  sslSigAlg: 0x24,
  sslKeyAlg: 0x25,
} as const;

/** The SSL TLV's first byte: what the client did. */
const CLIENT_SSL = 0x01;
const CLIENT_CERT_CONN = 0x02;
const CLIENT_CERT_SESS = 0x04;

/** A TLV's value as VCL sees it: a C string in Varnish, so it ends at the first NUL. */
function tlvString(ctx: VmodContext, type: number): string | null {
  const value = ctx.proxyTlv(type);
  if (value === null) return null;
  const nul = value.indexOf(0);
  return Buffer.from(value.buffer, value.byteOffset, nul < 0 ? value.length : nul).toString('latin1');
}

/** One of the SSL TLV's client flags; false without an SSL TLV. */
function sslFlag(ctx: VmodContext, flag: number): boolean {
  const ssl = ctx.proxyTlv(TLV.ssl);
  return ssl !== null && (ssl[0] & flag) === flag;
}

export const alpn = (ctx: VmodContext): string | null => tlvString(ctx, TLV.alpn);
export const authority = (ctx: VmodContext): string | null => tlvString(ctx, TLV.authority);
export const is_ssl = (ctx: VmodContext): boolean => sslFlag(ctx, CLIENT_SSL);
export const client_has_cert_sess = (ctx: VmodContext): boolean => sslFlag(ctx, CLIENT_CERT_SESS);
export const client_has_cert_conn = (ctx: VmodContext): boolean => sslFlag(ctx, CLIENT_CERT_CONN);

/** The SSL TLV's verify field (bytes 1-4, big-endian); 0 (X509_V_OK) without one. */
export function ssl_verify_result(ctx: VmodContext): number {
  const ssl = ctx.proxyTlv(TLV.ssl);
  // The HTTP/1 layer refuses an SSL TLV shorter than 5 bytes.
  return ssl === null ? 0 : Buffer.from(ssl.buffer, ssl.byteOffset, ssl.length).readUInt32BE(1);
}

export const ssl_version = (ctx: VmodContext): string | null => tlvString(ctx, TLV.sslVersion);
export const client_cert_cn = (ctx: VmodContext): string | null => tlvString(ctx, TLV.sslCn);
export const ssl_cipher = (ctx: VmodContext): string | null => tlvString(ctx, TLV.sslCipher);
export const cert_sign = (ctx: VmodContext): string | null => tlvString(ctx, TLV.sslSigAlg);
export const cert_key = (ctx: VmodContext): string | null => tlvString(ctx, TLV.sslKeyAlg);

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies VmodProxy;
