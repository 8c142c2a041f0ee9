// The BASE64 family: BASE64 (+ / and = padding), BASE64URL (- _ and =), BASE64URLNOPAD (- _,
// no padding accepted or written) and BASE64CF (- ~ and _ as padding). Decoding follows Varnish
// 7.1's decoder step for step, since its odd inputs have odd answers that VCL may rely on
// (checked with varnishtest): padding may be left out, characters after a pad inside the same
// string keep being decoded ("AA=A" is two zero bytes), a new string after a pad is an error,
// a lone final character is an error, and no whitespace is allowed anywhere.

interface Alphabet {
  readonly chars: string;
  /** The padding character, or '' when the encoding has none. */
  readonly pad: string;
}

export type Base64Kind = 'BASE64' | 'BASE64URL' | 'BASE64URLNOPAD' | 'BASE64CF';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const ALPHABETS: Readonly<Record<Base64Kind, Alphabet>> = {
  BASE64: { chars: `${LETTERS}+/`, pad: '=' },
  BASE64URL: { chars: `${LETTERS}-_`, pad: '=' },
  BASE64URLNOPAD: { chars: `${LETTERS}-_`, pad: '' },
  BASE64CF: { chars: `${LETTERS}-~`, pad: '_' },
};

const ILLEGAL = -1;
const PAD = -2;

/** Byte -> 6-bit value, PAD or ILLEGAL, per alphabet. */
const TABLES: Readonly<Record<Base64Kind, Int8Array>> = Object.fromEntries(
  (Object.keys(ALPHABETS) as Base64Kind[]).map((kind) => {
    const { chars, pad } = ALPHABETS[kind];
    const table = new Int8Array(256).fill(ILLEGAL);
    for (let i = 0; i < 64; i++) table[chars.charCodeAt(i)] = i;
    if (pad !== '') table[pad.charCodeAt(0)] = PAD;
    return [kind, table];
  }),
) as Record<Base64Kind, Int8Array>;

export function base64Encode(kind: Base64Kind, input: Uint8Array): string {
  const { chars, pad } = ALPHABETS[kind];
  let out = '';
  let i = 0;
  for (; i + 3 <= input.length; i += 3) {
    const n = (input[i] << 16) | (input[i + 1] << 8) | input[i + 2];
    out += chars[n >> 18] + chars[(n >> 12) & 63] + chars[(n >> 6) & 63] + chars[n & 63];
  }
  const rest = input.length - i;
  if (rest === 1) {
    out += chars[input[i] >> 2] + chars[(input[i] << 4) & 63] + pad + pad;
  } else if (rest === 2) {
    out += chars[input[i] >> 2] + chars[((input[i] << 4) | (input[i + 1] >> 4)) & 63];
    out += chars[(input[i + 1] << 2) & 63] + pad;
  }
  return out;
}

/**
 * Decodes the strings (as bytes) of a STRANDS argument, reading at most `limit` characters
 * (all when negative); null when the input is not valid.
 */
export function base64Decode(kind: Base64Kind, strands: readonly Uint8Array[], limit: number): Uint8Array | null {
  const table = TABLES[kind];
  const out: number[] = [];
  let left = limit < 0 ? Number.POSITIVE_INFINITY : limit;
  // u collects 6-bit groups as a C unsigned int does: shifts wrap at 32 bits.
  let u = 0;
  let n = 0;
  let term = 0;

  /** Writes the k-1 bytes that k characters of the group make; false when k is too few. */
  const emit = (k: number): boolean => {
    if (k <= 1) return false;
    for (let i = 0; i < k - 1; i++) {
      out.push((u >>> 16) & 0xff);
      u = (u << 8) >>> 0;
    }
    return true;
  };

  for (const s of strands) {
    if (left <= 0) break;
    if (s.length > 0 && term > 0) return null;
    for (let i = 0; i < s.length && left > 0; i++) {
      const b = table[s[i]];
      left--;
      u = (u << 6) >>> 0;
      if (b === ILLEGAL) return null;
      n++;
      if (b === PAD) {
        term++;
        continue;
      }
      u = (u | b) >>> 0;
      if (n === 4) {
        if (!emit(n - term)) return null;
        n = 0;
      }
    }
  }
  if (n > 0) {
    // Varnish shifts by 6*(4-n) even when n went past 4; the CPU keeps the low 5 bits of the
    // count, and so does JavaScript's <<.
    if (n - term !== 0) u = (u << (6 * (4 - n))) >>> 0;
    if (!emit(n - term)) return null;
  }
  return Uint8Array.from(out);
}
