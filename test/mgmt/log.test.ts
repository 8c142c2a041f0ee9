import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, LogHub, type TxRecord } from '../../src/common/log.ts';
import { compileQuery, QueryError } from '../../src/mgmt/log-query.ts';
import { formatTxText } from '../../src/mgmt/log-text.ts';
import { compileNcsa, strftime } from '../../src/mgmt/ncsa.ts';

/** A pino destination that keeps the parsed lines. */
function memoryStream(): { stream: Writable; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { stream, lines };
}

/** A client transaction as the proxy would log it. */
function clientTx(hub: LogHub, vxid: number, url: string, status: number, extra: (tx: NonNullable<ReturnType<LogHub['begin']>>) => void = () => {}): void {
  const tx = hub.begin('client', vxid, 0);
  if (!tx) return;
  tx.set('client', { ip: '192.0.2.7', port: 40000 });
  tx.set('vcl', 'boot');
  tx.req('GET', url, 'HTTP/1.1', [
    ['Host', 'example.com'],
    ['User-Agent', 'curl/8'],
  ]);
  tx.time('Req');
  tx.call('recv');
  tx.ret('hash');
  tx.call('hash');
  tx.ret('lookup');
  extra(tx);
  tx.resp(status, status === 200 ? 'OK' : 'Service Unavailable', 'HTTP/1.1', [['Content-Length', '5']]);
  tx.bytes(70, 0, 110, 5);
  tx.time('Resp');
  tx.end();
}

function record(over: Partial<TxRecord> = {}): TxRecord {
  return {
    side: 'client',
    vxid: 1001,
    parent: 1000,
    start: Date.UTC(2030, 0, 2, 3, 4, 5) / 1000,
    client: { ip: '192.0.2.7', port: 40000 },
    req: {
      method: 'GET',
      url: '/api/items?page=2',
      proto: 'HTTP/1.1',
      headers: [
        ['Host', 'example.com'],
        ['Referer', 'http://example.com/'],
        ['User-Agent', 'curl/8'],
        ['Authorization', `Basic ${Buffer.from('alice:secret').toString('base64')}`],
      ],
    },
    resp: { status: 200, reason: 'OK', proto: 'HTTP/1.1', headers: [['Content-Type', 'text/plain']] },
    handling: 'hit',
    calls: [
      { sub: 'recv', ret: 'hash' },
      { sub: 'hit', ret: 'deliver' },
      { sub: 'deliver', ret: 'deliver' },
    ],
    logs: ['tenant: acme', 'plain line'],
    errors: [],
    timings: { Start: 0, Req: 0.0001, Process: 0.0004, Resp: 0.0015 },
    bytes: { reqHdr: 120, reqBody: 0, respHdr: 150, respBody: 1234 },
    ...over,
  };
}

