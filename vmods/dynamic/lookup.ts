// Name resolution for dynamic directors: node's dns.lookup (getaddrinfo: /etc/hosts, then DNS),
// every address of a name. One replaceable function, so that tests can answer with loopback
// addresses of their choosing and change the answer while traffic runs.

import { lookup } from 'node:dns/promises';

export type Lookup = (host: string) => Promise<string[]>;

export const resolver: { lookup: Lookup } = {
  lookup: async (host) => (await lookup(host, { all: true })).map((a) => a.address),
};

/** A lookup bounded in time: rejects after `seconds`. */
export function lookupWithin(host: string, seconds: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lookup timed out after ${seconds}s`)), seconds * 1000);
    timer.unref();
    resolver.lookup(host).then(
      (addresses) => {
        clearTimeout(timer);
        resolve(addresses);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
