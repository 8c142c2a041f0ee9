// NCSA (Apache combined) log lines from transaction records, with varnishncsa's format letters:
// %b %D %H %h %I %{X}i %l %m %{X}o %O %q %r %s %t %{X}t %T %{X}T %U %u and the extended
// %{Varnish:time_firstbyte|hitmiss|handling|side|vxid}x and %{VCL_Log:key}x. A backend record
// is formatted from its bereq/beresp, as varnishncsa -b does.

import type { TxHttp, TxRecord } from '../common/log.ts';

export const NCSA_DEFAULT_FORMAT = '%h %l %u %t "%r" %s %b "%{Referer}i" "%{User-agent}i"';

type Part = (r: TxRecord) => string;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

function tzOffset(d: Date): string {
  const off = -d.getTimezoneOffset();
  const sign = off < 0 ? '-' : '+';
  const a = Math.abs(off);
  return `${sign}${pad(Math.floor(a / 60))}${pad(a % 60)}`;
}

/** A small strftime in local time: %Y %m %d %e %H %M %S %z %b %a %j %s %F %T %%. */
export function strftime(format: string, d: Date): string {
  return format.replace(/%([YmdeHMSzbajsFT%])/g, (_, c: string) => {
    switch (c) {
      case 'Y':
        return String(d.getFullYear());
      case 'm':
        return pad(d.getMonth() + 1);
      case 'd':
        return pad(d.getDate());
      case 'e':
        return String(d.getDate()).padStart(2, ' ');
      case 'H':
        return pad(d.getHours());
      case 'M':
        return pad(d.getMinutes());
      case 'S':
        return pad(d.getSeconds());
      case 'z':
        return tzOffset(d);
      case 'b':
        return MONTHS[d.getMonth()];
      case 'a':
        return DAYS[d.getDay()];
      case 'j': {
        const startOfYear = new Date(d.getFullYear(), 0, 1);
        return pad(Math.floor((d.getTime() - startOfYear.getTime()) / 86400000) + 1, 3);
      }
      case 's':
        return String(Math.floor(d.getTime() / 1000));
      case 'F':
        return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
      case 'T':
        return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
      default:
        return '%';
    }
  });
}

function reqOf(r: TxRecord): TxHttp | undefined {
  return r.side === 'backend' ? r.bereq : r.req;
}

function respOf(r: TxRecord): TxHttp | undefined {
  return r.side === 'backend' ? r.beresp : r.resp;
}

/** The last value of a header, as varnishncsa takes it. */
function header(h: TxHttp | undefined, name: string): string | undefined {
  if (!h) return undefined;
  const key = name.toLowerCase();
  let v: string | undefined;
  for (const [n, val] of h.headers) if (n.toLowerCase() === key) v = val;
  return v;
}

function splitUrl(url: string | undefined): [string, string] {
  if (url === undefined) return ['-', ''];
  const q = url.indexOf('?');
  return q < 0 ? [url, ''] : [url.slice(0, q), url.slice(q)];
}

/** Seconds from start to the end of the transaction (client: Resp; backend: BerespBody). */
function duration(r: TxRecord): number {
  const t = r.timings;
  return (r.side === 'backend' ? (t.BerespBody ?? t.Beresp ?? t.Error) : (t.Resp ?? t.Pipe ?? t.PipeSess)) ?? Math.max(0, ...Object.values(t));
}

function remoteUser(r: TxRecord): string {
  const auth = header(reqOf(r), 'authorization');
  const m = auth && /^basic\s+(\S+)/i.exec(auth);
  if (!m) return '-';
  const decoded = Buffer.from(m[1], 'base64').toString('latin1');
  const colon = decoded.indexOf(':');
  return colon > 0 ? decoded.slice(0, colon) : '-';
}

function durationIn(unit: string): Part {
  const scale: Readonly<Record<string, number>> = { s: 1, ms: 1e3, us: 1e6 };
  const f = scale[unit];
  if (f === undefined) throw new Error(`%{${unit}}T: the unit is s, ms or us`);
  return (r) => String(Math.floor(duration(r) * f));
}

