// HEX and URL (percent) encodings. Decoding accepts either case; an odd number of hex digits
// decodes as if a 0 were in front. URL encoding keeps RFC 3986's unreserved characters
// (letters, digits, - . _ ~) and writes %XX for every other byte; URL decoding copies all but
// %XX sequences, and a % not followed by two hex digits (even at the very end) is an error.

export type HexCase = 'LOWER' | 'UPPER';

const DIGITS: Readonly<Record<HexCase, string>> = {
  LOWER: '0123456789abcdef',
  UPPER: '0123456789ABCDEF',
};

/** A hex digit's value, or -1. */
function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

export function hexEncode(kase: HexCase, input: Uint8Array): string {
  const digits = DIGITS[kase];
  let out = '';
  for (const b of input) out += digits[b >> 4] + digits[b & 15];
  return out;
}

/**
 * Decodes hex digits; every character of every string must be one, even past `limit` (the
 * number of digits to decode, all when negative). Null when a character is not a digit.
 */
export function hexDecode(strands: readonly Uint8Array[], limit: number): Uint8Array | null {
  let total = 0;
  for (const s of strands) {
    for (const c of s) if (nibble(c) < 0) return null;
    total += s.length;
  }
  const count = limit >= 0 && total > limit ? limit : total;
  const digits: number[] = [];
  if (count % 2 === 1) digits.push(0);
  for (const s of strands) {
    for (const c of s) {
      if (digits.length >= count + (count % 2)) break;
      digits.push(nibble(c));
    }
  }
  const out = new Uint8Array(digits.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = (digits[2 * i] << 4) | digits[2 * i + 1];
  return out;
}

function isUnreserved(c: number): boolean {
  return (
    (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95 || c === 126
  );
}

export function urlEncode(kase: HexCase, input: Uint8Array): string {
  const digits = DIGITS[kase];
  let out = '';
  for (const b of input) out += isUnreserved(b) ? String.fromCharCode(b) : `%${digits[b >> 4]}${digits[b & 15]}`;
  return out;
}

/** Percent-decodes at most `limit` characters (all when negative); null on a bad % sequence. */
export function urlDecode(strands: readonly Uint8Array[], limit: number): Uint8Array | null {
  const out: number[] = [];
  let left = limit < 0 ? Number.POSITIVE_INFINITY : limit;
  // 0: copying; 1: after %; 2: after % and one digit (kept in `high`).
  let state = 0;
  let high = 0;
  for (const s of strands) {
    for (let i = 0; i < s.length && left > 0; i++, left--) {
      const c = s[i];
      if (state === 0) {
        if (c === 37) state = 1;
        else out.push(c);
      } else {
        const v = nibble(c);
        if (v < 0) return null;
        if (state === 1) {
          high = v;
          state = 2;
        } else {
          out.push((high << 4) | v);
          state = 0;
        }
      }
    }
  }
  return state === 0 ? Uint8Array.from(out) : null;
}
