// Backends, probes and ACLs: their fields, as tables of what each field takes, and the rules
// Varnish applies to them. Host names are kept as written: checking never resolves them.

import type { AclDecl, BackendDecl, Expr, Field, InlineProbe, Pos, ProbeDecl } from './ast.ts';
import type { CheckContext } from './check-context.ts';
import { numberLiteralError } from './check-expr.ts';
import { type AclEntry as RuntimeAclEntry, checkAclEntry, findAclConflicts } from '../common/acl.ts';
import { isHostName } from './ip-literal.ts';
import { foldName } from './symbols.ts';
import type { TAcl, TBackend, TProbe } from './tir.ts';

type FieldKind = 'string' | 'int' | 'duration' | 'strings' | 'probe' | 'blob';

const BACKEND_FIELDS: Readonly<Record<string, FieldKind>> = {
  host: 'string',
  port: 'string',
  path: 'string',
  host_header: 'string',
  connect_timeout: 'duration',
  first_byte_timeout: 'duration',
  between_bytes_timeout: 'duration',
  max_connections: 'int',
  proxy_header: 'int',
  preamble: 'blob',
  probe: 'probe',
};

const PROBE_FIELDS: Readonly<Record<string, FieldKind>> = {
  url: 'string',
  request: 'strings',
  expected_response: 'int',
  timeout: 'duration',
  interval: 'duration',
  window: 'int',
  threshold: 'int',
  initial: 'int',
};

const KIND_TEXT: Readonly<Record<FieldKind, string>> = {
  string: 'a string, as in "value"',
  int: 'an integer',
  duration: 'a duration, as in 5s',
  strings: 'one or more strings',
  probe: 'a probe name or a { ... } probe',
  blob: 'a BLOB literal, as in :SGVsbG8=:',
};

type FieldValue = string | number | readonly string[] | Field['value'];

/** Reads the fields of a backend or probe body against its table; reports unknown and repeated ones. */
function readFields(
  cx: CheckContext,
  fields: readonly Field[],
  table: Readonly<Record<string, FieldKind>>,
  what: string,
): Map<string, { value: FieldValue; pos: Pos; valuePos: Pos }> {
  const out = new Map<string, { value: FieldValue; pos: Pos; valuePos: Pos }>();
  for (const f of fields) {
    const name = f.name.name;
    const kind = Object.hasOwn(table, name) ? table[name] : undefined;
    if (!kind) {
      cx.error(f.name.pos, `Unknown field: '${name}' in ${what}; known fields: ${Object.keys(table).map((k) => `.${k}`).join(' ')}`);
      continue;
    }
    const first = out.get(name);
    if (first) {
      cx.error(f.name.pos, `Field '${name}' redefined`, [{ message: 'First defined here', pos: first.pos }]);
      continue;
    }
    const number = f.value.kind === 'int' || f.value.kind === 'real' || f.value.kind === 'duration' ? f.value : undefined;
    const tooLong = number && numberLiteralError(number.text);
    if (tooLong) {
      cx.error(f.value.pos, tooLong);
      continue;
    }
    const value = fieldValue(f.value, kind);
    if (value === undefined) {
      cx.error(f.value.pos, `.${name} must be ${KIND_TEXT[kind]}`);
      continue;
    }
    out.set(name, { value, pos: f.name.pos, valuePos: f.value.pos });
  }
  return out;
}

function fieldValue(v: Field['value'], kind: FieldKind): FieldValue | undefined {
  if (v.kind === 'inline_probe') return kind === 'probe' ? v : undefined;
  switch (kind) {
    case 'string':
      return v.kind === 'string' ? v.value : undefined;
    case 'int':
      return v.kind === 'int' ? v.value : undefined;
    case 'duration':
      return v.kind === 'duration' ? v.value : undefined;
    case 'blob':
      return v.kind === 'blob' ? v.text : undefined;
    case 'strings':
      return stringList(v);
    case 'probe':
      return v.kind === 'name' && v.parts.length === 1 ? v : undefined;
  }
}

/** `.request = "GET / HTTP/1.1" "Host: x";`: juxtaposed strings, parsed as a `+` chain. */
function stringList(e: Expr): string[] | undefined {
  if (e.kind === 'string') return [e.value];
  if (e.kind === 'binary' && e.op === '+') {
    const l = stringList(e.left);
    const r = l && stringList(e.right);
    return r && [...(l ?? []), ...r];
  }
  return undefined;
}

export function checkProbe(cx: CheckContext, decl: ProbeDecl | InlineProbe, name: string): TProbe {
  const f = readFields(cx, decl.fields, PROBE_FIELDS, `probe ${name}`);
  const num = (k: string) => f.get(k)?.value as number | undefined;
  const url = f.get('url');
  const request = f.get('request');
  if (url && request) cx.error(request.pos, 'A probe takes .url or .request, not both', [{ message: '.url is here', pos: url.pos }]);
  const window = num('window');
  const threshold = num('threshold');
  // Limits are reported at the value that breaks them.
  const windowAt = f.get('window')?.valuePos;
  const thresholdAt = f.get('threshold')?.valuePos;
  if (window !== undefined && threshold === undefined) cx.error(windowAt, 'Must specify .threshold with .window');
  if (window !== undefined && window > 64) cx.error(windowAt, 'Window must be 64 or less.');
  if (threshold !== undefined && threshold > 64) cx.error(thresholdAt, 'Threshold must be 64 or less.');
  if (window !== undefined && threshold !== undefined && threshold > window) {
    cx.error(thresholdAt, 'Threshold can not be greater than window.');
  }
  return {
    name,
    pos: decl.pos,
    url: url?.value as string | undefined,
    request: request?.value as readonly string[] | undefined,
    expectedResponse: num('expected_response'),
    timeout: num('timeout'),
    interval: num('interval'),
    window,
    threshold,
    initial: num('initial'),
  };
}

