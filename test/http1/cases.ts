// The request-smuggling and framing table: raw bytes a client sends, and what varnishd 7.1.1
// answered to the same bytes (each case was sent to varnishd in front of a recording origin
// and its answer noted here): the status (null when it closed without a word), whether it
// closed the connection, and what reached the origin. Shellac must do the same, and nothing
// ambiguous may ever reach the origin. One deliberate difference: when a chunked body breaks
// on the way, varnishd ends the backend request with a last chunk, so the origin gets a
// complete request with a cut body; Shellac aborts it, so that no complete request reaches it. The table is shared by the end-to-end test and kept as
// data so that more cases are a line each.

export interface OriginExpectation {
  readonly method?: string;
  readonly url?: string;
  /** The body the origin must get, de-chunked. */
  readonly body: string;
  /** Header values the origin must see (lower-case names); null for a header that must be absent. */
  readonly headers?: Readonly<Record<string, string | null>>;
}

export interface FramingCase {
  readonly name: string;
  readonly bytes: string;
  readonly status: number | null;
  readonly closed: boolean;
  /**
   * What reached the origin: nothing (refused before any VCL), one request per entry, or
   * 'broken' for a body that failed on the way (no complete request may reach it).
   */
  readonly origin: 'nothing' | 'broken' | readonly OriginExpectation[];
}

const H = 'Host: x\r\n';
const get = (extra: string) => `GET / HTTP/1.1\r\n${H}${extra}\r\n`;
const post = (extra: string, body: string) => `POST / HTTP/1.1\r\n${H}${extra}\r\n${body}`;
const chunked = (body: string) => post('Transfer-Encoding: chunked\r\n', body);
const SMUGGLED = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';

const refused = (name: string, bytes: string, status = 400): FramingCase => ({ name, bytes, status, closed: true, origin: 'nothing' });
const served = (name: string, bytes: string, origin: readonly OriginExpectation[], closed = false): FramingCase => ({ name, bytes, status: 200, closed, origin });
const broken = (name: string, bytes: string): FramingCase => ({ name, bytes, status: 503, closed: true, origin: 'broken' });

/** Every control byte but TAB, in a header value: 400 before any VCL. */
const controlBytes: FramingCase[] = [];
for (let c = 0; c < 0x20; c++) {
  if (c === 0x09) continue;
  controlBytes.push(refused(`control byte 0x${c.toString(16).padStart(2, '0')} in a value`, get(`X-A: a${String.fromCharCode(c)}b\r\n`)));
}
controlBytes.push(refused('DEL (0x7f) in a value', get('X-A: a\x7fb\r\n')));

