// The header changes a filter makes when it changes the body's encoding, as Varnish makes them.

import type { VclHttp } from '../runtime/http.ts';

/** A strong ETag becomes weak: the bytes changed, their meaning did not. */
export function weakenEtag(h: VclHttp): void {
  const etag = h.get('ETag');
  if (etag === null || etag.startsWith('W/')) return;
  h.unset('ETag');
  h.set('ETag', `W/${etag}`);
}

/** Vary gains Accept-Encoding when it lacks it (a gzipped object is served by encoding). */
export function varyAcceptEncoding(h: VclHttp): void {
  const vary = h.get('Vary');
  if (vary === null) {
    h.set('Vary', 'Accept-Encoding');
    return;
  }
  if (vary.split(',').some((v) => v.trim().toLowerCase() === 'accept-encoding')) return;
  h.unset('Vary');
  h.set('Vary', `${vary}, Accept-Encoding`);
}

