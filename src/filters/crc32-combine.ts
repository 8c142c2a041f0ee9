// crc32_combine: the CRC-32 of A followed by B from crc(A), crc(B) and B's length, without the
// bytes (zlib has it; node exposes only crc32). Stitching gzip pieces needs it: the trailer of
// the assembled stream carries the CRC of the whole, and the pieces are never decompressed.
// The method is zlib's: appending n zero bytes to a CRC register is a linear map over GF(2),
// applied by repeated squaring of the one-zero-bit operator.

const POLY = 0xedb88320;

function times(mat: Uint32Array, vec: number): number {
  let sum = 0;
  let v = vec >>> 0;
  for (let i = 0; v !== 0; i++, v >>>= 1) if (v & 1) sum ^= mat[i];
  return sum >>> 0;
}

function square(out: Uint32Array, mat: Uint32Array): void {
  for (let n = 0; n < 32; n++) out[n] = times(mat, mat[n]);
}

/** The CRC-32 of A||B, given crc(A), crc(B) and B's length in bytes. */
export function crc32Combine(crc1: number, crc2: number, len2: number): number {
  if (len2 <= 0) return crc1 >>> 0;
  const even = new Uint32Array(32);
  const odd = new Uint32Array(32);
  // The operator for one zero bit.
  odd[0] = POLY;
  for (let n = 1, row = 1; n < 32; n++, row <<= 1) odd[n] = row >>> 0;
  square(even, odd); // two zero bits
  square(odd, even); // four zero bits
  let c = crc1 >>> 0;
  let len = len2;
  // Each round squares the operator (one zero byte at the first) and applies it for a set bit.
  do {
    square(even, odd);
    if (len & 1) c = times(even, c);
    len = Math.floor(len / 2);
    if (len === 0) break;
    square(odd, even);
    if (len & 1) c = times(odd, c);
    len = Math.floor(len / 2);
  } while (len !== 0);
  return (c ^ crc2) >>> 0;
}
