// The header names Varnish 7.1 knows (its tbl/http_headers.h), lower-cased, and whether each is
// one a pass drops anyway (HTTPH_R_PASS). A client's Connection header may name a header to drop
// only if it is unknown or one of those: naming any other known header (Connection: Host,
// Connection: Content-Length) is refused with 400, as varnishd does, so that a hop-by-hop
// declaration cannot strip a header the framing or the cache depends on.

// (The ones a pass drops: Keep-Alive, Connection, HTTP2-Settings, TE, Trailer,
// Transfer-Encoding, Upgrade. They, and every unknown name, may be named.)
const OTHERS = [
  'accept', 'accept-charset', 'accept-encoding', 'accept-language', 'accept-ranges', 'age', 'allow',
  'authorization', 'cache-control', 'content-encoding', 'content-language', 'content-length',
  'content-location', 'content-md5', 'content-range', 'content-type', 'cookie', 'date', 'etag',
  'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate',
  'proxy-authorization', 'range', 'referer', 'retry-after', 'server', 'user-agent', 'vary', 'via',
  'warning', 'www-authenticate', 'x-forwarded-for',
];

/** Known headers a Connection header may not name. */
export const NOT_DROPPABLE: ReadonlySet<string> = new Set(OTHERS);
