// The units of durations and sizes, declared once. VCL literals (`10m`, `1KB`), std.duration and
// std.bytes, parameters (`-p default_ttl=2m`, `32k`), ban.list's ages and `-s` sizes all read
// them; each reader keeps its own syntax (VCL's byte units are upper case with a B, the others
// single letters in any case), not its own numbers.

/** Seconds per duration unit, as Varnish spells them (lower case). */
export const DURATION_UNITS: Readonly<Record<string, number>> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
  w: 7 * 86400,
  y: 365 * 86400,
};

/** Bytes per size unit letter (powers of 1024), lower case: `k` for KiB up to `p`. */
export const BYTE_UNITS: Readonly<Record<string, number>> = {
  k: 2 ** 10,
  m: 2 ** 20,
  g: 2 ** 30,
  t: 2 ** 40,
  p: 2 ** 50,
};

/** VCL's BYTES literal units: `B`, `KB`, `MB`, `GB`, `TB`. */
export const VCL_BYTES_UNITS: Readonly<Record<string, number>> = {
  B: 1,
  KB: BYTE_UNITS.k,
  MB: BYTE_UNITS.m,
  GB: BYTE_UNITS.g,
  TB: BYTE_UNITS.t,
};
