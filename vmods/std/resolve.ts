// std.ip's string to address step. Varnish calls getaddrinfo, which may ask DNS and block the
// worker; Shellac's VCL runs on the event loop and must not block, so only what can be answered
// at once is answered: numeric addresses (all the forms src/common/ip.ts reads), and, when
// `resolve` is true, names from /etc/hosts (read once) plus "localhost". Any other name gives
// the fallback, as an unresolvable name does in Varnish. Facts checked with varnishtest:
// - the port comes from the string, else from `p` (digits, "http" or "https"; "" means port 0),
//   else 80;
// - with resolve=false, service names are refused as well (getaddrinfo's AI_NUMERICSERV).

import { readFileSync } from 'node:fs';
import { makeIp, parseIp, parseIpLiteral } from '../../src/common/ip.ts';
import type { VclIp } from '../../src/vmod/api.ts';

const SERVICES: Readonly<Record<string, number>> = { http: 80, https: 443 };
const HOSTS_FILE = '/etc/hosts';

/** The address `s` names, or null when it names none this process can tell without waiting. */
export function stringToIp(s: string, p: string | null | undefined, resolve: boolean): VclIp | null {
  const defaultPort = p === undefined ? 80 : p === null ? 0 : portNumber(p, resolve);
  if (defaultPort === null) return null;
  const split = splitHostPort(s);
  if (split === null) return null;
  if (split.port !== '' && portNumber(split.port, resolve) === null) return null;
  const numeric = parseIp(s, defaultPort);
  if (numeric !== null || !resolve) return numeric;
  const address = lookupHost(split.host);
  if (address === null) return null;
  const port = split.port === '' ? defaultPort : portNumber(split.port, resolve);
  return port === null ? null : makeIp(address.bytes, port);
}

/** A port as getaddrinfo reads a service: digits (kept to 16 bits) or a known name. */
function portNumber(text: string, resolve: boolean): number | null {
  if (text === '') return 0;
  if (/^[0-9]+$/.test(text)) {
    const n = BigInt(text);
    return n > 0xffffffffffffffffn ? 0xffff : Number(n & 0xffffn);
  }
  return resolve && Object.hasOwn(SERVICES, text) ? SERVICES[text] : null;
}

/** Varnish's split of "host port", "host:port", "[v6]:port" (several colons: all host). */
function splitHostPort(text: string): { host: string; port: string } | null {
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return null;
    const rest = text.slice(close + 1);
    if (rest !== '' && rest[0] !== ':' && rest[0] !== ' ') return null;
    return { host: text.slice(1, close), port: rest.slice(1) };
  }
  let sep = text.indexOf(' ');
  if (sep < 0) {
    sep = text.indexOf(':');
    if (sep >= 0 && text.indexOf(':', sep + 1) >= 0) sep = -1;
  }
  if (sep < 0) return { host: text, port: '' };
  return { host: text.slice(0, sep), port: text.slice(sep + 1) };
}

let hosts: Map<string, VclIp[]> | null = null;

/** The first address of a name in /etc/hosts, IPv4 first as getaddrinfo sorts them here. */
function lookupHost(name: string): VclIp | null {
  hosts ??= readHosts();
  const found = hosts.get(name.toLowerCase());
  if (found === undefined) return name.toLowerCase() === 'localhost' ? parseIpLiteral('127.0.0.1') : null;
  return found.find((ip) => ip.family === 4) ?? found[0];
}

function readHosts(): Map<string, VclIp[]> {
  const map = new Map<string, VclIp[]>();
  let text = '';
  try {
    text = readFileSync(HOSTS_FILE, 'latin1');
  } catch {
    return map;
  }
  for (const line of text.split('\n')) {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/);
    if (fields.length < 2) continue;
    const ip = parseIpLiteral(fields[0]);
    if (ip === null) continue;
    for (const name of fields.slice(1)) {
      const key = name.toLowerCase();
      const list = map.get(key);
      if (list === undefined) map.set(key, [ip]);
      else list.push(ip);
    }
  }
  return map;
}
