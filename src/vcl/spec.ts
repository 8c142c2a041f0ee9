// The one table of VCL facts: types, built-in subroutines with their side and legal returns,
// return actions with their arguments, and every VCL variable with where it may be read, set
// and unset. The checker, the code generator, the runtime accessors and the docs all read it.

export const VCL_TYPES = [
  'ACL',
  'BACKEND',
  'BLOB',
  'BODY',
  'BOOL',
  'BYTES',
  'DURATION',
  'ENUM',
  'HEADER',
  'HTTP',
  'INSTANCE',
  'INT',
  'IP',
  'PROBE',
  'REAL',
  'REGEX',
  'STEVEDORE',
  'STRANDS',
  'STRING',
  'STRING_LIST',
  'SUB',
  'TIME',
  'VOID',
] as const;

export type VclType = (typeof VCL_TYPES)[number];

export function isVclType(s: string): s is VclType {
  return (VCL_TYPES as readonly string[]).includes(s);
}

// ---------------------------------------------------------------------------------------------
// Subroutines. Each built-in sub has a bit; a scope is a set of subs as a bitmask.

export const SUB_NAMES = [
  'vcl_recv',
  'vcl_pipe',
  'vcl_pass',
  'vcl_hash',
  'vcl_purge',
  'vcl_miss',
  'vcl_hit',
  'vcl_deliver',
  'vcl_synth',
  'vcl_backend_fetch',
  'vcl_backend_response',
  'vcl_backend_error',
  'vcl_init',
  'vcl_fini',
] as const;

export type SubName = (typeof SUB_NAMES)[number];

export const SUB_BIT: Readonly<Record<SubName, number>> = Object.fromEntries(
  SUB_NAMES.map((n, i) => [n, 1 << i]),
) as Record<SubName, number>;

export type Side = 'client' | 'backend' | 'housekeeping';

function mask(...subs: SubName[]): number {
  let m = 0;
  for (const s of subs) m |= SUB_BIT[s];
  return m;
}

/** The scope names the Varnish documentation uses. */
export const CLIENT = mask(
  'vcl_recv',
  'vcl_pipe',
  'vcl_pass',
  'vcl_hash',
  'vcl_purge',
  'vcl_miss',
  'vcl_hit',
  'vcl_deliver',
  'vcl_synth',
);
export const BACKEND = mask('vcl_backend_fetch', 'vcl_backend_response', 'vcl_backend_error');
export const HOUSEKEEPING = mask('vcl_init', 'vcl_fini');
export const BOTH = CLIENT | BACKEND;
export const ALL = BOTH | HOUSEKEEPING;
const NONE = 0;

export type ActionName =
  | 'abandon'
  | 'deliver'
  | 'error'
  | 'fail'
  | 'fetch'
  | 'hash'
  | 'lookup'
  | 'ok'
  | 'pass'
  | 'pipe'
  | 'purge'
  | 'restart'
  | 'retry'
  | 'synth'
  | 'vcl';

/** A return action, with the arguments it takes; `optional` counts trailing ones that may be left out. */
export interface ActionSpec {
  readonly args: readonly VclType[];
  readonly optional: number;
}

export const ACTIONS: Readonly<Record<ActionName, ActionSpec>> = {
  abandon: { args: [], optional: 0 },
  deliver: { args: [], optional: 0 },
  error: { args: ['INT', 'STRING'], optional: 2 },
  // fail("reason"): the reason is logged.
  fail: { args: ['STRING'], optional: 1 },
  fetch: { args: [], optional: 0 },
  hash: { args: [], optional: 0 },
  lookup: { args: [], optional: 0 },
  ok: { args: [], optional: 0 },
  // pass(ttl) makes a hit-for-pass object in vcl_backend_response; elsewhere the TTL is unused.
  pass: { args: ['DURATION'], optional: 1 },
  pipe: { args: [], optional: 0 },
  purge: { args: [], optional: 0 },
  restart: { args: [], optional: 0 },
  retry: { args: [], optional: 0 },
  synth: { args: ['INT', 'STRING'], optional: 1 },
  // vcl(label): the argument is the name of a VCL label, checked when the VCL is loaded.
  vcl: { args: ['STRING'], optional: 0 },
};

