// Where a backend lives: its host name resolved once, when the VCL is loaded (as Varnish
// resolves it when compiling), or its Unix socket path. Requests and probes then connect to the
// address without asking DNS again.

import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export type BackendAddress =
  | { readonly kind: 'tcp'; readonly ip: string; readonly port: number; readonly family: 4 | 6 }
  | { readonly kind: 'unix'; readonly path: string };

/** Port names a backend may give instead of a number. */
const SERVICES: Readonly<Record<string, number>> = { http: 80, https: 443 };

/** Resolves `.host`/`.port` or takes `.path`; rejects with a message naming the backend. */
export async function resolveBackendAddress(
  name: string,
  spec: { readonly host?: string; readonly port?: string; readonly path?: string },
): Promise<BackendAddress> {
  if (spec.path !== undefined) return { kind: 'unix', path: spec.path };
  if (spec.host === undefined) throw new Error(`Backend ${name}: no .host and no .path`);
  const split = splitHostPort(spec.host);
  const port = parsePort(name, split.port ?? spec.port);
  const host = split.host;
  const literal = isIP(host);
  if (literal === 4 || literal === 6) return { kind: 'tcp', ip: host, port, family: literal };
  let found: { address: string; family: number };
  try {
    found = await lookup(host);
  } catch (err) {
    const message = `Backend ${name}: host "${spec.host}" could not be resolved (${(err as Error).message})`;
    throw Object.assign(new Error(message), { code: (err as { code?: unknown }).code });
  }
  return { kind: 'tcp', ip: found.address, port, family: found.family === 6 ? 6 : 4 };
}

/** The address when it needs no lookup (a socket path or an IP literal), else null. */
export function literalAddress(
  name: string,
  spec: { readonly host?: string; readonly port?: string; readonly path?: string },
): BackendAddress | null {
  if (spec.path !== undefined) return { kind: 'unix', path: spec.path };
  if (spec.host === undefined) return null;
  const split = splitHostPort(spec.host);
  const literal = isIP(split.host);
  if (literal !== 4 && literal !== 6) return null;
  return { kind: 'tcp', ip: split.host, port: parsePort(name, split.port ?? spec.port), family: literal };
}

/** How the address reads in logs: `127.0.0.1:8080`, `[::1]:80`, or the socket path. */
export function addressText(address: BackendAddress): string {
  if (address.kind === 'unix') return address.path;
  return address.family === 6 ? `[${address.ip}]:${address.port}` : `${address.ip}:${address.port}`;
}

function parsePort(name: string, port: string | undefined): number {
  if (port === undefined || port === '') return 80;
  const service = SERVICES[port.toLowerCase()];
  if (service !== undefined) return service;
  if (!/^\d+$/.test(port)) throw new Error(`Backend ${name}: port "${port}" is not a number or a known service`);
  const n = Number(port);
  if (n < 1 || n > 65535) throw new Error(`Backend ${name}: port ${port} is out of range`);
  return n;
}

/**
 * `.host` may carry its own port, as Varnish's address parser allows: `a:80`, `a 80`,
 * `[::1]:80`, `[::1] 80`; that port wins over `.port`. A bare IPv6 literal has no port.
 */
export function splitHostPort(text: string): { host: string; port: string | undefined } {
  const bracketed = /^\[([^\]]*)\](?:[: ](\S+))?$/.exec(text);
  if (bracketed) return { host: bracketed[1], port: bracketed[2] };
  const spaced = /^(\S+) (\S+)$/.exec(text);
  if (spaced) return { host: spaced[1], port: spaced[2] };
  const colons = text.split(':').length - 1;
  if (colons === 1) {
    const i = text.indexOf(':');
    return { host: text.slice(0, i), port: text.slice(i + 1) };
  }
  return { host: text, port: undefined };
}
