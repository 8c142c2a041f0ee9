// The VCL IP value: an address with a port, plus its text as Varnish prints it. Parsing follows
// what std.ip accepts for numeric input (getaddrinfo with a numeric host): the legacy IPv4 forms
// of inet_aton ("127.1", "0x7f.1", "010.0.0.1"), IPv6 as inet_pton reads it, and the host/port
// splits Varnish makes ("1.2.3.4:80", "1.2.3.4 80", "[::1]:80", "[::1] 80"). Zones ("fe80::1%lo")
// and name resolution are out of scope here: names are resolved before they reach this file.

export interface VclIp {
  readonly family: 4 | 6;
  /** The address in network order: 4 bytes for IPv4, 16 for IPv6. Never mutated. */
  readonly bytes: Uint8Array;
  readonly port: number;
  /** The address as VCL prints it in string context: no port, IPv6 compressed like inet_ntop. */
  readonly text: string;
}

/** Builds an IP value from its bytes (4 or 16, copied) and port; the text is computed once here. */
export function makeIp(bytes: Uint8Array, port: number): VclIp {
  const own = Uint8Array.from(bytes);
  if (own.length === 4) return { family: 4, bytes: own, port, text: ipv4Text(own) };
  if (own.length === 16) return { family: 6, bytes: own, port, text: ipv6Text(own) };
  throw new RangeError(`an IP address has 4 or 16 bytes, not ${own.length}`);
}

/**
 * Parses an address with an optional port, as std.ip does for numeric input; null when it is
 * not one. The port may be digits (taken modulo 65536, as getaddrinfo does) or `http`/`https`;
 * when absent or empty, `defaultPort` applies (std.ip's default is 80).
 */
export function parseIp(text: string, defaultPort = 80): VclIp | null {
  const split = splitHostPort(text);
  if (split === null) return null;
  const bytes = parseIpAddressBytes(split.host);
  if (bytes === null) return null;
  const port = split.port === '' ? defaultPort : parsePort(split.port);
  if (port === null) return null;
  return makeIp(bytes, port);
}

/** Parses a bare address (no port syntax), as an ACL entry holds one; its port is 0. */
export function parseIpLiteral(text: string): VclIp | null {
  const bytes = parseIpAddressBytes(text);
  return bytes === null ? null : makeIp(bytes, 0);
}

/** What Varnish gives as the address of a Unix socket peer or listener: 0.0.0.0, port 0. */
export const UNIX_SOCKET_IP: VclIp = makeIp(new Uint8Array(4), 0);

/**
 * The IP of a peer as node reports it (`socket.remoteAddress`, `remotePort`). Node's dual-stack
 * listeners report IPv4 peers as `::ffff:a.b.c.d`; Varnish listens with separate IPv4 and IPv6
 * sockets and sees them as IPv4, so they are unmapped here. A zone suffix is dropped.
 */
export function ipFromSocket(address: string | undefined, port: number | undefined): VclIp | null {
  if (address === undefined) return null;
  const zone = address.indexOf('%');
  const bytes = parseIpAddressBytes(zone < 0 ? address : address.slice(0, zone));
  if (bytes === null) return null;
  if (bytes.length === 16 && isV4Mapped(bytes)) return makeIp(bytes.subarray(12), port ?? 0);
  return makeIp(bytes, port ?? 0);
}

/** VCL's IP-to-STRING conversion. */
export function ipToString(ip: VclIp): string {
  return ip.text;
}

/**
 * VCL's `==` on IPs (and `!=` as its negation): Varnish compares the addresses only, never the
 * ports, and an IPv4 address never equals its IPv4-mapped IPv6 form (checked with varnishtest:
 * std.ip("1.2.3.4:80") == std.ip("1.2.3.4:81") is true, 1.2.3.4 == ::ffff:1.2.3.4 is false).
 */
export function ipEquals(a: VclIp, b: VclIp): boolean {
  if (a === b) return true;
  if (a.family !== b.family) return false;
  const x = a.bytes;
  const y = b.bytes;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Host and port

/**
 * Varnish's split: `[host]`, `[host]:port` or `[host] port`; else the first space, or else the
 * first colon when it is the only one (more colons make the whole text an IPv6 address).
 */
function splitHostPort(text: string): { host: string; port: string } | null {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return null;
    const host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest === '') return { host, port: '' };
    if (rest[0] !== ':' && rest[0] !== ' ') return null;
    return { host, port: rest.slice(1) };
  }
  let sep = text.indexOf(' ');
  if (sep < 0) {
    sep = text.indexOf(':');
    if (sep >= 0 && text.indexOf(':', sep + 1) >= 0) sep = -1;
  }
  if (sep < 0) return { host: text, port: '' };
  if (sep === 0) return null;
  return { host: text.slice(0, sep), port: text.slice(sep + 1) };
}