export function isActionName(s: string): s is ActionName {
  return Object.hasOwn(ACTIONS, s);
}

export interface SubSpec {
  readonly side: Side;
  readonly returns: readonly ActionName[];
}

export const SUBS: Readonly<Record<SubName, SubSpec>> = {
  vcl_recv: { side: 'client', returns: ['hash', 'pass', 'pipe', 'purge', 'synth', 'restart', 'vcl', 'fail'] },
  vcl_pipe: { side: 'client', returns: ['pipe', 'synth', 'fail'] },
  vcl_pass: { side: 'client', returns: ['fetch', 'restart', 'synth', 'fail'] },
  vcl_hash: { side: 'client', returns: ['lookup', 'fail'] },
  vcl_purge: { side: 'client', returns: ['synth', 'restart', 'fail'] },
  vcl_miss: { side: 'client', returns: ['fetch', 'pass', 'restart', 'synth', 'fail'] },
  vcl_hit: { side: 'client', returns: ['deliver', 'pass', 'restart', 'synth', 'fail'] },
  vcl_deliver: { side: 'client', returns: ['deliver', 'restart', 'synth', 'fail'] },
  vcl_synth: { side: 'client', returns: ['deliver', 'restart', 'fail'] },
  vcl_backend_fetch: { side: 'backend', returns: ['fetch', 'abandon', 'error', 'fail'] },
  vcl_backend_response: {
    side: 'backend',
    returns: ['deliver', 'abandon', 'retry', 'pass', 'error', 'fail'],
  },
  vcl_backend_error: { side: 'backend', returns: ['deliver', 'abandon', 'retry', 'fail'] },
  vcl_init: { side: 'housekeeping', returns: ['ok', 'fail'] },
  vcl_fini: { side: 'housekeeping', returns: ['ok'] },
};

/** The subs where each action may be returned: a scope mask per action. */
export const ACTION_SCOPE: Readonly<Record<ActionName, number>> = Object.fromEntries(
  (Object.keys(ACTIONS) as ActionName[]).map((a) => [
    a,
    SUB_NAMES.filter((s) => SUBS[s].returns.includes(a)).reduce((m, s) => m | SUB_BIT[s], 0),
  ]),
) as Record<ActionName, number>;

export function isSubName(s: string): s is SubName {
  return Object.hasOwn(SUBS, s);
}

/** The subs of a scope mask, in table order: for messages and docs. */
export function subsOf(scope: number): SubName[] {
  return SUB_NAMES.filter((n) => (scope & SUB_BIT[n]) !== 0);
}

/** Names a scope mask the way the Varnish docs do, where one of the named scopes fits. */
export function scopeText(scope: number): string {
  if (scope === ALL) return 'all';
  if (scope === BOTH) return 'client, backend';
  if (scope === CLIENT) return 'client';
  if (scope === BACKEND) return 'backend';
  const parts: string[] = [];
  let rest = scope;
  if ((rest & BACKEND) === BACKEND) {
    rest &= ~BACKEND;
    return [...subsOf(rest), 'backend'].join(', ');
  }
  if ((rest & CLIENT) === CLIENT) {
    rest &= ~CLIENT;
    parts.push('client');
  }
  return [...parts, ...subsOf(rest)].join(', ');
}

// ---------------------------------------------------------------------------------------------
// Variables

export interface VarSpec {
  /** `req.url`; a name ending in `.*` is a family: `req.http.*` is every request header. */
  readonly name: string;
  readonly type: VclType;
  readonly read: number;
  readonly write: number;
  readonly unset: number;
  /** Syntax versions (40, 41) the variable exists in; the same name may appear twice. */
  readonly minVersion: number;
  readonly maxVersion: number;
  readonly doc: string;
}

interface VarOpts {
  read?: number;
  write?: number;
  unset?: number;
  min?: number;
  max?: number;
}

function v(name: string, type: VclType, o: VarOpts, doc: string): VarSpec {
  return {
    name,
    type,
    read: o.read ?? NONE,
    write: o.write ?? NONE,
    unset: o.unset ?? NONE,
    minVersion: o.min ?? 40,
    maxVersion: o.max ?? 41,
    doc,
  };
}

