// The narrow views of HTTP messages the cache reads. VclHttp (src/runtime/http.ts) satisfies
// them; the cache never needs more than header lookups and the URL, so tests and callers can
// pass anything shaped like this.

/** Header lookup by name, any case: the first header of that name, or null. */
export interface HeaderReader {
  get(name: string): string | null;
}

/** A response whose repeated headers the TTL rules join (Cache-Control). */
export interface ResponseHeaders extends HeaderReader {
  getAll(name: string): string[];
}

/** What bans and Vary read of a client request. */
export interface RequestView extends HeaderReader {
  readonly url: string;
}
