// http_gzip_support on the request side: Varnish reduces Accept-Encoding to what the cache
// cares about after vcl_recv, for any request that goes to the cache: `gzip` when the client
// takes gzip, else nothing. (A pass or a pipe keeps the client's own header.)

import type { VclHttp } from '../runtime/http.ts';
import { acceptsGzip } from '../runtime/variables.ts';

export function normaliseAcceptEncoding(req: VclHttp): void {
  const ae = req.getKey('accept-encoding');
  if (ae === null || ae === 'gzip') return;
  if (acceptsGzip(ae)) req.set('Accept-Encoding', 'gzip');
  else req.unset('Accept-Encoding');
}
