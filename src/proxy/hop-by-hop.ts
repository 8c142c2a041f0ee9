// The response headers that belong to one connection (RFC 9110 7.6.1, plus Keep-Alive and
// Proxy-Connection): an object never stores them and a client never gets them forwarded.
// Lower-cased, as header lookups compare them.

export const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