/** Checks a backend; an inline probe becomes a probe of its own, named after the backend. */
export function checkBackend(cx: CheckContext, decl: BackendDecl, probes: TProbe[]): TBackend {
  const name = decl.name.name;
  if (decl.none) return { name, pos: decl.pos, none: true };
  const f = readFields(cx, decl.fields, BACKEND_FIELDS, `backend ${name}`);
  const str = (k: string) => f.get(k)?.value as string | undefined;
  const num = (k: string) => f.get(k)?.value as number | undefined;
  const host = f.get('host');
  const path = f.get('path');
  // A misspelt field (`.HOST`) is the error to report, not the missing address it causes.
  const misspelt = decl.fields.some((fd) => !Object.hasOwn(BACKEND_FIELDS, fd.name.name));
  if (!host && !path && !misspelt) cx.error(decl.name.pos, `Backend ${name}: expected .host or .path.`);
  if (host && path) cx.error(path.pos, `Backend ${name}: .host and .path cannot both be given`, [{ message: '.host is here', pos: host.pos }]);
  // Errors about a value point at the value.
  if (host && str('host') === '') cx.error(host.valuePos, `Backend ${name}: .host is empty`);
  if (path && !str('path')?.startsWith('/')) cx.error(path.valuePos, 'Backend path: Must be an absolute path');
  const proxyHeader = num('proxy_header');
  if (proxyHeader !== undefined && proxyHeader !== 1 && proxyHeader !== 2) {
    cx.error(f.get('proxy_header')?.valuePos, '.proxy_header must be 1 or 2');
  }
  let probe: string | undefined;
  const p = f.get('probe');
  if (p) {
    const v = p.value as Field['value'];
    if (v.kind === 'inline_probe') {
      probe = `${name}.probe`;
      probes.push(checkProbe(cx, v, probe));
    } else if (v.kind === 'name') {
      const sym = cx.symbols.get(v.text);
      if (sym?.kind !== 'probe') {
        cx.probesWanted.add(foldName(v.text));
        cx.error(v.pos, `Symbol not found: '${v.text}' (probes must be declared before the backends that use them)`);
      }
      else {
        sym.refs++;
        probe = sym.name;
      }
    }
  }
  return {
    name,
    pos: decl.pos,
    none: false,
    host: str('host'),
    port: str('port'),
    path: str('path'),
    hostHeader: str('host_header'),
    connectTimeout: num('connect_timeout'),
    firstByteTimeout: num('first_byte_timeout'),
    betweenBytesTimeout: num('between_bytes_timeout'),
    maxConnections: num('max_connections'),
    proxyHeader,
    preamble: str('preamble'),
    probe,
  };
}

const ACL_FLAGS = new Set(['log', 'table', 'pedantic']);

export function checkAcl(cx: CheckContext, decl: AclDecl): TAcl {
  const flags: Record<string, boolean> = { pedantic: true };
  for (const f of decl.flags) {
    if (!ACL_FLAGS.has(f.name.name)) cx.error(f.name.pos, `Unknown ACL flag: '${f.name.name}'; known: +log, +table, -pedantic`);
    else flags[f.name.name] = f.on;
  }
  // Entries whose address is known now; conflicts among them are found below.
  const literal: { entry: RuntimeAclEntry; pos: Pos; text: string }[] = [];
  for (const e of decl.entries) {
    // Host names are resolved when the VCL loads, as Varnish resolves them when compiling.
    if (isHostName(e.address.value)) continue;
    const { error, at, normalized } = checkAclEntry(e.address.value, e.mask?.value, flags.pedantic);
    if (error) cx.error(at === 'mask' && e.mask ? e.mask.pos : e.address.pos, error);
    else if (normalized) {
      literal.push({ entry: { negated: e.negated, address: e.address.value, mask: e.mask?.value }, pos: e.address.pos, text: normalized.text });
    }
  }
  // The same prefix both allowed and denied has no meaning; Varnish refuses it, once per ACL.
  const conflict = findAclConflicts(literal.map((l) => l.entry))[0];
  if (conflict) {
    const first = literal[conflict.first];
    const second = literal[conflict.second];
    const verdict = (e: RuntimeAclEntry) => (e.negated ? 'denies' : 'allows');
    cx.error(first.pos, `Conflicting ACL entries: this entry ${verdict(first.entry)} ${first.text}, a later one ${verdict(second.entry)} it`, [
      { message: 'The conflicting entry', pos: second.pos },
    ]);
  }
  return { name: decl.name.name, pos: decl.pos, flags, entries: decl.entries };
}
