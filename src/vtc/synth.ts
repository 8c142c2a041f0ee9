// Generated bodies and gzip, byte for byte as varnishtest makes them: `-bodylen N` is lines of
// 63 cycling printable characters and a newline, ending in a newline; `-gziplen N` is random
// printable text; gzip bodies use zlib level 0 by default (`-gziplevel` changes it), memLevel 9,
// so their sizes are what Varnish's own tests expect.

import { gunzipSync, gzipSync } from 'node:zlib';

export function synthBody(len: number, random: boolean): string {
  if (!Number.isInteger(len) || len <= 0) throw new RangeError(`bad body length ${len}`);
  const out: string[] = new Array(len);
  let k = 0x21;
  let l = k;
  for (let j = 0; j < len; j++) {
    if (j % 64 === 63) {
      out[j] = '\n';
      k++;
      if (k === 0x7e) k = 0x21;
      l = k;
    } else if (random) {
      out[j] = String.fromCharCode(0x20 + Math.floor(Math.random() * 95));
    } else {
      out[j] = String.fromCharCode(l);
      if (++l === 0x7e) l = 0x21;
    }
  }
  out[len - 1] = '\n';
  return out.join('');
}

/** Gzips latin1 text into latin1 bytes. */
export function gzipText(text: string, level: number): string {
  return gzipSync(Buffer.from(text, 'latin1'), { level, memLevel: 9 }).toString('latin1');
}

/** Gunzips latin1 bytes; throws zlib's error for bad input. */
export function gunzipText(bytes: string): string {
  return gunzipSync(Buffer.from(bytes, 'latin1')).toString('latin1');
}

/** Parses `sendhex` input: hex pairs, blanks and newlines between them ignored. */
export function parseHex(spec: string): Buffer | undefined {
  const clean = spec.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) return undefined;
  return Buffer.from(clean, 'hex');
}
