// Shellac's client-side HTTP/1.1: parse heads and bodies by Varnish 7.1's rules, write
// responses, run connections. It knows nothing of VCL or the cache (src/proxy drives it).

export { BodyError } from './body.ts';
export { CLOSE_REASONS, type CloseReason, type Http1Counters } from './close-reasons.ts';
export { type Http1Context, Http1Connection, type Http1Handler, type Http1Settings } from './connection.ts';
export type { BodyFraming, RequestHead } from './framing.ts';
export { type ProxyEndpoint, type ProxyInfo, proxyTlv } from './proxy-protocol.ts';
export { Http1Request } from './request.ts';
export { Http1Response } from './response.ts';
export { createHttp1Server } from './server.ts';