describe('the log hub', () => {
  it('builds no record when the level is off and nobody reads', () => {
    const hub = new LogHub({ logger: createLogger({ level: 'info', stream: memoryStream().stream }) });
    expect(hub.active).toBe(false);
    expect(hub.begin('client', 1, 0)).toBeNull();
    const bare = new LogHub();
    expect(bare.begin('client', 1, 0)).toBeNull();
  });

  it('writes one JSON line per transaction to pino when the transaction level is on', () => {
    const mem = memoryStream();
    const logger = createLogger({ level: 'info', stream: mem.stream });
    const hub = new LogHub({ logger });
    clientTx(hub, 1001, '/', 200);
    expect(mem.lines).toEqual([]);
    logger.level = 'debug';
    expect(hub.active).toBe(true);
    clientTx(hub, 1002, '/x', 200, (tx) => tx.log('hello'));
    expect(mem.lines).toHaveLength(1);
    const line = mem.lines[0] as unknown as TxRecord & { msg: string; level: number };
    expect(line.msg).toBe('tx');
    expect(line.level).toBe(20);
    expect(line.vxid).toBe(1002);
    expect(line.req?.url).toBe('/x');
    expect(line.calls).toEqual([
      { sub: 'recv', ret: 'hash' },
      { sub: 'hash', ret: 'lookup' },
    ]);
    expect(line.logs).toEqual(['hello']);
    expect(line.bytes).toEqual({ reqHdr: 70, reqBody: 0, respHdr: 110, respBody: 5 });
    expect(line.timings.Start).toBe(0);
    expect(line.timings.Resp).toBeGreaterThanOrEqual(line.timings.Req);
  });

  it('feeds attached readers through their filters, and stops when they detach', () => {
    const hub = new LogHub();
    const all: number[] = [];
    const errors: number[] = [];
    const detachAll = hub.attach({ write: (g) => all.push(...g.map((r) => r.vxid)) });
    hub.attach({ filter: compileQuery('RespStatus >= 500'), write: (g) => errors.push(...g.map((r) => r.vxid)) });
    expect(hub.active).toBe(true);
    clientTx(hub, 1, '/', 200);
    clientTx(hub, 2, '/', 503);
    detachAll();
    clientTx(hub, 3, '/', 200);
    clientTx(hub, 4, '/', 500);
    expect(all).toEqual([1, 2]);
    expect(errors).toEqual([2, 4]);
    expect(hub.readerCount).toBe(1);
  });

  it('ends a record once', () => {
    const hub = new LogHub();
    const seen: number[] = [];
    hub.attach({ write: (g) => seen.push(g[0].vxid) });
    const tx = hub.begin('client', 7, 0)!;
    tx.end();
    tx.end();
    expect(seen).toEqual([7]);
  });

  it('groups a request with its backend fetches; a late fetch goes alone', () => {
    const hub = new LogHub();
    const groups: string[] = [];
    hub.attach({ grouping: 'request', write: (g) => groups.push(g.map((r) => `${r.side[0]}${r.vxid}`).join(',')) });
    const be = hub.begin('backend', 11, 10)!;
    be.bereq('GET', '/a', 'HTTP/1.1');
    be.beresp(200, 'OK', 'HTTP/1.1');
    be.end();
    expect(groups).toEqual([]);
    clientTx(hub, 10, '/a', 200);
    const late = hub.begin('backend', 12, 10)!;
    late.end();
    clientTx(hub, 20, '/b', 200);
    expect(groups).toEqual(['c10,b11', 'b12', 'c20']);
  });

  it('matches a group when any of its records matches', () => {
    const hub = new LogHub();
    const groups: number[][] = [];
    hub.attach({ grouping: 'request', filter: compileQuery('BerespStatus == 404'), write: (g) => groups.push(g.map((r) => r.vxid)) });
    const be = hub.begin('backend', 31, 30)!;
    be.beresp(404, 'Not Found', 'HTTP/1.1');
    be.end();
    clientTx(hub, 30, '/gone', 200);
    clientTx(hub, 40, '/fine', 200);
    expect(groups).toEqual([[30, 31]]);
  });
});

describe('log queries', () => {
  const r = record();
  const cases: [string, boolean][] = [
    ['ReqURL ~ "^/api"', true],
    ['ReqURL ~ "^/static"', false],
    ['ReqURL !~ "^/static"', true],
    ['RespStatus >= 500', false],
    ['RespStatus == 200', true],
    ['RespStatus != 200', false],
    ['RespStatus < 300 && ReqMethod eq GET', true],
    ['RespStatus >= 500 || ReqURL ~ items', true],
    ['RespStatus >= 500 or ReqMethod eq POST', false],
    ['not RespStatus == 200', false],
    ['!(RespStatus == 200)', false],
    ['ReqHeader:host eq "example.com"', true],
    ['ReqHeader:X-Missing', false],
    ['ReqHeader:Host', true],
    ['RespHeader:Content-Type ~ "^text/"', true],
    ['VCL_call == HIT', true],
    ['VCL_call eq MISS', false],
    ['VCL_return eq deliver', true],
    ['VCL_Log:tenant eq acme', true],
    ['VCL_Log ~ "plain"', true],
    ['Timestamp:Resp > 0.001', true],
    ['Timestamp:Resp > 1', false],
    ['Handling eq hit and Side eq client', true],
    ['vxid == 1001', true],
    ['BerespStatus', false],
    ["ReqURL eq '/api/items?page=2'", true],
    ['ReqURL ~ "\\?page=\\d"', true],
    ['(RespStatus == 404 || RespStatus == 200) && not ReqURL ~ admin', true],
    ['RespStatus == 200 || RespStatus == 404 && ReqURL ~ nomatch', true],
  ];
  it.each(cases)('%s → %s', (q, want) => {
    expect(compileQuery(q)(r)).toBe(want);
  });

  it.each([
    ['', /expected a field at the end/],
    ['Nope == 1', /unknown field 'Nope' at 1/],
    ['RespStatus >', /expected a value/],
    ['RespStatus > abc', /'>' needs a number at 14/],
    ['ReqURL ~ "(unclosed"', /bad regex/],
    ['ReqURL ~ "^/a" &&', /expected a field at the end/],
    ['(RespStatus == 200', /expected '\)'/],
    ['RespStatus == 200 )', /unexpected '\)'/],
    ['ReqURL eq "open', /unterminated string/],
  ])('refuses %j', (q, msg) => {
    expect(() => compileQuery(q)).toThrow(QueryError);
    expect(() => compileQuery(q)).toThrow(msg);
  });
});