const BE_RESP = mask('vcl_backend_response', 'vcl_backend_error');
const PIPE_BE = mask('vcl_pipe') | BACKEND;
const OBJ_HD = mask('vcl_hit', 'vcl_deliver');
const RESP = mask('vcl_deliver', 'vcl_synth');

export const VARIABLES: readonly VarSpec[] = [
  // Connection
  v('client.identity', 'STRING', { read: BOTH, write: CLIENT }, 'Identification of the client, for client directors; defaults to client.ip.'),
  v('client.ip', 'IP', { read: BOTH }, "The client's IP address."),
  v('server.hostname', 'STRING', { read: ALL }, 'The host name of the server.'),
  v('server.identity', 'STRING', { read: ALL }, 'The identity of the server, as set by -i; the host name otherwise.'),
  v('server.ip', 'IP', { read: BOTH }, 'The IP address of the socket the client connection was received on.'),
  v('remote.ip', 'IP', { read: BOTH }, 'The IP address of the other end of the TCP connection.'),
  v('local.endpoint', 'STRING', { read: BOTH, min: 41 }, "The address of the '-a' listener the session was accepted on."),
  v('local.ip', 'IP', { read: BOTH }, 'The IP address (and port) of the local end of the TCP connection.'),
  v('local.socket', 'STRING', { read: BOTH, min: 41 }, "The name of the '-a' listener the session was accepted on."),
  // The client request
  v('req', 'HTTP', { read: CLIENT }, 'The whole request, for passing to VMODs.'),
  v('req.backend_hint', 'BACKEND', { read: CLIENT, write: CLIENT }, 'The backend or director to use for a fetch; becomes bereq.backend.'),
  v('req.can_gzip', 'BOOL', { read: CLIENT }, 'Whether the client accepts gzip transfer encoding.'),
  v('req.esi', 'BOOL', { read: CLIENT, write: CLIENT, max: 40 }, 'Whether ESI processing is enabled for this request.'),
  v('req.esi_level', 'INT', { read: CLIENT }, 'The ESI nesting depth of this request; 0 for a client request.'),
  v('req.grace', 'DURATION', { read: CLIENT, write: CLIENT }, 'An upper bound on the grace of objects this request may be served.'),
  v('req.hash', 'BLOB', { read: mask('vcl_hit', 'vcl_miss', 'vcl_pass', 'vcl_purge', 'vcl_deliver') }, 'The hash key of this request.'),
  v('req.hash_always_miss', 'BOOL', { read: CLIENT, write: CLIENT }, 'Force a cache miss for this request, fetching a new object.'),
  v('req.hash_ignore_busy', 'BOOL', { read: CLIENT, write: CLIENT }, 'Do not wait for a busy object during lookup.'),
  v('req.hash_ignore_vary', 'BOOL', { read: CLIENT, write: CLIENT }, 'Ignore Vary when looking up the object.'),
  v('req.http.*', 'HEADER', { read: CLIENT, write: CLIENT, unset: CLIENT }, 'A request header.'),
  v('req.is_hitmiss', 'BOOL', { read: CLIENT }, 'Whether this request hit a hit-for-miss object.'),
  v('req.is_hitpass', 'BOOL', { read: CLIENT }, 'Whether this request hit a hit-for-pass object.'),
  v('req.method', 'STRING', { read: CLIENT, write: CLIENT }, 'The request method.'),
  v('req.proto', 'STRING', { read: CLIENT, write: CLIENT, max: 40 }, 'The HTTP protocol version of the request.'),
  v('req.proto', 'STRING', { read: CLIENT, min: 41 }, 'The HTTP protocol version of the request.'),
  v('req.restarts', 'INT', { read: CLIENT }, 'How many times this request has been restarted.'),
  v('req.storage', 'STEVEDORE', { read: CLIENT, write: CLIENT }, 'The storage to use for the request body.'),
  v('req.time', 'TIME', { read: CLIENT }, 'When the request was received.'),
  v('req.transport', 'STRING', { read: CLIENT }, 'The transport protocol: HTTP/1 or HTTP/2.'),
  v('req.ttl', 'DURATION', { read: CLIENT, write: CLIENT }, 'An upper bound on the age of objects this request may be served.'),
  v('req.url', 'STRING', { read: CLIENT, write: CLIENT }, 'The requested URL.'),
  v('req.xid', 'STRING', { read: CLIENT }, 'The transaction id of the request.'),
  v('req_top.http.*', 'HEADER', { read: CLIENT }, 'A header of the top-level request of an ESI tree.'),
  v('req_top.method', 'STRING', { read: CLIENT }, 'The method of the top-level request.'),
  v('req_top.proto', 'STRING', { read: CLIENT }, 'The protocol of the top-level request.'),
  v('req_top.time', 'TIME', { read: CLIENT }, 'When the top-level request was received.'),
  v('req_top.url', 'STRING', { read: CLIENT }, 'The URL of the top-level request.'),
  // The backend request
  v('bereq', 'HTTP', { read: BACKEND }, 'The whole backend request, for passing to VMODs.'),
  v('bereq.backend', 'BACKEND', { read: PIPE_BE, write: PIPE_BE }, 'The backend or director this request is sent to.'),
  v('bereq.between_bytes_timeout', 'DURATION', { read: BACKEND, write: BACKEND }, 'The longest wait between two reads of the response body.'),
  v('bereq.body', 'BODY', { unset: mask('vcl_backend_fetch') }, 'The request body; unset it to send none.'),
  v('bereq.connect_timeout', 'DURATION', { read: PIPE_BE, write: PIPE_BE }, 'How long to wait for the backend connection.'),
  v('bereq.first_byte_timeout', 'DURATION', { read: BACKEND, write: BACKEND }, 'How long to wait for the first byte of the response.'),
  v('bereq.hash', 'BLOB', { read: PIPE_BE }, 'The hash key of the object being fetched.'),
  v('bereq.http.*', 'HEADER', { read: PIPE_BE, write: PIPE_BE, unset: PIPE_BE }, 'A backend request header.'),
  v('bereq.is_bgfetch', 'BOOL', { read: BACKEND }, 'Whether this is a background fetch for an object in grace.'),
  v('bereq.is_hitmiss', 'BOOL', { read: BACKEND }, 'Whether this fetch follows a hit-for-miss.'),
  v('bereq.is_hitpass', 'BOOL', { read: BACKEND }, 'Whether this fetch follows a hit-for-pass.'),
  v('bereq.method', 'STRING', { read: PIPE_BE, write: PIPE_BE }, 'The backend request method.'),
  v('bereq.proto', 'STRING', { read: PIPE_BE, write: PIPE_BE, max: 40 }, 'The HTTP protocol version of the backend request.'),
  v('bereq.proto', 'STRING', { read: PIPE_BE, min: 41 }, 'The HTTP protocol version of the backend request.'),
  v('bereq.retries', 'INT', { read: BACKEND }, 'How many times this fetch has been retried.'),
  v('bereq.time', 'TIME', { read: PIPE_BE }, 'When the backend request was started.'),
  v('bereq.uncacheable', 'BOOL', { read: BACKEND }, 'Whether the object fetched will be uncacheable (pass or hit-for-pass).'),
  v('bereq.url', 'STRING', { read: PIPE_BE, write: PIPE_BE }, 'The backend request URL.'),
  v('bereq.xid', 'STRING', { read: PIPE_BE }, 'The transaction id of the backend request.'),
  // The backend response
  v('beresp', 'HTTP', { read: BE_RESP }, 'The whole backend response, for passing to VMODs.'),
  v('beresp.age', 'DURATION', { read: BE_RESP }, 'The age of the object as the backend reported it.'),
  v('beresp.backend', 'BACKEND', { read: BE_RESP }, 'The backend the response was fetched from.'),
  v('beresp.backend.ip', 'IP', { read: mask('vcl_backend_response'), max: 40 }, 'The IP address of the backend.'),
  v('beresp.backend.name', 'STRING', { read: BE_RESP }, 'The name of the backend the response was fetched from.'),
  v('beresp.body', 'BODY', { write: mask('vcl_backend_error') }, 'The body of a synthetic backend response.'),
  v('beresp.do_esi', 'BOOL', { read: BE_RESP, write: BE_RESP }, 'Parse the object for ESI directives.'),
  v('beresp.do_gunzip', 'BOOL', { read: BE_RESP, write: BE_RESP }, 'Uncompress the object before storing it.'),
  v('beresp.do_gzip', 'BOOL', { read: BE_RESP, write: BE_RESP }, 'Compress the object before storing it.'),
  v('beresp.do_stream', 'BOOL', { read: BE_RESP, write: BE_RESP }, 'Deliver the object to the client while it is still being fetched.'),
  v('beresp.filters', 'STRING', { read: mask('vcl_backend_response'), write: mask('vcl_backend_response') }, 'The filters the body goes through.'),
  v('beresp.grace', 'DURATION', { read: BE_RESP, write: BE_RESP }, 'How long past its TTL the object may be served stale.'),
  v('beresp.http.*', 'HEADER', { read: BE_RESP, write: BE_RESP, unset: BE_RESP }, 'A backend response header.'),
  v('beresp.keep', 'DURATION', { read: BE_RESP, write: BE_RESP }, 'How long past TTL and grace the object is kept for conditional requests.'),
  v('beresp.proto', 'STRING', { read: BE_RESP, write: BE_RESP, max: 40 }, 'The HTTP protocol version the backend answered with.'),
  v('beresp.proto', 'STRING', { read: BE_RESP, min: 41 }, 'The HTTP protocol version the backend answered with.'),
  v('beresp.reason', 'STRING', { read: BE_RESP, write: BE_RESP }, 'The HTTP status message of the backend response.'),
  v('beresp.status', 'INT', { read: BE_RESP, write: BE_RESP }, 'The HTTP status of the backend response.'),
  v('beresp.storage', 'STEVEDORE', { read: BE_RESP, write: BE_RESP }, 'The storage the object goes into.'),
  v('beresp.storage_hint', 'STRING', { read: BE_RESP, write: BE_RESP, max: 40 }, 'The name of the storage the object goes into.'),
  v('beresp.time', 'TIME', { read: BE_RESP }, 'When the response headers were received.'),
  v('beresp.ttl', 'DURATION', { read: BE_RESP, write: BE_RESP }, 'How long the object stays fresh.'),
  v('beresp.uncacheable', 'BOOL', { read: BE_RESP, write: BE_RESP }, 'Make the object hit-for-miss: never served from cache.'),
  v('beresp.was_304', 'BOOL', { read: BE_RESP }, 'Whether the backend answered a conditional fetch with 304.'),
  // The cached object
  v('obj.age', 'DURATION', { read: OBJ_HD }, 'The age of the object.'),
  v('obj.can_esi', 'BOOL', { read: OBJ_HD }, 'Whether the object has ESI directives.'),
  v('obj.grace', 'DURATION', { read: OBJ_HD }, 'The grace of the object.'),
  v('obj.hits', 'INT', { read: OBJ_HD }, 'How many times the object has been delivered from cache.'),
  v('obj.http.*', 'HEADER', { read: mask('vcl_hit') }, 'A header of the cached object.'),
  v('obj.keep', 'DURATION', { read: OBJ_HD }, 'The keep of the object.'),
  v('obj.proto', 'STRING', { read: mask('vcl_hit') }, 'The HTTP protocol version stored with the object.'),
  v('obj.reason', 'STRING', { read: mask('vcl_hit') }, 'The HTTP status message stored with the object.'),
  v('obj.status', 'INT', { read: mask('vcl_hit') }, 'The HTTP status stored with the object.'),
  v('obj.storage', 'STEVEDORE', { read: OBJ_HD }, 'The storage the object is in.'),
  v('obj.time', 'TIME', { read: OBJ_HD }, 'When the object was created (its origin time).'),
  v('obj.ttl', 'DURATION', { read: OBJ_HD }, 'The remaining time to live of the object.'),
  v('obj.uncacheable', 'BOOL', { read: mask('vcl_deliver') }, 'Whether the object is uncacheable (pass or hit-for-miss).'),
  // The response
  v('resp', 'HTTP', { read: RESP }, 'The whole response, for passing to VMODs.'),
  v('resp.body', 'BODY', { write: mask('vcl_synth') }, 'The body of a synthetic response.'),
  v('resp.do_esi', 'BOOL', { read: RESP, write: RESP, min: 41 }, 'Process ESI directives when delivering.'),
  v('resp.filters', 'STRING', { read: RESP, write: RESP }, 'The filters the body goes through on delivery.'),
  v('resp.http.*', 'HEADER', { read: RESP, write: RESP, unset: RESP }, 'A response header.'),
  v('resp.is_streaming', 'BOOL', { read: RESP }, 'Whether the response is being streamed while fetched.'),
  v('resp.proto', 'STRING', { read: RESP, write: RESP, max: 40 }, 'The HTTP protocol version of the response.'),
  v('resp.proto', 'STRING', { read: RESP, min: 41 }, 'The HTTP protocol version of the response.'),
  v('resp.reason', 'STRING', { read: RESP, write: RESP }, 'The HTTP status message of the response.'),
  v('resp.status', 'INT', { read: RESP, write: RESP }, 'The HTTP status of the response.'),
  v('resp.time', 'TIME', { read: RESP }, 'When the response was started.'),
  // Special
  v('now', 'TIME', { read: ALL }, 'The current time, fixed during one call of a vcl_* sub.'),
  v('sess.idle_send_timeout', 'DURATION', { read: CLIENT, write: CLIENT }, 'Send timeout for individual pieces of the response.'),
  v('sess.send_timeout', 'DURATION', { read: CLIENT, write: CLIENT }, 'Total timeout for sending the response.'),
  v('sess.timeout_idle', 'DURATION', { read: CLIENT, write: CLIENT }, 'Idle timeout of this session.'),
  v('sess.timeout_linger', 'DURATION', { read: CLIENT, write: CLIENT }, 'Linger timeout of this session.'),
  v('sess.xid', 'STRING', { read: BOTH, min: 41 }, 'The id of the session.'),
  v('storage.*.free_space', 'BYTES', { read: BOTH }, 'Free space in the named storage.'),
  v('storage.*.happy', 'BOOL', { read: BOTH }, 'Health of the named storage.'),
  v('storage.*.used_space', 'BYTES', { read: BOTH }, 'Used space in the named storage.'),
];

