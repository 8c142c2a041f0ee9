// CRC-32C (Castagnoli), the checksum a PROXY v2 header may carry in its PP2_TYPE_CRC32C TLV.
// node:zlib's crc32 is the other polynomial (IEEE), so the table is built here, once; headers
// are a few hundred bytes, and only those with the TLV are summed.

const TABLE = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i;
  // 0x82f63b78 is Castagnoli's polynomial, bit-reversed.
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  TABLE[i] = c >>> 0;
}

export function crc32c(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = (c >>> 8) ^ TABLE[(c ^ bytes[i]) & 0xff];
  return (c ^ 0xffffffff) >>> 0;
}