describe('NCSA lines', () => {
  it('formats the combined log line as varnishncsa does', () => {
    const line = compileNcsa()(record());
    const d = new Date(record().start * 1000);
    const stamp = strftime('%d/%b/%Y:%H:%M:%S %z', d);
    expect(line).toBe(`192.0.2.7 - alice [${stamp}] "GET http://example.com/api/items?page=2 HTTP/1.1" 200 1234 "http://example.com/" "curl/8"`);
  });

  it('prints - for a missing body, header or user', () => {
    const r = record({ bytes: { reqHdr: 10, reqBody: 0, respHdr: 20, respBody: 0 } });
    r.req!.headers = [['Host', 'h']];
    expect(compileNcsa('%b %u %{Referer}i %{X-Nope}o')(r)).toBe('- - - -');
  });

  it('knows the other format letters', () => {
    const f = compileNcsa('%m|%U|%q|%H|%s|%I|%O|%D|%T|%{ms}T|%{Content-Type}o|%{Varnish:handling}x|%{Varnish:hitmiss}x|%{Varnish:side}x|%{Varnish:vxid}x|%{VCL_Log:tenant}x|%{VCL_Log:none}x|%{%Y-%m-%d}t|100%%\\t.');
    const day = strftime('%Y-%m-%d', new Date(record().start * 1000));
    expect(f(record())).toBe(`GET|/api/items|?page=2|HTTP/1.1|200|120|1384|1500|0|1|text/plain|hit|hit|c|1001|acme|-|${day}|100%\t.`);
  });

  it('formats a backend record from bereq and beresp', () => {
    const r = record({
      side: 'backend',
      backend: 'api1',
      req: undefined,
      resp: undefined,
      bereq: { method: 'GET', url: '/x', proto: 'HTTP/1.1', headers: [['Host', 'origin']] },
      beresp: { status: 404, reason: 'Not Found', proto: 'HTTP/1.1', headers: [] },
      handling: 'fetch',
    });
    expect(compileNcsa('%h "%r" %s %{Varnish:side}x %{Varnish:hitmiss}x')(r)).toBe('api1 "GET http://origin/x HTTP/1.1" 404 b miss');
  });

  it('refuses unknown letters', () => {
    expect(() => compileNcsa('%Z')).toThrow(/not a known format letter/);
    expect(() => compileNcsa('%{Nope:x}x')).toThrow(/not a known extended variable/);
    expect(() => compileNcsa('%{Referer')).toThrow(/unterminated/);
  });
});

describe('varnishlog-style text', () => {
  it('prints tagged lines per record, a fetch indented under its request', () => {
    const be = record({
      side: 'backend',
      vxid: 1002,
      parent: 1001,
      client: undefined,
      req: undefined,
      resp: undefined,
      bereq: { method: 'GET', url: '/api/items?page=2', proto: 'HTTP/1.1', headers: [] },
      beresp: { status: 200, reason: 'OK', proto: 'HTTP/1.1', headers: [] },
      calls: [{ sub: 'backend_fetch', ret: 'fetch' }],
      logs: [],
      errors: ['first byte timeout'],
      backend: 'api1',
    });
    const text = formatTxText([record(), be]);
    const lines = text.split('\n');
    expect(lines[0]).toBe('*   << Request  >> 1001');
    expect(lines).toContain('-   ReqURL         /api/items?page=2');
    expect(lines).toContain('-   VCL_call       HIT');
    expect(lines).toContain('-   VCL_return     deliver');
    expect(lines).toContain('-   VCL_Log        tenant: acme');
    expect(lines).toContain('-   RespStatus     200');
    expect(lines).toContain('-   ReqAcct        120 0 120 150 1234 1384');
    expect(lines).toContain('**  << BeReq    >> 1002');
    expect(lines).toContain('--  Begin          bereq 1001 fetch');
    expect(lines).toContain('-   Link           bereq 1002 fetch');
    expect(lines).toContain('--  FetchError     first byte timeout');
    expect(lines).toContain('--  BerespStatus   200');
    expect(text.endsWith('--  End\n\n')).toBe(true);
  });

  it('places each std.log line inside the subroutine that wrote it, and the response before vcl_deliver, as varnishlog does', () => {
    const r = record({ logs: ['in recv', 'in deliver'], logAt: [1, 3] });
    const tags = formatTxText([r])
      .split('\n')
      .map((l) => l.slice(4).replace(/\s+/, ' ').trimEnd())
      .filter((l) => /^(VCL_|RespStatus|ReqURL)/.test(l));
    expect(tags).toEqual([
      'ReqURL /api/items?page=2',
      'VCL_call RECV',
      'VCL_Log in recv',
      'VCL_return hash',
      'VCL_call HIT',
      'VCL_return deliver',
      'RespStatus 200',
      'VCL_call DELIVER',
      'VCL_Log in deliver',
      'VCL_return deliver',
    ]);
  });
});