const SERVICE_PORTS: Readonly<Record<string, number>> = { http: 80, https: 443 };

function parsePort(text: string): number | null {
  if (/^[0-9]+$/.test(text)) {
    // getaddrinfo reads the number with strtoul (saturating) and keeps the low 16 bits.
    const n = BigInt(text);
    return n > 0xffffffffffffffffn ? 0xffff : Number(n & 0xffffn);
  }
  return Object.hasOwn(SERVICE_PORTS, text) ? SERVICE_PORTS[text] : null;
}

// ---------------------------------------------------------------------------------------------
// Addresses

function parseIpAddressBytes(text: string): Uint8Array | null {
  return text.includes(':') ? parseIpv6(text) : parseIpv4Legacy(text);
}

/** inet_aton: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x); the last fills the rest. */
function parseIpv4Legacy(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length > 4) return null;
  const values: number[] = [];
  for (const part of parts) {
    const v = parseCNumber(part);
    if (v === null) return null;
    values.push(v);
  }
  const lastBits = 32 - 8 * (values.length - 1);
  for (let i = 0; i < values.length - 1; i++) if (values[i] > 255) return null;
  const last = values[values.length - 1];
  if (last >= 2 ** lastBits) return null;
  let n = last;
  for (let i = 0; i < values.length - 1; i++) n += values[i] * 2 ** (24 - 8 * i);
  return Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

function parseCNumber(part: string): number | null {
  let m = /^0[xX]([0-9a-fA-F]*)$/.exec(part);
  if (m) return m[1] === '' ? 0 : Number.parseInt(m[1], 16);
  m = /^0([0-7]*)$/.exec(part);
  if (m) return m[1] === '' ? 0 : Number.parseInt(m[1], 8);
  if (/^[1-9][0-9]*$/.test(part)) return Number(part);
  return null;
}

/** inet_pton for IPv6: up to 8 hex groups, one `::`, an optional dotted IPv4 tail. */
function parseIpv6(text: string): Uint8Array | null {
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] === '' ? [] : halves[0].split(':');
  const tail = halves.length === 2 && halves[1] !== '' ? halves[1].split(':') : [];
  const words: number[] = [];
  const tailWords: number[] = [];
  if (!pushGroups(head, words, halves.length === 1)) return null;
  if (halves.length === 2 && !pushGroups(tail, tailWords, true)) return null;
  const total = words.length + tailWords.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return null;
  const all = [...words, ...new Array<number>(8 - total).fill(0), ...tailWords];
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    bytes[2 * i] = all[i] >> 8;
    bytes[2 * i + 1] = all[i] & 255;
  }
  return bytes;
}

/** Appends the 16-bit words of `groups`; the last group may be a dotted IPv4 when `last` is set. */
function pushGroups(groups: string[], out: number[], last: boolean): boolean {
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (last && i === groups.length - 1 && g.includes('.')) {
      const v4 = parseIpv4Strict(g);
      if (v4 === null) return false;
      out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
      out.push(Number.parseInt(g, 16));
    } else {
      return false;
    }
  }
  return true;
}

/** inet_pton for IPv4, as used inside IPv6: four decimal parts without leading zeros. */
function parseIpv4Strict(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(parts[i])) return null;
    const v = Number(parts[i]);
    if (v > 255) return null;
    bytes[i] = v;
  }
  return bytes;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

// ---------------------------------------------------------------------------------------------
// Text

function ipv4Text(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/**
 * glibc's inet_ntop (the first longest run of two or more zero words becomes `::`; a dotted
 * IPv4 tail for `::a.b.c.d` and `::ffff:a.b.c.d`), then Varnish's own step: a leading
 * `::ffff:` is cut off, so mapped addresses print as IPv4 (and `::ffff:0:1.2.3.4` as `0:102:304`).
 */
function ipv6Text(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[2 * i] << 8) | b[2 * i + 1]);
  const run = longestZeroRun(words);
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (run.len >= 2 && i >= run.base && i < run.base + run.len) {
      if (i === run.base) out += ':';
      continue;
    }
    if (i !== 0) out += ':';
    if (i === 6 && run.base === 0 && (run.len === 6 || (run.len === 5 && words[5] === 0xffff))) {
      out += `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
      break;
    }
    out += words[i].toString(16);
  }
  if (run.len >= 2 && run.base + run.len === 8) out += ':';
  return out.startsWith('::ffff:') ? out.slice(7) : out;
}

function longestZeroRun(words: number[]): { base: number; len: number } {
  let best = { base: -1, len: 0 };
  let start = -1;
  for (let i = 0; i <= 8; i++) {
    if (i < 8 && words[i] === 0) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start > best.len) best = { base: start, len: i - start };
      start = -1;
    }
  }
  return best;
}
