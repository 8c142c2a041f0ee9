// Log queries, a subset of varnishlog's -q language, compiled once into a predicate over
// transaction records:
//
//   ReqURL ~ "^/api"          RespStatus >= 500          ReqHeader:Host eq "example.com"
//   VCL_call == RECV && not (Handling eq hit) || BerespStatus != 200
//
// A test is a field, optionally `:Name` (a header, a timestamp label, a std.log key), then an
// operator and a value; a field alone tests that it is present. Operators: == != < <= > >=
// compare numbers (== and != also strings), eq ne compare strings, ~ !~ match a regex. A field
// with several values (headers, VCL calls, std.log lines) matches when any value does. Tests
// combine with and/&&, or/||, not/! and parentheses; `and` binds tighter than `or`.

import type { TxHttp, TxPredicate, TxRecord } from '../common/log.ts';


export class QueryError extends Error {
  override name = 'QueryError';
}

type Value = string | number;
type Getter<T = TxRecord> = (r: T, sub: string | undefined) => readonly Value[];

function one(v: Value | undefined): Value[] {
  return v === undefined ? [] : [v];
}

function headerValues(h: TxHttp | undefined, name: string | undefined): string[] {
  if (!h) return [];
  if (name === undefined) return h.headers.map(([n, v]) => `${n}: ${v}`);
  const key = name.toLowerCase();
  return h.headers.filter(([n]) => n.toLowerCase() === key).map(([, v]) => v);
}

/** std.log lines; with a key, the text after `key:` of the lines that start so. */
function logValues(r: TxRecord, key: string | undefined): string[] {
  if (key === undefined) return r.logs;
  return r.logs.filter((l) => l.startsWith(`${key}:`)).map((l) => l.slice(key.length + 1).trimStart());
}

/** The fields a query can name, by varnishlog's tag names where one exists. */
const FIELDS: Readonly<Record<string, Getter>> = {
  ReqURL: (r) => one(r.req?.url),
  ReqMethod: (r) => one(r.req?.method),
  ReqProtocol: (r) => one(r.req?.proto),
  ReqHeader: (r, s) => headerValues(r.req, s),
  RespStatus: (r) => one(r.resp?.status),
  RespReason: (r) => one(r.resp?.reason),
  RespProtocol: (r) => one(r.resp?.proto),
  RespHeader: (r, s) => headerValues(r.resp, s),
  BereqURL: (r) => one(r.bereq?.url),
  BereqMethod: (r) => one(r.bereq?.method),
  BereqProtocol: (r) => one(r.bereq?.proto),
  BereqHeader: (r, s) => headerValues(r.bereq, s),
  BerespStatus: (r) => one(r.beresp?.status),
  BerespReason: (r) => one(r.beresp?.reason),
  BerespProtocol: (r) => one(r.beresp?.proto),
  BerespHeader: (r, s) => headerValues(r.beresp, s),
  VCL_call: (r) => r.calls.map((c) => c.sub.toUpperCase()),
  VCL_return: (r) => r.calls.map((c) => c.ret).filter((x) => x !== ''),
  VCL_Log: (r, s) => logValues(r, s),
  VCL_Error: (r) => r.errors,
  FetchError: (r) => (r.side === 'backend' ? r.errors : []),
  Timestamp: (r, s) => (s === undefined ? Object.values(r.timings) : one(r.timings[s])),
  Backend: (r) => one(r.backend),
  VCL_use: (r) => one(r.vcl),
  ReqStart: (r) => (r.client ? [`${r.client.ip} ${r.client.port}`] : []),
  ClientIP: (r) => one(r.client?.ip),
  Handling: (r) => one(r.handling),
  Side: (r) => [r.side],
  vxid: (r) => [r.vxid],
  Parent: (r) => one(r.parent),
  ReqBytes: (r) => [r.bytes.reqHdr + r.bytes.reqBody],
  RespBytes: (r) => [r.bytes.respHdr + r.bytes.respBody],
};

export const QUERY_FIELDS: readonly string[] = Object.keys(FIELDS);

// ---- tokens ----

type Tok =
  | { kind: 'word'; text: string; pos: number }
  | { kind: 'string'; text: string; pos: number }
  | { kind: 'op'; text: string; pos: number }
  | { kind: 'end'; text: ''; pos: number };

const PUNCT = ['&&', '||', '==', '!=', '<=', '>=', '!~', '<', '>', '~', '!', '(', ')'];

function tokenize(q: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let text = '';
      while (j < q.length && q[j] !== c) {
        if (q[j] === '\\' && j + 1 < q.length) {
          // Keep the backslash unless it escapes the quote: regexes need theirs.
          text += q[j + 1] === c ? c : q.slice(j, j + 2);
          j += 2;
        } else text += q[j++];
      }
      if (j >= q.length) throw new QueryError(`unterminated string at ${i + 1}`);
      out.push({ kind: 'string', text, pos: i });
      i = j + 1;
      continue;
    }
    const p = PUNCT.find((s) => q.startsWith(s, i));
    if (p) {
      out.push({ kind: 'op', text: p, pos: i });
      i += p.length;
      continue;
    }
    const m = /^[^\s()"'!<>=~&|]+/.exec(q.slice(i));
    if (!m) throw new QueryError(`unexpected '${c}' at ${i + 1}`);
    out.push({ kind: 'word', text: m[0], pos: i });
    i += m[0].length;
  }
  out.push({ kind: 'end', text: '', pos: q.length });
  return out;
}