export const CASES: readonly FramingCase[] = [
  // ---- what issue 10 found ----
  refused('space before the colon (Transfer-Encoding)', post('Transfer-Encoding : chunked\r\n', '0\r\n\r\n')),
  refused('space before the colon (any header)', get('X-A : b\r\n')),
  refused('TAB before the colon', get('X-A\t: b\r\n')),
  refused('space before the colon (Content-Length)', post('Content-Length : 1\r\n', 'a')),
  refused('CL.TE: Content-Length then Transfer-Encoding, smuggled request', post('Content-Length: 4\r\nTransfer-Encoding: chunked\r\n', `0\r\n\r\n${SMUGGLED}`)),
  refused('TE.CL: Transfer-Encoding then Content-Length, smuggled request', post('Transfer-Encoding: chunked\r\nContent-Length: 40\r\n', `0\r\n\r\n${SMUGGLED}`)),
  refused('CL.TE with Content-Length 0', post('Content-Length: 0\r\nTransfer-Encoding: chunked\r\n', `0\r\n\r\n${SMUGGLED}`)),
  refused('CL.TE with upper-case names', post('CONTENT-LENGTH: 4\r\nTRANSFER-ENCODING: CHUNKED\r\n', `0\r\n\r\n${SMUGGLED}`)),
  refused('two Content-Length, the same', post('Content-Length: 1\r\nContent-Length: 1\r\n', 'a')),
  refused('two Content-Length, different', post('Content-Length: 1\r\nContent-Length: 40\r\n', `a${SMUGGLED}`)),
  refused('Transfer-Encoding: chunked, identity', post('Transfer-Encoding: chunked, identity\r\n', '0\r\n\r\n')),
  refused('Transfer-Encoding: xchunked', post('Transfer-Encoding: xchunked\r\n', '0\r\n\r\n')),
  refused('Transfer-Encoding: identity with Content-Length', post('Transfer-Encoding: identity\r\nContent-Length: 1\r\n', 'a')),
  refused('Transfer-Encoding: gzip, chunked', post('Transfer-Encoding: gzip, chunked\r\n', '0\r\n\r\n')),
  refused('Transfer-Encoding: chunked;x', post('Transfer-Encoding: chunked;x\r\n', '0\r\n\r\n')),
  refused('Transfer-Encoding empty', post('Transfer-Encoding:\r\n', '')),
  refused('Transfer-Encoding: "chunked" (quoted)', post('Transfer-Encoding: "chunked"\r\n', '0\r\n\r\n')),
  ...controlBytes,
  refused('NUL in a header name', get('X-\x00A: b\r\n')),
  refused('bare CR ending a header line', `GET / HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n`),
  refused('bare CR inside a value', get('X-A: a\rb\r\n')),
  // ---- header lines ----
  refused('first header line starting with a space', `GET / HTTP/1.1\r\n X-A: a\r\n${H}\r\n`),
  refused('first header line starting with a TAB', `GET / HTTP/1.1\r\n\tX-A: a\r\n${H}\r\n`),
  refused('header line without a colon', get('Foo\r\n')),
  refused('header with an empty name', get(': v\r\n')),
  refused('( in a header name', get('X(A): v\r\n')),
  refused('non-ASCII byte in a header name', get('X\xe9: v\r\n')),
  refused('/ in a header name', get('X/A: v\r\n')),
  refused('two Host headers', `GET / HTTP/1.1\r\n${H}${H}\r\n`),
  refused('two Host headers, different', `GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n`),
  // ---- Content-Length values ----
  refused('Content-Length: +1', post('Content-Length: +1\r\n', 'a')),
  refused('Content-Length: -1', post('Content-Length: -1\r\n', 'a')),
  refused('Content-Length: 1a', post('Content-Length: 1a\r\n', 'a')),
  refused('Content-Length empty', post('Content-Length:\r\n', '')),
  refused('Content-Length: 1,1', post('Content-Length: 1,1\r\n', 'a')),
  refused('Content-Length: 1 1', post('Content-Length: 1 1\r\n', 'a')),
  refused('Content-Length: 0x1', post('Content-Length: 0x1\r\n', 'a')),
  refused('Content-Length: 1e1', post('Content-Length: 1e1\r\n', 'aaaaaaaaaa')),
  refused('Content-Length far too large', post('Content-Length: 99999999999999999999999\r\n', 'a')),
  // ---- request line ----
  refused('HTTP/1.2', `GET / HTTP/1.2\r\n${H}\r\n`),
  refused('HTTP/2.0', `GET / HTTP/2.0\r\n${H}\r\n`),
  refused('HTTP/0.9', `GET / HTTP/0.9\r\n${H}\r\n`),
  refused('no protocol', `GET /\r\n${H}\r\n`),
  refused('a protocol nobody speaks', `GET / nonsense\r\n${H}\r\n`),
  refused('a space after the protocol', `GET / HTTP/1.1 \r\n${H}\r\n`),
  refused('a fourth field', `GET / HTTP/1.1 x\r\n${H}\r\n`),
  refused('TABs between the fields', `GET\t/\tHTTP/1.1\r\n${H}\r\n`),
  refused('a space in the URL', `GET /a b HTTP/1.1\r\n${H}\r\n`),
  refused('a control byte in the URL', `GET /\x01 HTTP/1.1\r\n${H}\r\n`),
  refused('DEL in the method', `G\x7fT / HTTP/1.1\r\n${H}\r\n`),
  refused('a line that is no request', 'hello\r\n\r\n'),
  refused('a method alone', 'GET\r\n\r\n'),
  refused('HTTP/1.0 POST without a length', `POST / HTTP/1.0\r\n${H}\r\nabc`),
  refused('HTTP/1.0 PUT without a length', `PUT / HTTP/1.0\r\n${H}\r\nabc`),
  // ---- Connection and Expect ----
  refused('Connection names Content-Length', post('Connection: Content-Length\r\nContent-Length: 2\r\n', 'ab')),
  refused('Connection names Host', get('Connection: Host\r\n')),
  refused('Connection names X-Forwarded-For', get('Connection: X-Forwarded-For\r\n')),
  refused('Connection names Cookie', get('Connection: cookie\r\n')),
  refused('Connection names Range', get('Connection: range\r\n')),
  refused('Connection names Set-Cookie', get('Connection: Set-Cookie\r\nSet-Cookie: x\r\n')),
  refused('Connection: close, Content-Length', post('Connection: close, Content-Length\r\nContent-Length: 2\r\n', 'ab')),
  refused('Expect other than 100-continue', post('Expect: foo\r\nContent-Length: 2\r\n', 'ab'), 417),
  refused('a smuggled request after a refused one is never read', `GET / HTTP/1.1\r\n${H}X-A : b\r\n\r\n${SMUGGLED}`),
  // ---- limits (defaults: http_req_hdr_len 8k, http_max_hdr 64) ----
  refused('a header line one byte past http_req_hdr_len', get(`X-A: ${'a'.repeat(8188)}\r\n`)),
  refused('60 headers (past http_max_hdr 64 less the 5 slots of the first line)', `GET / HTTP/1.1\r\n${H}${headers(59)}\r\n`),
  { name: 'a head past http_req_size', bytes: get(`${headers(4, 8000)}X-E: ${'a'.repeat(1000)}\r\n`), status: null, closed: true, origin: 'nothing' },
  { name: 'an HTTP/2 preface', bytes: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', status: null, closed: true, origin: 'nothing' },

  // ---- accepted, with exactly what the origin gets ----
  served('a plain GET', get(''), [{ method: 'GET', url: '/', body: '' }]),
  served('a header line of exactly http_req_hdr_len', get(`X-A: ${'a'.repeat(8187)}\r\n`), [{ body: '', headers: { 'x-a': 'a'.repeat(8187) } }]),
  served('obs-fold in a value, answered once', get('X-A: a\r\n b\r\n'), [{ body: '', headers: { 'x-a': 'a   b' } }]),
  served('obs-fold before chunked', post('Transfer-Encoding:\r\n chunked\r\n', '1\r\na\r\n0\r\n\r\n'), [{ method: 'POST', body: 'a' }]),
  served('TAB in a value', get('X-A: a\tb\r\n'), [{ body: '', headers: { 'x-a': 'a\tb' } }]),
  served('a non-ASCII byte in a value', get('X-A: a\xe9b\r\n'), [{ body: '', headers: { 'x-a': 'a\xe9b' } }]),
  served('white space around a value', get('X-A:  \t b \t \r\n'), [{ body: '', headers: { 'x-a': 'b' } }]),
  served('no space after the colon', get('X-A:b\r\n'), [{ body: '', headers: { 'x-a': 'b' } }]),
  served('bare LF line ends', 'GET / HTTP/1.1\nHost: x\nX-A: b\n\n', [{ body: '', headers: { 'x-a': 'b' } }]),
  served('CR LF, then a bare LF to end the head', `GET / HTTP/1.1\r\n${H}\n`, [{ body: '' }]),
  served('empty lines before the request', `\r\n\r\nGET /lead HTTP/1.1\r\n${H}\r\n`, [{ url: '/lead', body: '' }]),
  served('white space before the method', ` GET /ws HTTP/1.1\r\n${H}\r\n`, [{ url: '/ws', body: '' }]),
  served('two spaces between the fields', `GET  /two  HTTP/1.1\r\n${H}\r\n`, [{ url: '/two', body: '' }]),
  served('the protocol in lower case', `GET / http/1.1\r\n${H}\r\n`, [{ body: '' }]),
  served('method BAN', `BAN /x HTTP/1.1\r\n${H}\r\n`, [{ method: 'BAN', url: '/x', body: '' }]),
  served('method SWAP', `SWAP /x HTTP/1.1\r\n${H}\r\n`, [{ method: 'SWAP', body: '' }]),
  // varnishd passes a method with non-token bytes and the URL `*` on to its backend, as they came.
  served('a method with non-token bytes', `G(T /x HTTP/1.1\r\n${H}\r\n`, [{ method: 'G(T', url: '/x', body: '' }]),
  served('the URL *', `OPTIONS * HTTP/1.1\r\n${H}\r\n`, [{ method: 'OPTIONS', url: '*', body: '' }]),
  served('method in lower case', `get /x HTTP/1.1\r\n${H}\r\n`, [{ method: 'get', body: '' }]),
  served('a non-ASCII byte in the URL', `GET /\xe9 HTTP/1.1\r\n${H}\r\n`, [{ url: '/\xe9', body: '' }]),
  served('an absolute URL moves its authority into Host', `GET http://y.example/p?q HTTP/1.1\r\n${H}\r\n`, [{ url: '/p?q', body: '', headers: { host: 'y.example' } }]),
  served('an empty Host', 'GET / HTTP/1.1\r\nHost:\r\n\r\n', [{ body: '' }]),
  served('HTTP/1.1 without Host', 'GET /nohost HTTP/1.1\r\n\r\n', [{ url: '/nohost', body: '' }]),
  served('Content-Length with white space', post('Content-Length:  1 \r\n', 'a'), [{ body: 'a' }]),
  served('Content-Length with leading zeros', post('Content-Length: 0001\r\n', 'a'), [{ body: 'a' }]),
  served('Content-Length after a TAB', post('Content-Length:\t1\r\n', 'a'), [{ body: 'a' }]),
  served('Content-Length: 0', post('Content-Length: 0\r\n', ''), [{ body: '' }]),
  served('POST without a length on HTTP/1.1 has no body', post('', ''), [{ method: 'POST', body: '' }]),
  served('Transfer-Encoding: CHUNKED', post('Transfer-Encoding: CHUNKED\r\n', '1\r\na\r\n0\r\n\r\n'), [{ body: 'a' }]),
  served('Transfer-Encoding: chunked with trailing space', post('Transfer-Encoding: chunked \r\n', '1\r\na\r\n0\r\n\r\n'), [{ body: 'a' }]),
  served('two Transfer-Encoding headers: the first counts', post('Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n', '1\r\na\r\n0\r\n\r\n'), [{ body: 'a', headers: { 'transfer-encoding': 'chunked' } }]),
  served('chunked, LF-only lines', post('Transfer-Encoding: chunked\r\n', '2\nab\n0\n\n'), [{ body: 'ab' }]),
  served('chunked, bare LF head and body', 'POST / HTTP/1.1\nHost: x\nTransfer-Encoding: chunked\n\n1\na\n0\n\n', [{ body: 'a' }]),
  served('chunked, space after the size', chunked('2 \r\nab\r\n0\r\n\r\n'), [{ body: 'ab' }]),
  served('chunked, TAB after the size', chunked('1\t\r\na\r\n0\r\n\r\n'), [{ body: 'a' }]),
  served('chunked, space before the size', chunked(' 1\r\na\r\n0\r\n\r\n'), [{ body: 'a' }]),
  served('chunked, many leading zeros', chunked('00000000000000000000000001\r\na\r\n0\r\n\r\n'), [{ body: 'a' }]),
  served('chunked, upper-case hex', chunked('A\r\n0123456789\r\n0\r\n\r\n'), [{ body: '0123456789' }]),
  served('chunked, last chunk 00', chunked('1\r\na\r\n00\r\n\r\n'), [{ body: 'a' }]),
  served('chunked, empty body', chunked('0\r\n\r\n'), [{ body: '' }]),
  served('chunked, several chunks', chunked('1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n0\r\n\r\n'), [{ body: 'abcdef' }]),
  served('Expect: 100-continue is taken off', post('Expect: 100-continue\r\nContent-Length: 2\r\n', 'ab'), [{ body: 'ab', headers: { expect: null } }]),
  served('Expect: 100-Continue in another case', post('Expect: 100-Continue\r\nContent-Length: 2\r\n', 'ab'), [{ body: 'ab', headers: { expect: null } }]),
  served('Connection: X-Foo drops X-Foo on the way', get('Connection: X-Foo\r\nX-Foo: 1\r\n'), [{ body: '', headers: { 'x-foo': null } }]),
  served('Connection names Transfer-Encoding', post('Connection: transfer-encoding\r\nContent-Length: 1\r\n', 'a'), [{ body: 'a' }]),
  served('Connection names Upgrade', get('Connection: Upgrade\r\n'), [{ body: '' }]),
  served('Connection names Accept-Ranges (a pass drops it)', get('Connection: Accept-Ranges\r\nAccept-Ranges: x\r\n'), [{ body: '', headers: { 'accept-ranges': null } }]),
  served('Connection with empty tokens', get('Connection: ,, \r\n'), [{ body: '' }]),
  served('Connection: close', get('Connection: close\r\n'), [{ body: '' }], true),
  served('Connection: keep-alive, close', get('Connection: keep-alive, close\r\n'), [{ body: '' }], true),
  served('HTTP/1.0 GET closes after', `GET / HTTP/1.0\r\n${H}\r\n`, [{ body: '' }], true),
  served('HTTP/1.0 keep-alive stays open', `GET / HTTP/1.0\r\n${H}Connection: keep-alive\r\n\r\n`, [{ body: '' }]),
  served('HTTP/1.0 PUT with keep-alive and no length', `PUT / HTTP/1.0\r\n${H}Connection: keep-alive\r\n\r\n`, [{ method: 'PUT', body: '' }]),
  served('HTTP/1.0 PATCH without a length: no body, then close', `PATCH / HTTP/1.0\r\n${H}\r\nabc`, [{ method: 'PATCH', body: '' }], true),
  served('HTTP/1.0 chunked body', `POST / HTTP/1.0\r\n${H}Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n`, [{ body: 'a' }], true),
  // (59 pass the parser too, but varnishd then runs out of header slots for its own and answers 500.)
  served('58 headers', `GET / HTTP/1.1\r\n${H}${headers(57)}\r\n`, [{ body: '' }]),
  served('a URL past http_req_hdr_len', `GET /${'a'.repeat(8200)} HTTP/1.1\r\n${H}\r\n`, [{ url: `/${'a'.repeat(8200)}`, body: '' }]),
  served('a head just under http_req_size', get(`${headers(4, 8000)}X-E: ${'a'.repeat(600)}\r\n`), [{ body: '' }]),
  served('two pipelined requests', `GET /1 HTTP/1.1\r\n${H}\r\nGET /2 HTTP/1.1\r\n${H}\r\n`, [
    { url: '/1', body: '' },
    { url: '/2', body: '' },
  ]),
  served('a request after a Content-Length body', `POST /1 HTTP/1.1\r\n${H}Content-Length: 1\r\n\r\naGET /2 HTTP/1.1\r\n${H}\r\n`, [
    { url: '/1', body: 'a' },
    { url: '/2', body: '' },
  ]),
  served('a request after a chunked body', `POST /1 HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\nGET /2 HTTP/1.1\r\n${H}\r\n`, [
    { url: '/1', body: 'a' },
    { url: '/2', body: '' },
  ]),

  // ---- bodies that break: 503, closed, and no complete request at the origin ----
  broken('chunk extension', chunked('2;a=b\r\nab\r\n0\r\n\r\n')),
  broken('chunk extension after a space', chunked('1 ;e\r\na\r\n0\r\n\r\n')),
  broken('chunk size not hex', chunked('zz\r\nab\r\n0\r\n\r\n')),
  broken('chunk size 0x1', chunked('0x1\r\na\r\n0\r\n\r\n')),
  broken('chunk size -1', chunked('-1\r\na\r\n0\r\n\r\n')),
  broken('chunk size line CR CR LF', chunked('1\r\r\na\r\n0\r\n\r\n')),
  broken('an empty line before a chunk size', chunked('\r\n1\r\na\r\n0\r\n\r\n')),
  broken('a bare LF before a chunk size', chunked('\n1\r\na\r\n0\r\n\r\n')),
  broken('chunk data longer than its size', chunked('2\r\nabX\r\n0\r\n\r\n')),
  broken('chunk data followed by a bare CR', chunked('1\r\na\r0\r\n\r\n')),
  broken('trailers after the last chunk', chunked('2\r\nab\r\n0\r\nX-T: 1\r\n\r\n')),
  broken('chunk size past 2^64', chunked('ffffffffffffffffff\r\nab\r\n0\r\n\r\n')),
  broken('chunk size of 21 digits', chunked('100000000000000000000\r\nab\r\n0\r\n\r\n')),
];

function headers(n: number, len = 1): string {
  return Array.from({ length: n }, (_, i) => `X-${i}: ${'v'.repeat(len)}\r\n`).join('');
}
