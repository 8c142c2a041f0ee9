// The header table: which headers Varnish 7.1 leaves out where, declared once (its meaning is
// that of Varnish's tbl/http_headers.h; the flags were checked with varnishtest). Every set the
// proxy uses is derived from it:
// - PASS_REQ:   not copied from req to bereq on a pass (nor for a pipe's Connection);
// - FETCH_REQ:  not copied from req to bereq on a fetch into the cache (a miss): the cache
//               answers conditions and ranges itself, and the request's Cache-Control is not
//               the origin's business;
// - INSERT:     not kept when a backend response becomes a cached object (vcl_backend_response
//               still sees them; vcl_deliver does not);
// - PASS_OBJ:   not kept when a backend response becomes a pass's private object;
// - CONN:       belongs to one connection (HTTP/2 drops these when delivering).
// Headers that a received Connection header names are marked on arrival and dropped as well
// wherever a flag drops headers (markConnectionNamed below).
// A leaf: every part may import it; it imports nothing but the HTTP object's type.

/** What the functions below need of a header list (runtime's VclHttp is one). */
export interface HeaderLines {
  readonly count: number;
  nameAt(i: number): string;
  valueAt(i: number): string;
  has(name: string): boolean;
  getAll(name: string): readonly string[];
  append(name: string, value: string): void;
  unset(name: string): void;
  clear(): void;
  clone(): HeaderLines;
}

export const HDR = {
  PASS_REQ: 1 << 0,
  FETCH_REQ: 1 << 1,
  INSERT: 1 << 2,
  PASS_OBJ: 1 << 3,
  CONN: 1 << 4,
} as const;

const { PASS_REQ: P, FETCH_REQ: F, INSERT: I, PASS_OBJ: S, CONN: K } = HDR;

/** Every header Varnish 7.1 knows, with its flags (0: it goes everywhere). */
export const HEADER_TABLE: Readonly<Record<string, number>> = {
  accept: 0,
  'accept-charset': 0,
  'accept-encoding': 0,
  'accept-language': 0,
  'accept-ranges': P | F | I,
  allow: 0,
  authorization: 0,
  'content-encoding': 0,
  'content-language': 0,
  'content-length': 0,
  'content-location': 0,
  'content-md5': 0,
  'content-type': 0,
  cookie: 0,
  date: 0,
  etag: 0,
  expect: 0,
  expires: 0,
  from: 0,
  host: 0,
  'last-modified': 0,
  location: 0,
  'max-forwards': 0,
  pragma: 0,
  referer: 0,
  'retry-after': 0,
  server: 0,
  'set-cookie': 0,
  'user-agent': 0,
  vary: 0,
  via: 0,
  warning: 0,
  'www-authenticate': 0,
  'x-forwarded-for': 0,
  age: I | S,
  'cache-control': F,
  connection: P | F | I | S | K,
  'content-range': F | I,
  'http2-settings': P | F | I | S | K,
  'if-match': F,
  'if-modified-since': F,
  'if-none-match': F,
  'if-range': F,
  'if-unmodified-since': F,
  'keep-alive': P | F | I | S | K,
  'proxy-authenticate': F | I,
  'proxy-authorization': F | I,
  range: F | I,
  te: P | F | I | S,
  trailer: P | F | I | S,
  'transfer-encoding': P | F | I | S | K,
  upgrade: P | F | I | S | K,
};

/** The lower-case names that carry `flag`. */
export function headersWith(flag: number): ReadonlySet<string> {
  return new Set(Object.keys(HEADER_TABLE).filter((name) => (HEADER_TABLE[name] & flag) !== 0));
}

/** What a pass sends on, and what a fetch into the cache sends on, of the client's request. */
export const NOT_PASSED: ReadonlySet<string> = headersWith(P);
export const NOT_FETCHED: ReadonlySet<string> = headersWith(F);
/** What a cached object, and a pass's private object, do not keep of the backend response. */
export const NOT_STORED: ReadonlySet<string> = headersWith(I);
export const NOT_STORED_ON_PASS: ReadonlySet<string> = headersWith(S);
/** Headers of one connection: the writer of a response sets these itself, never copies them. */
export const CONNECTION_SPECIFIC: ReadonlySet<string> = headersWith(K);
/**
 * Known headers a Connection header may not name: those a pass forwards. Naming one (Connection:
 * Host, Connection: Content-Length) is refused, as varnishd does, so a hop-by-hop declaration
 * cannot strip a header the framing or the cache depends on.
 */
export const NOT_DROPPABLE: ReadonlySet<string> = new Set(Object.keys(HEADER_TABLE).filter((name) => (HEADER_TABLE[name] & P) === 0));
/** A pipe drops only the Connection header and what it names (the backend is told to close). */
export const NOT_PIPED: ReadonlySet<string> = new Set(['connection']);

/**
 * The header lines a Connection header names, marked when a message arrives (Varnish's
 * http_DoConnection): they stay visible to VCL, but are not copied into a bereq, nor kept in an
 * object. A header VCL sets later under the same name is a new line and is not marked. Each
 * entry is one received line, as its lower-case name and its value.
 */
export type ConnectionMarks = readonly (readonly [string, string])[];

/**
 * Marks what the Connection headers of a received message name. 'refused' when one names a
 * well-known header that a pass would forward (Connection: Age, Cache-Control...): Varnish
 * refuses such a request with 400, and such a backend response fails the fetch. null when
 * nothing is named.
 */
export function markConnectionNamed(http: HeaderLines): ConnectionMarks | 'refused' | null {
  // Most requests have no Connection header, or one that names nothing: no allocation then.
  if (!http.has('connection')) return null;
  let marks: [string, string][] | null = null;
  for (const v of http.getAll('Connection')) {
    for (const token of v.split(',')) {
      const name = token.trim().toLowerCase();
      if (name === '' || name === 'close' || name === 'keep-alive') continue;
      if (NOT_DROPPABLE.has(name)) return 'refused';
      for (let i = 0; i < http.count; i++) {
        if (http.nameAt(i).toLowerCase() !== name) continue;
        marks ??= [];
        marks.push([name, http.valueAt(i)]);
      }
    }
  }
  return marks;
}

/** Whether a line is one of the marked lines not yet used up (and uses it up). */
function takeMark(marks: [string, string][], lower: string, value: string): boolean {
  for (let j = 0; j < marks.length; j++) {
    if (marks[j][0] === lower && marks[j][1] === value) {
      marks.splice(j, 1);
      return true;
    }
  }
  return false;
}

/** Copies the headers of `from` into `to`, but those in `drop` and the marked lines. */
export function copyHeaders(from: HeaderLines, to: HeaderLines, drop: ReadonlySet<string>, marks: ConnectionMarks | null = null): void {
  const left = marks === null ? null : marks.map((m) => [m[0], m[1]] as [string, string]);
  for (let i = 0; i < from.count; i++) {
    const name = from.nameAt(i);
    const lower = name.toLowerCase();
    if (drop.has(lower)) continue;
    if (left !== null && takeMark(left, lower, from.valueAt(i))) continue;
    to.append(name, from.valueAt(i));
  }
}

/** Removes from `http` the headers in `drop`, and the marked lines (a response becoming an object). */
export function dropHeaders(http: HeaderLines, drop: ReadonlySet<string>, marks: ConnectionMarks | null = null): void {
  for (const name of drop) http.unset(name);
  if (marks === null) return;
  const kept = http.clone();
  http.clear();
  copyHeaders(kept, http, drop, marks);
}
