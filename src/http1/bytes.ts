// Byte classes of Varnish's vct.h, as the HTTP/1 parser reads them: one table lookup per byte.
// CTL is 0x00-0x1f and 0x7f (TAB included: it is both CTL and SP, as in Varnish); SP is space
// and TAB; LWS adds CR and LF; TCHAR is RFC 9110's token, what a header name is made of.

export const CTL = 1;
export const SP = 2;
export const LWS = 4;
export const TCHAR = 8;
export const HEX = 16;

export const BYTE_CLASS: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let c = 0; c < 0x20; c++) t[c] |= CTL;
  t[0x7f] |= CTL;
  for (const c of [0x20, 0x09]) t[c] |= SP | LWS;
  for (const c of [0x0d, 0x0a]) t[c] |= LWS;
  for (const ch of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") t[ch.charCodeAt(0)] |= TCHAR;
  for (const ch of '0123456789abcdefABCDEF') t[ch.charCodeAt(0)] |= HEX;
  return t;
})();

export const CR = 0x0d;
export const LF = 0x0a;

/** Varnish's vct_iscrlf: 2 for CR LF at `i`, 1 for a bare LF, 0 otherwise. */
export function crlfAt(buf: Uint8Array, i: number, end: number): number {
  if (i + 1 < end && buf[i] === CR && buf[i + 1] === LF) return 2;
  if (i < end && buf[i] === LF) return 1;
  return 0;
}