// ---- parser ----

const COMPARE = new Set(['==', '!=', '<', '<=', '>', '>=', 'eq', 'ne', '~', '!~']);

/** Compiles a query; throws QueryError saying what is wrong and where (1-based column). */
export function compileQuery(query: string): TxPredicate {
  return compileQueryOver(query, (name) => (Object.hasOwn(FIELDS, name) ? FIELDS[name] : undefined), QUERY_FIELDS);
}

/**
 * The same language over another kind of subject: `field` gives the values a field name reads
 * from it (undefined: no such field), `known` lists the names for the error message. The VTC
 * runner reads varnishlog's own lines with it.
 */
export function compileQueryOver<T>(query: string, field: (name: string) => Getter<T> | undefined, known: readonly string[]): (r: T) => boolean {
  type TxPredicate = (r: T) => boolean;
  const toks = tokenize(query);
  let k = 0;
  const peek = (): Tok => toks[k];
  const isKw = (t: Tok, ...words: string[]) => (t.kind === 'word' || t.kind === 'op') && words.includes(t.text);

  function orExpr(): TxPredicate {
    const parts = [andExpr()];
    while (isKw(peek(), 'or', '||')) {
      k++;
      parts.push(andExpr());
    }
    return parts.length === 1 ? parts[0] : (r) => parts.some((p) => p(r));
  }
  function andExpr(): TxPredicate {
    const parts = [notExpr()];
    while (isKw(peek(), 'and', '&&')) {
      k++;
      parts.push(notExpr());
    }
    return parts.length === 1 ? parts[0] : (r) => parts.every((p) => p(r));
  }
  function notExpr(): TxPredicate {
    const t = peek();
    if (isKw(t, 'not', '!')) {
      k++;
      const inner = notExpr();
      return (r) => !inner(r);
    }
    if (isKw(t, '(')) {
      k++;
      const inner = orExpr();
      if (!isKw(peek(), ')')) throw new QueryError(`expected ')' at ${peek().pos + 1}`);
      k++;
      return inner;
    }
    return test();
  }
  function test(): TxPredicate {
    const t = peek();
    if (t.kind !== 'word') throw new QueryError(t.kind === 'end' ? 'expected a field at the end of the query' : `expected a field at ${t.pos + 1}`);
    k++;
    const colon = t.text.indexOf(':');
    const name = colon < 0 ? t.text : t.text.slice(0, colon);
    const sub = colon < 0 ? undefined : t.text.slice(colon + 1);
    const get = field(name);
    if (!get) throw new QueryError(`unknown field '${name}' at ${t.pos + 1} (known: ${known.join(' ')})`);
    const opTok = peek();
    if (!COMPARE.has(opTok.text) || opTok.kind === 'string') {
      return (r) => get(r, sub).some((v) => v !== '');
    }
    k++;
    const valTok = peek();
    if (valTok.kind !== 'word' && valTok.kind !== 'string') throw new QueryError(`expected a value at ${valTok.pos + 1}`);
    k++;
    const match = comparison(opTok.text, valTok.text, valTok.kind === 'string', valTok.pos);
    return (r) => get(r, sub).some(match);
  }

  const pred = orExpr();
  if (peek().kind !== 'end') throw new QueryError(`unexpected '${peek().text}' at ${peek().pos + 1}`);
  return pred;
}

function comparison(op: string, text: string, quoted: boolean, pos: number): (v: Value) => boolean {
  switch (op) {
    case '~':
    case '!~': {
      let re: RegExp;
      try {
        re = new RegExp(text);
      } catch (e) {
        throw new QueryError(`bad regex at ${pos + 1}: ${(e as Error).message}`);
      }
      return op === '~' ? (v) => re.test(String(v)) : (v) => !re.test(String(v));
    }
    case 'eq':
      return (v) => String(v) === text;
    case 'ne':
      return (v) => String(v) !== text;
  }
  const n = Number(text);
  const numeric = text.trim() !== '' && Number.isFinite(n) && !quoted;
  if (!numeric) {
    if (op === '==') return (v) => String(v) === text;
    if (op === '!=') return (v) => String(v) !== text;
    throw new QueryError(`'${op}' needs a number at ${pos + 1}`);
  }
  const num = (v: Value): number => (typeof v === 'number' ? v : v.trim() === '' ? Number.NaN : Number(v));
  switch (op) {
    case '==':
      return (v) => num(v) === n;
    case '!=':
      return (v) => !Number.isNaN(num(v)) && num(v) !== n;
    case '<':
      return (v) => num(v) < n;
    case '<=':
      return (v) => num(v) <= n;
    case '>':
      return (v) => num(v) > n;
    default:
      return (v) => num(v) >= n;
  }
}