/** Variables by exact name, per syntax version: the checker's lookup table. */
export function variablesFor(version: number): Map<string, VarSpec> {
  const m = new Map<string, VarSpec>();
  for (const spec of VARIABLES) {
    if (version >= spec.minVersion && version <= spec.maxVersion) m.set(spec.name, spec);
  }
  return m;
}

/** The variable names regardless of version, each once: what the runtime must provide. */
export const VARIABLE_NAMES: readonly string[] = [...new Set(VARIABLES.map((s) => s.name))];

/** The HTTP objects whose headers VCL can name: `req.http.X` and so on. */
export const HTTP_OBJECTS = ['req', 'req_top', 'bereq', 'beresp', 'obj', 'resp'] as const;
export type HttpObjectName = (typeof HTTP_OBJECTS)[number];

// ---------------------------------------------------------------------------------------------
// Built-in functions, as opposed to VMOD functions.

export interface BuiltinFunction {
  readonly ret: VclType;
  /** Argument types; REGEX arguments must be string literals, compiled once at load. */
  readonly args: readonly VclType[];
  readonly scope: number;
  readonly doc: string;
}

export const BUILTIN_FUNCTIONS: Readonly<Record<string, BuiltinFunction>> = {
  hash_data: { ret: 'VOID', args: ['STRANDS'], scope: mask('vcl_hash'), doc: 'Adds its argument to the hash input.' },
  synthetic: {
    ret: 'VOID',
    args: ['STRANDS'],
    scope: mask('vcl_synth', 'vcl_backend_error'),
    doc: 'Sets the body of a synthetic response.',
  },
  regsub: { ret: 'STRING', args: ['STRING', 'REGEX', 'STRING'], scope: ALL, doc: 'Replaces the first match of a regex.' },
  regsuball: { ret: 'STRING', args: ['STRING', 'REGEX', 'STRING'], scope: ALL, doc: 'Replaces every match of a regex.' },
  ban: { ret: 'VOID', args: ['STRING'], scope: ALL, doc: 'Adds a ban (deprecated: use std.ban()).' },
};

/** Methods that every value of a type has: `req.http.x.upper()`. */
export const TYPE_METHODS: Readonly<Record<string, Readonly<Record<string, { ret: VclType }>>>> = {
  STRING: { upper: { ret: 'STRING' }, lower: { ret: 'STRING' } },
  STRANDS: { upper: { ret: 'STRING' }, lower: { ret: 'STRING' } },
  BACKEND: { resolve: { ret: 'BACKEND' } },
};