function extended(spec: string): Part {
  if (spec.startsWith('VCL_Log:')) {
    const key = spec.slice(8);
    return (r) => {
      const line = r.logs.find((l) => l.startsWith(`${key}:`));
      return line === undefined ? '-' : line.slice(key.length + 1).trimStart();
    };
  }
  switch (spec) {
    case 'Varnish:time_firstbyte':
      return (r) => ((r.side === 'backend' ? r.timings.Beresp : r.timings.Process) ?? 0).toFixed(6);
    case 'Varnish:hitmiss':
      return (r) => (r.handling === 'hit' ? 'hit' : 'miss');
    case 'Varnish:handling':
      return (r) => r.handling ?? '-';
    case 'Varnish:side':
      return (r) => (r.side === 'backend' ? 'b' : 'c');
    case 'Varnish:vxid':
      return (r) => String(r.vxid);
  }
  throw new Error(`%{${spec}}x is not a known extended variable`);
}

function letter(c: string, arg: string | undefined): Part {
  switch (c) {
    case 'b':
      return (r) => {
        const n = r.bytes.respBody;
        return n > 0 ? String(n) : '-';
      };
    case 'D':
      return durationIn('us');
    case 'H':
      return (r) => reqOf(r)?.proto || 'HTTP/1.0';
    case 'h':
      return (r) => (r.side === 'backend' ? (r.backend ?? '-') : (r.client?.ip ?? '-'));
    case 'I':
      return (r) => String(r.bytes.reqHdr + r.bytes.reqBody);
    case 'i':
      return (r) => header(reqOf(r), arg ?? '') ?? '-';
    case 'l':
      return () => '-';
    case 'm':
      return (r) => reqOf(r)?.method || '-';
    case 'O':
      return (r) => String(r.bytes.respHdr + r.bytes.respBody);
    case 'o':
      return (r) => header(respOf(r), arg ?? '') ?? '-';
    case 'q':
      return (r) => splitUrl(reqOf(r)?.url)[1];
    case 'r':
      return (r) => {
        const req = reqOf(r);
        const [path, query] = splitUrl(req?.url);
        const host = req?.headers.find(([n]) => n.toLowerCase() === 'host')?.[1] ?? 'localhost';
        return `${req?.method || '-'} http://${host}${path}${query} ${req?.proto || 'HTTP/1.0'}`;
      };
    case 's':
      return (r) => String(respOf(r)?.status ?? '-');
    case 't':
      return arg === undefined
        ? (r) => {
            const d = new Date(r.start * 1000);
            return `[${pad(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${tzOffset(d)}]`;
          }
        : (r) => strftime(arg, new Date(r.start * 1000));
    case 'T':
      return durationIn(arg ?? 's');
    case 'U':
      return (r) => splitUrl(reqOf(r)?.url)[0];
    case 'u':
      return remoteUser;
    case 'x':
      return extended(arg ?? '');
  }
  throw new Error(`%${arg === undefined ? '' : `{${arg}}`}${c} is not a known format letter`);
}

/** Compiles a format once; throws on an unknown letter. */
export function compileNcsa(format: string = NCSA_DEFAULT_FORMAT): (r: TxRecord) => string {
  const parts: Part[] = [];
  let lit = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c === '\\' && (format[i + 1] === 'n' || format[i + 1] === 't')) {
      lit += format[++i] === 'n' ? '\n' : '\t';
      continue;
    }
    if (c !== '%') {
      lit += c;
      continue;
    }
    if (format[i + 1] === '%') {
      lit += '%';
      i++;
      continue;
    }
    let arg: string | undefined;
    let j = i + 1;
    if (format[j] === '{') {
      const close = format.indexOf('}', j);
      if (close < 0) throw new Error(`unterminated %{ at ${i + 1}`);
      arg = format.slice(j + 1, close);
      j = close + 1;
    }
    if (j >= format.length) throw new Error('format ends after %');
    if (lit) {
      const text = lit;
      parts.push(() => text);
      lit = '';
    }
    parts.push(letter(format[j], arg));
    i = j;
  }
  if (lit) parts.push(() => lit);
  return (r) => parts.map((p) => p(r)).join('');
}
