// Strings and bytes. Shellac carries the bytes of HTTP headers as latin1 strings (one character
// per byte), so a STRING becomes bytes by taking each character as a byte, and bytes become a
// STRING the same way back. A character beyond U+00FF (which only a VCL literal can hold) has
// no single byte: it is taken as its UTF-8 bytes, as Varnish would see it in the VCL source.

/** The empty BLOB every empty decoding returns: blob.same() finds them all the same. */
export const NULL_BLOB: Uint8Array = new Uint8Array(0);

export function stringToBytes(s: string): Uint8Array {
  let wide = false;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) {
      wide = true;
      break;
    }
  }
  if (!wide) return Uint8Array.from(Buffer.from(s, 'latin1'));
  const out: number[] = [];
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp <= 0xff) out.push(cp);
    else out.push(...Buffer.from(ch, 'utf8'));
  }
  return Uint8Array.from(out);
}

export function bytesToString(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1');
}

/** The pieces of a STRANDS argument as bytes; NULL pieces are left out. */
export function strandsToBytes(strands: readonly (string | null)[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const s of strands) if (s !== null && s !== '') out.push(stringToBytes(s));
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
