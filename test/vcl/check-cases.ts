// The checker's cases as data: VCL texts Varnish 7.1 refuses, with the exact errors Shellac
// gives (`line:col message`), and texts Varnish 7.1 accepts, which Shellac must accept too.
// Each case was compared with `varnishd -C` (7.1.1): a refused case is refused there too, at
// the same construct, and an accepted one compiles there; check-cases.varnish.ts compares them
// again (`npm run conformance:varnish`).

import { vcl } from './check-util.ts';

export interface ErrorCase {
  readonly name: string;
  readonly vcl: string;
  readonly errors: readonly string[];
}

export interface AcceptCase {
  readonly name: string;
  readonly vcl: string;
}

const recv = (stmts: string) => vcl(`sub vcl_recv { ${stmts} }\n`);
const beresp = (stmts: string) => vcl(`sub vcl_backend_response { ${stmts} }\n`);
const withStd = (body: string) => vcl(`import std;\n${body}`);
const synth = (stmts: string) => vcl(`sub vcl_synth { ${stmts} }\n`);
const withDirectors = (body: string) => vcl(`import directors;\n${body}`);
/** A VCL with one backend `b` declared by `decl` on line 2, and nothing else. */
const backendDecl = (decl: string) => `vcl 4.1;\n${decl}\n`;
/** A probe on line 2 used by a backend on line 3. */
const probeDecl = (fields: string) => `vcl 4.1;\nprobe p { ${fields} }\nbackend b { .host = "127.0.0.1"; .probe = p; }\n`;
/** An ACL on line 3, used in vcl_recv on line 4. */
const aclDecl = (acl: string) => vcl(`${acl}\nsub vcl_recv { if (client.ip ~ a) {} }\n`);

export const ERROR_CASES: Readonly<Record<string, readonly ErrorCase[]>> = {
  // VCC 7.1's rules for +, -, *, /, %, comparisons and conversions (types.ts has them as tables):
  // `+` joins strings only after a string or where a STRING is wanted, which BODY is not.
  'operators and implicit conversions': [
    { name: 'INT + STRING into a synthetic body', vcl: synth('set resp.body = resp.status + " " + resp.reason;'), errors: ['3:45 INT + STRING not possible.'] },
    { name: 'TIME + STRING into a synthetic body', vcl: synth('set resp.body = now + "a";'), errors: ['3:37 TIME + STRING not possible.'] },
    { name: 'BOOL + STRING appended to a synthetic body', vcl: synth('set resp.body += req.hash_always_miss + "a";'), errors: ['3:55 BOOL + STRING not possible.'] },
    { name: 'INT + STRING in a condition', vcl: recv('if (req.restarts + " " == "a") {}'), errors: ['3:33 INT + STRING not possible.'] },
    { name: 'STRING - STRING', vcl: recv('if (req.url - "a") {}'), errors: ['3:28 STRING - STRING not possible.'] },
    { name: 'TIME + TIME outside a string', vcl: recv('if (now + now) {}'), errors: ['3:24 TIME + TIME not possible.'] },
    { name: 'DURATION + INT', vcl: recv('set req.ttl = 1s + 1;'), errors: ['3:33 DURATION + INT not possible.'] },
    { name: 'INT compared with STRING', vcl: recv('if (req.restarts == "1") {}'), errors: ["3:33 Comparison of different types: INT '==' STRING"] },
    { name: 'IP ordered', vcl: recv('if (client.ip < client.ip) {}'), errors: ['3:30 Operator < not possible on IP'] },
    { name: 'BACKEND ordered', vcl: recv('if (req.backend_hint > req.backend_hint) {}'), errors: ['3:37 Operator > not possible on BACKEND'] },
    { name: 'STRING multiplied', vcl: recv('set req.http.x = req.url * 2;'), errors: ['3:41 Operator * not possible on type STRING.'] },
    { name: 'REAL modulo', vcl: recv('set req.http.x = 1.5 % 2;'), errors: ['3:37 Operator % only possible on INT.'] },
    { name: 'DURATION * DURATION', vcl: recv('if (req.ttl * req.ttl > 1s) {}'), errors: ['3:28 DURATION * DURATION not possible.'] },
    { name: 'TIME where a DURATION is wanted', vcl: recv('set req.ttl = now;'), errors: ['3:30 Expression has type TIME, expected DURATION'] },
    { name: 'STRING where a REAL argument is wanted', vcl: withStd('sub vcl_recv { set req.http.x = std.round(req.url); }\n'), errors: ['4:43 Expression has type STRING, expected REAL'] },
  ],
  'undefined and redefined names': [
    { name: 'call of an undefined sub', vcl: recv('call foo;'), errors: ['3:21 Undefined sub foo, first reference:'] },
    {
      name: 'sub defined twice',
      vcl: vcl('sub foo { }\nsub foo { }\nsub vcl_recv { call foo; }\n'),
      errors: ["4:5 Subroutine 'foo' redefined"],
    },
    {
      name: 'sub names ignore case',
      vcl: vcl('sub foo { }\nsub FOO { }\nsub vcl_recv { call foo; }\n'),
      errors: ["4:5 Subroutine 'foo' redefined"],
    },
    {
      name: 'backend defined twice, case ignored',
      vcl: backendDecl('backend b { .host = "127.0.0.1"; }\nbackend B { .host = "127.0.0.1"; }'),
      errors: ["3:9 Backend 'B' redefined."],
    },
    {
      name: 'ACL defined twice',
      vcl: vcl('acl a { "1.2.3.4"; }\nacl a { "1.2.3.4"; }\nsub vcl_recv { if (client.ip ~ a) {} }\n'),
      errors: ["4:5 ACL 'a' redefined."],
    },
    {
      name: 'one name for an ACL and a sub',
      vcl: vcl('acl f { "1.2.3.4"; }\nsub f { }\nsub vcl_recv { call f; }\n'),
      errors: ["4:5 Name 'f' already defined."],
    },
    {
      name: 'object instance defined twice',
      vcl: withDirectors('sub vcl_init { new d = directors.round_robin(); new d = directors.random(); }\n'),
      errors: ["4:53 Instance 'd' redefined."],
    },
    { name: 'ACL named after a variable', vcl: vcl('acl req { "1.2.3.4"; }\n'), errors: ["3:5 Name 'req' is reserved: it is a variable in VCL"] },
    {
      name: 'backend named after a built-in function',
      vcl: backendDecl('backend regsub { .host = "127.0.0.1"; }'),
      errors: ["2:9 Name 'regsub' is reserved: it is a built-in function in VCL"],
    },
    { name: 'sub named after a variable', vcl: vcl('sub now { }\n'), errors: ["3:5 Name 'now' is reserved: it is a variable in VCL"] },
    {
      name: 'vcl_* name that is no built-in sub',
      vcl: vcl('sub vcl_nosuch { }\n'),
      errors: [
        "3:5 The names 'vcl_*' are reserved for subroutines; 'vcl_nosuch' is not one of Varnish's (vcl_recv, vcl_pipe, vcl_pass, vcl_hash, vcl_purge, vcl_miss, vcl_hit, vcl_deliver, vcl_synth, vcl_backend_fetch, vcl_backend_response, vcl_backend_error, vcl_init, vcl_fini)",
      ],
    },
    { name: 'unknown name in an expression', vcl: recv('set req.http.x = nosuch;'), errors: ["3:33 Symbol not found: 'nosuch'"] },
    { name: 'unknown variable to set', vcl: recv('set req.nosuch = "1";'), errors: ["3:20 Symbol not found: 'req.nosuch'"] },
    { name: 'unknown property of a variable', vcl: recv('set req.http.x = req.nosuch;'), errors: ["3:37 Unknown property 'nosuch' of req (type HTTP)"] },
    { name: 'undefined backend', vcl: recv('set req.backend_hint = nosuch;'), errors: ['3:39 Undefined backend nosuch, first reference:'] },
    { name: 'a regex operand that names nothing', vcl: recv('if (req.url ~ a) {}'), errors: ["3:30 Symbol not found: 'a'"] },
    {
      name: "'default' where no BACKEND is wanted",
      vcl: recv('set req.http.x = default;'),
      errors: ["3:33 Symbol 'default' is a reserved word: it names the default backend only where a BACKEND is wanted"],
    },
    { name: 'call of something that is no sub', vcl: recv('call default;'), errors: ["3:21 'default' is not a sub: only subs can be called"] },
    { name: 'a sub used as a value', vcl: recv('set req.http.x = vcl_recv;'), errors: ["3:33 Symbol 'vcl_recv' can only be used as a SUB expression"] },
    { name: 'a VMOD used as a value', vcl: withStd('sub vcl_recv { set req.http.x = std; }\n'), errors: ["4:33 'std' is a VMOD; name one of its functions, as in std.function(...)"] },
    {
      name: 'a probe used before it is declared',
      vcl: 'vcl 4.1;\nbackend b { .host = "127.0.0.1"; .probe = p; }\nprobe p { .url = "/"; }\n',
      errors: ["2:43 Symbol not found: 'p' (probes must be declared before the backends that use them)"],
    },
  ],

  'unused declarations and the call graph': [
    { name: 'unused sub', vcl: vcl('sub f { }\n'), errors: ['3:5 Unused sub f, defined here but never called'] },
    {
      name: 'a sub called only from an unused sub is not reported again',
      vcl: vcl('sub f { call g; }\nsub g { }\n'),
      errors: ['3:5 Unused sub f, defined here but never called'],
    },
    { name: 'unused ACL', vcl: vcl('acl a { "1.2.3.4"; }\n'), errors: ['3:5 Unused acl a, defined here but never used'] },
    {
      name: 'unused backend',
      vcl: backendDecl('backend b { .host = "127.0.0.1"; }\nbackend c { .host = "127.0.0.1"; }'),
      errors: ['3:9 Unused backend c, defined here but never used'],
    },
    {
      name: "the backend named 'default' is the default one, not the first",
      vcl: backendDecl('backend a { .host = "127.0.0.1"; }\nbackend default { .host = "127.0.0.1"; }'),
      errors: ['2:9 Unused backend a, defined here but never used'],
    },
    {
      name: 'unused probe',
      vcl: 'vcl 4.1;\nprobe p { .url = "/"; }\nbackend b { .host = "127.0.0.1"; }\n',
      errors: ['2:7 Unused probe p, defined here but never used'],
    },
    {
      name: 'no backend at all',
      vcl: 'vcl 4.1;\nsub vcl_recv { }\n',
      errors: ['- No backends or directors found in VCL program, at least one is necessary.'],
    },
    {
      name: 'recursion through two subs',
      vcl: vcl('sub vcl_recv { call a; }\nsub a { call b; }\nsub b { call a; }\n'),
      errors: ['5:14 Subroutine recursion: a -> b -> a'],
    },
    { name: 'a built-in sub calling itself', vcl: recv('call vcl_recv;'), errors: ['3:21 Subroutine recursion: vcl_recv -> vcl_recv'] },
  ],

  'types in set': [
    { name: 'STRING into DURATION', vcl: recv('set req.ttl = "a";'), errors: ['3:30 Expression has type STRING, expected DURATION'] },
    { name: 'INT into DURATION', vcl: recv('set req.grace = 10;'), errors: ['3:32 Expression has type INT, expected DURATION'] },
    { name: 'REAL into DURATION', vcl: recv('set req.ttl = 1.5;'), errors: ['3:30 Expression has type REAL, expected DURATION'] },
    { name: 'REAL into INT', vcl: beresp('set beresp.status = 200.0;'), errors: ['3:48 Expression has type REAL, expected INT'] },
    { name: 'INT + REAL into INT', vcl: beresp('set beresp.status = beresp.status + 1.5;'), errors: ['3:48 Expression has type REAL, expected INT'] },
    { name: 'STRING into BACKEND', vcl: recv('set req.backend_hint = "default";'), errors: ['3:39 Expression has type STRING, expected BACKEND'] },
    {
      name: 'an object instance into BACKEND',
      vcl: withDirectors('sub vcl_init { new d = directors.round_robin(); }\nsub vcl_recv { set req.backend_hint = d; }\n'),
      errors: ['5:39 Expression has type directors.round_robin, expected BACKEND'],
    },
    { name: "'-=' on a STRING", vcl: recv('set req.url -= "a";'), errors: ["3:28 Expected '=' got '-='"] },
    { name: "'+=' on a BOOL", vcl: recv('set req.hash_always_miss += true;'), errors: ["3:41 Expected '=' got '+='"] },
    { name: "'+=' of an INT to a DURATION", vcl: recv('set req.ttl += 1;'), errors: ['3:31 Expression has type INT, expected DURATION'] },
    { name: "'*=' by a REAL on an INT", vcl: beresp('set beresp.status *= 1.5;'), errors: ['3:49 Expression has type REAL, expected INT'] },
    { name: 'a whole HTTP object', vcl: recv('set req = "1";'), errors: ["3:20 'req': Variable is read only."] },
    { name: 'a header family without a header name', vcl: recv('set req.http = "1";'), errors: ["3:20 'req.http' needs a header name, as in req.http.Host"] },
    {
      name: 'a BODY read as a string',
      vcl: vcl('sub vcl_synth { set resp.http.x = resp.body; }\n'),
      errors: ["3:35 Variable 'resp.body' cannot be read; it can only be set"],
    },
    {
      name: 'the value of a VOID function',
      vcl: withStd('sub vcl_recv { set req.http.x = std.log("a"); }\n'),
      errors: ['4:33 Function std.log() returns VOID: it has no value to use'],
    },
  ],

  'types in comparisons and conditions': [
    { name: 'STRING == INT', vcl: recv('if (req.url == 1) {}'), errors: ["3:28 Comparison of different types: STRING '==' INT"] },
    { name: 'DURATION > STRING', vcl: recv('if (req.ttl > "a") {}'), errors: ["3:28 Comparison of different types: DURATION '>' STRING"] },
    { name: 'INT > REAL', vcl: recv('if (req.restarts > 0.5) {}'), errors: ["3:33 Comparison of different types: INT '>' REAL"] },
    { name: 'DURATION > INT', vcl: recv('if (req.ttl > 1) {}'), errors: ["3:28 Comparison of different types: DURATION '>' INT"] },
    { name: 'BOOL == STRING', vcl: recv('if (true == req.url) {}'), errors: ["3:25 Comparison of different types: BOOL '==' STRING"] },
    { name: 'BACKEND == STRING', vcl: recv('if (req.backend_hint == req.url) {}'), errors: ["3:37 Comparison of different types: BACKEND '==' STRING"] },
    { name: 'BACKEND < BACKEND', vcl: recv('if (req.backend_hint < default) {}'), errors: ['3:37 Operator < not possible on BACKEND'] },
    {
      name: 'IP == ACL',
      vcl: vcl('acl a { "1.2.3.4"; }\nsub vcl_recv { if (client.ip == a) {} }\n'),
      errors: ["4:30 Comparison of different types: IP '==' ACL"],
    },
    { name: 'an IP constant that is no address', vcl: recv('if (client.ip == "not an ip") {}'), errors: ['3:33 Cannot convert to an IP address: \'"not an ip"\''] },
    { name: 'TIME as a condition', vcl: recv('if (now) {}'), errors: ['3:20 Expression has type TIME, expected BOOL'] },
    { name: 'IP as a condition', vcl: recv('if (client.ip) {}'), errors: ['3:20 Expression has type IP, expected BOOL'] },
    { name: 'BLOB as a condition', vcl: recv('if (:SGVsbG8=:) {}'), errors: ['3:20 Expression has type BLOB, expected BOOL'] },
    { name: 'a regex that is not a literal', vcl: recv('if (req.url ~ req.http.x) {}'), errors: ['3:30 Expression has type STRING, expected REGEX'] },
    { name: 'an INT as a regex', vcl: recv('if (req.url ~ 1) {}'), errors: ['3:30 Expression has type INT, expected REGEX'] },
    {
      name: 'an ACL as a regex',
      vcl: vcl('acl a { "1.2.3.4"; }\nsub vcl_recv { if (req.url ~ a) {} }\n'),
      errors: ['4:30 Expression has type ACL, expected REGEX'],
    },
    { name: '~ on a DURATION', vcl: recv('if (req.ttl ~ "a") {}'), errors: ['3:28 Operator ~ not possible on DURATION'] },
    { name: 'an IP matched against a string', vcl: recv('if (client.ip ~ "a") {}'), errors: ['3:32 Expected an ACL name after ~, got this expression'] },
  ],

  'types in arithmetic': [
    { name: 'INT - STRING', vcl: recv('set req.http.x = 1 - "a";'), errors: ['3:35 INT - STRING not possible.'] },
    { name: 'STRING - STRING', vcl: recv('set req.url = req.url - "a";'), errors: ['3:38 STRING - STRING not possible.'] },
    { name: 'DURATION + INT', vcl: recv('set req.ttl = 1s + 1;'), errors: ['3:33 DURATION + INT not possible.'] },
    { name: 'INT * DURATION', vcl: recv('set req.ttl = 2 * 1s;'), errors: ['3:32 INT * DURATION not possible.'] },
    { name: 'INT % REAL', vcl: recv('set req.http.x = 5 % 2.0;'), errors: ['3:35 INT % REAL not possible.'] },
    { name: 'REAL % INT', vcl: recv('set req.http.x = 1.5 % 2;'), errors: ['3:37 Operator % only possible on INT.'] },
    { name: 'STRING * INT', vcl: recv('set req.http.x = req.url * 2;'), errors: ['3:41 Operator * not possible on type STRING.'] },
    // Varnish refuses this only when its C compiler fails on the code generated for it.
    { name: 'unary minus on a STRING', vcl: recv('set req.http.x = -req.url;'), errors: ['3:33 Operator - not possible on type STRING.'] },
    {
      name: 'a BYTES unit where a DURATION is wanted',
      vcl: recv('set req.ttl = 1KB;'),
      errors: ["3:30 Unknown duration unit in '1KB' (a BYTES value is not wanted here)"],
    },
    {
      name: 'a number without a unit where BYTES are wanted',
      vcl: withStd('sub vcl_recv { std.cache_req_body(1); }\n'),
      errors: ["4:35 Expected BYTES unit (B, KB, MB...) after '1'"],
    },
    {
      name: 'a DURATION unit where BYTES are wanted',
      vcl: withStd('sub vcl_recv { std.cache_req_body(1s); }\n'),
      errors: ["4:35 Unknown BYTES unit in '1s'. Legal are 'B', 'KB', 'MB', 'GB' and 'TB'"],
    },
  ],

  'number literals': [
    { name: 'an integer of 16 digits', vcl: recv('set req.http.x = 1000000000000000;'), errors: ['3:33 Too many digits for integer (VCL allows 15).'] },
    { name: 'leading zeros count', vcl: recv('set req.http.x = 0000000000000001;'), errors: ['3:33 Too many digits for integer (VCL allows 15).'] },
    { name: 'a real with 13 digits before the point', vcl: recv('set req.http.x = 1000000000000.0;'), errors: ['3:33 Too many digits for real (VCL allows 12 before the point and 3 after).'] },
    { name: 'a real with 4 decimals', vcl: recv('set req.http.x = 0.1234;'), errors: ['3:33 Too many digits for real (VCL allows 12 before the point and 3 after).'] },
    { name: 'a duration with 4 decimals', vcl: recv('set req.ttl = 1.1234s;'), errors: ['3:30 Too many digits for real (VCL allows 12 before the point and 3 after).'] },
    {
      name: 'a byte size of 16 digits',
      vcl: withStd('sub vcl_recv { std.cache_req_body(1000000000000000KB); }\n'),
      errors: ['4:35 Too many digits for integer (VCL allows 15).'],
    },
    {
      name: 'a backend field',
      vcl: backendDecl('backend b { .host = "127.0.0.1"; .max_connections = 1000000000000000; }'),
      errors: ['2:53 Too many digits for integer (VCL allows 15).'],
    },
  ],

  'variables per sub': [
    {
      name: 'reading beresp in vcl_recv',
      vcl: recv('set req.http.x = beresp.ttl;'),
      errors: ["3:33 Variable 'beresp.ttl' is not available in vcl_recv; it is readable in vcl_backend_response, vcl_backend_error"],
    },
    {
      name: 'setting beresp in vcl_recv',
      vcl: recv('set beresp.ttl = 1s;'),
      errors: ["3:20 Variable 'beresp.ttl' cannot be set in vcl_recv; it can be set in vcl_backend_response, vcl_backend_error"],
    },
    {
      name: 'setting a request header on the backend side',
      vcl: beresp('set req.http.x = "1";'),
      errors: ["3:32 Variable 'req.http.x' cannot be set in vcl_backend_response; it can be set in client"],
    },
    { name: 'a read-only variable', vcl: recv('set req.restarts = 1;'), errors: ["3:20 'req.restarts': Variable is read only."] },
    { name: 'obj is read only', vcl: vcl('sub vcl_deliver { set obj.ttl = 1s; }\n'), errors: ["3:23 'obj.ttl': Variable is read only."] },
    { name: 'a variable that cannot be unset', vcl: recv('unset req.url;'), errors: ["3:22 Variable 'req.url' cannot be unset."] },
    {
      name: 'obj.status outside vcl_hit',
      vcl: vcl('sub vcl_deliver { set resp.http.x = obj.status; }\n'),
      errors: ["3:37 Variable 'obj.status' is not available in vcl_deliver; it is readable in vcl_hit"],
    },
    {
      name: 'obj headers outside vcl_hit',
      vcl: vcl('sub vcl_deliver { set resp.http.x = obj.http.x; }\n'),
      errors: ["3:37 Variable 'obj.http.<name>' is not available in vcl_deliver; it is readable in vcl_hit"],
    },
    {
      name: 'req.hash before the lookup',
      vcl: recv('set req.http.x = req.hash;'),
      errors: ["3:33 Variable 'req.hash' is not available in vcl_recv; it is readable in vcl_pass, vcl_purge, vcl_miss, vcl_hit, vcl_deliver"],
    },
    {
      name: 'a custom sub called from vcl_recv',
      vcl: vcl('sub vcl_recv { call f; }\nsub f { set beresp.ttl = 1s; }\n'),
      errors: [
        "4:13 Variable 'beresp.ttl' cannot be set in vcl_recv; it can be set in vcl_backend_response, vcl_backend_error (sub f is called from vcl_recv)",
      ],
    },
    {
      name: 'a custom sub reached through another one',
      vcl: vcl('sub vcl_recv { call g; }\nsub g { call f; }\nsub f { set req.http.x = beresp.reason; }\n'),
      errors: [
        "5:26 Variable 'beresp.reason' is not available in vcl_recv; it is readable in vcl_backend_response, vcl_backend_error (sub f is called from vcl_recv via g)",
      ],
    },
    {
      name: 'a custom sub called from both sides',
      vcl: vcl('sub vcl_recv { call f; }\nsub vcl_backend_fetch { call f; }\nsub f { set req.http.x = "1"; }\n'),
      errors: ["5:13 Variable 'req.http.x' cannot be set in vcl_backend_fetch; it can be set in client (sub f is called from vcl_backend_fetch)"],
    },
    {
      name: 'a custom sub called from vcl_init',
      vcl: vcl('sub vcl_init { call f; }\nsub f { set req.http.x = "1"; }\n'),
      errors: ["4:13 Variable 'req.http.x' cannot be set in vcl_init; it can be set in client (sub f is called from vcl_init)"],
    },
    {
      name: 'req passed to a VMOD on the backend side',
      vcl: withStd('sub vcl_backend_fetch { std.rollback(req); }\n'),
      errors: ["4:38 Variable 'req' is not available in vcl_backend_fetch; it is readable in client"],
    },
    {
      name: 'hash_data outside vcl_hash',
      vcl: recv('hash_data(req.url);'),
      errors: ['3:16 hash_data() is not available in vcl_recv; it can be used in vcl_hash'],
    },
    {
      name: 'synthetic outside vcl_synth and vcl_backend_error',
      vcl: vcl('sub vcl_deliver { synthetic("x"); }\n'),
      errors: ['3:19 synthetic() is not available in vcl_deliver; it can be used in vcl_synth, vcl_backend_error'],
    },
    {
      name: "'new' outside vcl_init",
      vcl: withDirectors('sub vcl_recv { new d = directors.round_robin(); }\n'),
      errors: ["4:16 'new' is only possible in vcl_init, not in vcl_recv"],
    },
  ],

  'return actions': [
    {
      name: 'deliver from vcl_recv',
      vcl: recv('return (deliver);'),
      errors: ['3:24 return (deliver) is not allowed in vcl_recv; it may return hash, pass, pipe, purge, synth, restart, vcl, fail'],
    },
    {
      name: 'lookup from vcl_recv',
      vcl: recv('return (lookup);'),
      errors: ['3:24 return (lookup) is not allowed in vcl_recv; it may return hash, pass, pipe, purge, synth, restart, vcl, fail'],
    },
    {
      name: 'fail from vcl_fini',
      vcl: vcl('sub vcl_fini { return (fail); }\n'),
      errors: ['3:24 return (fail) is not allowed in vcl_fini; it may return ok'],
    },
    {
      name: 'error from vcl_backend_error',
      vcl: vcl('sub vcl_backend_error { return (error); }\n'),
      errors: ['3:33 return (error) is not allowed in vcl_backend_error; it may return deliver, abandon, retry, fail'],
    },
    {
      name: 'a custom sub returning what one of its callers may not',
      vcl: vcl('sub vcl_recv { call f; }\nsub vcl_deliver { call f; }\nsub f { return (pass); }\n'),
      errors: ['5:17 return (pass) is not allowed in vcl_deliver; it may return deliver, restart, synth, fail (sub f is called from vcl_deliver)'],
    },
    {
      name: 'a return reached through two custom subs',
      vcl: vcl('sub vcl_recv { call g; }\nsub g { call f; }\nsub f { return (fetch); }\n'),
      errors: [
        '5:17 return (fetch) is not allowed in vcl_recv; it may return hash, pass, pipe, purge, synth, restart, vcl, fail (sub f is called from vcl_recv via g)',
      ],
    },
    { name: 'an unknown action', vcl: vcl('sub vcl_hit { return (miss); }\n'), errors: ["3:23 Unknown return action 'miss'"] },
    { name: 'actions are case-sensitive', vcl: recv('return (Pass);'), errors: ["3:24 Unknown return action 'Pass'"] },
    { name: 'a built-in sub returning no action', vcl: recv('return;'), errors: ['3:16 vcl_recv must say which action it returns, as in return (hash);'] },
    { name: 'synth without its status', vcl: recv('return (synth());'), errors: ['3:24 Missing argument for synth().'] },
    { name: 'synth with a STRING status', vcl: recv('return (synth("a"));'), errors: ['3:30 Expression has type STRING, expected INT'] },
    { name: 'synth with three arguments', vcl: recv('return (synth(200, "a", "b"));'), errors: ['3:40 Too many arguments for synth()'] },
    { name: 'arguments to hash', vcl: recv('return (hash(1));'), errors: ['3:29 Arguments not allowed for hash.'] },
    { name: 'pass with an INT TTL', vcl: beresp('return (pass(1));'), errors: ['3:41 Expression has type INT, expected DURATION'] },
  ],

  'VMOD calls': [
    { name: 'a VMOD not imported', vcl: recv('std.log("x");'), errors: ["3:16 Symbol not found: 'std.log'"] },
    { name: 'an unknown function', vcl: withStd('sub vcl_recv { std.nosuch(); }\n'), errors: ["4:16 Symbol not found: 'std.nosuch'"] },
    {
      name: 'a missing argument',
      vcl: withStd('sub vcl_recv { set req.http.x = std.toupper(); }\n'),
      errors: ["4:33 Argument 's' missing: std.toupper() needs STRANDS s"],
    },
    {
      name: 'too many arguments',
      vcl: withStd('sub vcl_recv { set req.http.x = std.tolower("a", "b"); }\n'),
      errors: ['4:50 Too many arguments: std.tolower() takes 1'],
    },
    {
      name: 'an unknown named argument',
      vcl: withStd('sub vcl_recv { set req.http.x = std.integer(s = "1", nosuch = 2); }\n'),
      errors: ["4:54 Unknown argument 'nosuch' of std.integer()"],
    },
    {
      name: 'argument names are case-sensitive',
      vcl: withStd('sub vcl_recv { set req.http.x = std.integer(S = "1"); }\n'),
      errors: ["4:45 Unknown argument 'S' of std.integer()"],
    },
    {
      name: 'a named argument given twice',
      vcl: withStd('sub vcl_recv { set req.http.x = std.integer(s = "1", s = "2"); }\n'),
      errors: ["4:54 Argument 's' already used"],
    },
    {
      name: 'a positional argument after a named one',
      vcl: withStd('sub vcl_recv { set req.http.x = std.integer(s = "1", 2); }\n'),
      errors: ['4:54 Positional arguments must come before named ones in std.integer()'],
    },
    {
      name: 'a wrong ENUM value',
      vcl: withDirectors('sub vcl_init { new d = directors.shard(); }\nsub vcl_recv { set req.backend_hint = d.backend(by=NOSUCH); }\n'),
      errors: ["5:52 Wrong enum value 'NOSUCH' for argument 'by'. Expected one of: HASH, URL, KEY, BLOB"],
    },
    {
      name: 'ENUM values are case-sensitive',
      vcl: withDirectors('sub vcl_init { new d = directors.shard(); }\nsub vcl_recv { set req.backend_hint = d.backend(by=url); }\n'),
      errors: ["5:52 Wrong enum value 'url' for argument 'by'. Expected one of: HASH, URL, KEY, BLOB"],
    },
    {
      name: 'a STRING where a HEADER is wanted',
      vcl: withStd('sub vcl_recv { std.collect(req.url); }\n'),
      errors: ['4:28 Expression has type STRING, expected HEADER'],
    },
    {
      name: 'an unknown method of an object',
      vcl: withDirectors('sub vcl_init { new d = directors.round_robin(); }\nsub vcl_recv { d.nosuch(); }\n'),
      errors: ["5:18 Object 'd' (directors.round_robin) has no method 'nosuch'"],
    },
    {
      name: "'new' with a function",
      vcl: withStd('sub vcl_init { new x = std.log("a"); }\n'),
      errors: ["4:24 'std.log' is not a VMOD object: 'new' needs one, as in directors.round_robin()"],
    },
    {
      name: "'new' with a dotted name",
      vcl: withDirectors('sub vcl_init { new x.y = directors.round_robin(); }\n'),
      errors: ["4:20 Name of VCL object, 'x.y', contains illegal character '.'"],
    },
    {
      name: 'a constructor given too many arguments',
      vcl: withDirectors('sub vcl_init { new x = directors.round_robin(1); }\n'),
      errors: ['4:46 Too many arguments: directors.round_robin() takes 0'],
    },
    {
      name: 'an object called like a function',
      vcl: withDirectors('sub vcl_recv { set req.backend_hint = directors.round_robin(); }\n'),
      errors: ["4:39 directors.round_robin is an object: create one in vcl_init with 'new NAME = directors.round_robin(...);'"],
    },
  ],

  'statements': [
    {
      name: 'regsub as a statement',
      vcl: recv('regsub(req.url, "a", "b");'),
      errors: ['3:16 regsub() returns a value and cannot be used as a statement; use it in an expression, as in set req.url = regsub(...);'],
    },
    { name: "a type's method as a statement", vcl: recv('req.url.upper();'), errors: ['3:16 .upper() returns a value and cannot be used as a statement'] },
    {
      name: 'regsub with two arguments',
      vcl: recv('set req.http.x = regsub(req.url, "a");'),
      errors: ['3:33 regsub() takes three arguments: regsub(string, regex, substitution)'],
    },
  ],

  'backends': [
    {
      name: 'an unknown field',
      vcl: backendDecl('backend b { .host = "127.0.0.1"; .nosuch = 1; }'),
      errors: [
        "2:35 Unknown field: 'nosuch' in backend b; known fields: .host .port .path .host_header .connect_timeout .first_byte_timeout .between_bytes_timeout .max_connections .proxy_header .preamble .probe",
      ],
    },
    {
      name: 'field names are case-sensitive',
      vcl: backendDecl('backend b { .HOST = "127.0.0.1"; }'),
      errors: [
        "2:14 Unknown field: 'HOST' in backend b; known fields: .host .port .path .host_header .connect_timeout .first_byte_timeout .between_bytes_timeout .max_connections .proxy_header .preamble .probe",
      ],
    },
    { name: 'a field given twice', vcl: backendDecl('backend b { .host = "127.0.0.1"; .host = "x"; }'), errors: ["2:35 Field 'host' redefined"] },
    { name: 'no address', vcl: backendDecl('backend b { .port = "80"; }'), errors: ['2:9 Backend b: expected .host or .path.'] },
    {
      name: 'both .host and .path',
      vcl: backendDecl('backend b { .host = "127.0.0.1"; .path = "/x"; }'),
      errors: ['2:35 Backend b: .host and .path cannot both be given'],
    },
    { name: 'a relative .path', vcl: backendDecl('backend b { .path = "x"; }'), errors: ['2:21 Backend path: Must be an absolute path'] },
    { name: 'an empty .host', vcl: backendDecl('backend b { .host = ""; }'), errors: ['2:21 Backend b: .host is empty'] },
    {
      name: 'a timeout without a unit',
      vcl: backendDecl('backend b { .host = "127.0.0.1"; .connect_timeout = 1; }'),
      errors: ['2:53 .connect_timeout must be a duration, as in 5s'],
    },
    {
      name: 'a string for a number',
      vcl: backendDecl('backend b { .host = "127.0.0.1"; .max_connections = "a"; }'),
      errors: ['2:53 .max_connections must be an integer'],
    },
    {
      name: 'a string for the preamble',
      vcl: backendDecl('backend b { .host = "127.0.0.1"; .preamble = "x"; }'),
      errors: ['2:46 .preamble must be a BLOB literal, as in :SGVsbG8=:'],
    },
    { name: 'a PROXY version that does not exist', vcl: backendDecl('backend b { .host = "127.0.0.1"; .proxy_header = 3; }'), errors: ['2:50 .proxy_header must be 1 or 2'] },
  ],

  'probes': [
    { name: '.url and .request', vcl: probeDecl('.url = "/"; .request = "GET / HTTP/1.1";'), errors: ['2:24 A probe takes .url or .request, not both'] },
    { name: '.window without .threshold', vcl: probeDecl('.url = "/"; .window = 3;'), errors: ['2:33 Must specify .threshold with .window'] },
    { name: 'a window over 64', vcl: probeDecl('.url = "/"; .window = 65; .threshold = 3;'), errors: ['2:33 Window must be 64 or less.'] },
    { name: 'a threshold over the window', vcl: probeDecl('.url = "/"; .window = 3; .threshold = 4;'), errors: ['2:49 Threshold can not be greater than window.'] },
    {
      name: 'an unknown field',
      vcl: probeDecl('.url = "/"; .nosuch = 5;'),
      errors: ["2:24 Unknown field: 'nosuch' in probe p; known fields: .url .request .expected_response .timeout .interval .window .threshold .initial"],
    },
    {
      name: 'an inline probe is checked alike',
      vcl: backendDecl('backend b { .host = "127.0.0.1"; .probe = { .url = "/"; .threshold = 9; .window = 8; } }'),
      errors: ['2:70 Threshold can not be greater than window.'],
    },
  ],

  'ACLs': [
    { name: 'an IPv4 mask over 32', vcl: aclDecl('acl a { "1.2.3.4"/33; }'), errors: ['3:19 Too wide mask (/33) for IPv4 address'] },
    { name: 'an IPv6 mask over 128', vcl: aclDecl('acl a { "::1"/129; }'), errors: ['3:15 Too wide mask (/129) for IPv6 address'] },
    { name: 'host bits set beyond the mask', vcl: aclDecl('acl a { "1.2.3.4"/8; }'), errors: ['3:9 Non-zero bits in masked part, (maybe use 1.0.0.0/8 ?)'] },
    {
      name: 'one prefix both allowed and denied',
      vcl: aclDecl('acl a { "1.2.3.0"/24; ! "1.2.3.0"/24; }'),
      errors: ['3:9 Conflicting ACL entries: this entry allows 1.2.3.0/24, a later one denies it'],
    },
    {
      name: 'a conflict found after clearing host bits (-pedantic)',
      vcl: aclDecl('acl a -pedantic { "1.2.3.4"/24; ! "1.2.3.5"/24; }'),
      errors: ['3:19 Conflicting ACL entries: this entry allows 1.2.3.0/24, a later one denies it'],
    },
    {
      name: 'a conflict between an address and its /32',
      vcl: aclDecl('acl a { ! "1.2.3.4"; "::1"; "1.2.3.4"/32; }'),
      errors: ['3:11 Conflicting ACL entries: this entry denies 1.2.3.4/32, a later one allows it'],
    },
    { name: 'an unknown flag', vcl: aclDecl('acl a +nosuch { "1.2.3.4"; }'), errors: ["3:8 Unknown ACL flag: 'nosuch'; known: +log, +table, -pedantic"] },
    { name: 'flags are case-sensitive', vcl: aclDecl('acl a +LOG { "1.2.3.4"; }'), errors: ["3:8 Unknown ACL flag: 'LOG'; known: +log, +table, -pedantic"] },
  ],

  'regular expressions': [
    { name: 'an unclosed group', vcl: recv('if (req.url ~ "(") {}'), errors: ['3:30 Regular expression error: missing closing parenthesis'] },
    { name: 'a quantifier out of order', vcl: recv('if (req.url ~ "a{2,1}") {}'), errors: ['3:30 Regular expression error: numbers out of order in {} quantifier'] },
    {
      name: 'an unclosed class in regsub',
      vcl: recv('set req.url = regsub(req.url, "[", "");'),
      errors: ['3:46 Regular expression error: missing terminating ] for character class'],
    },
  ],

  'syntax versions': [
    {
      name: 'quoted header names need 4.1',
      vcl: 'vcl 4.0;\nbackend default { .host = "127.0.0.1"; }\nsub vcl_recv { set req.http."x.y" = "1"; }\n',
      errors: ['3:29 Quoted headers are available for VCL >= 4.1'],
    },
    {
      name: 'req.esi is gone in 4.1',
      vcl: recv('set req.esi = false;'),
      errors: ["3:20 Symbol not found: 'req.esi' (it exists in VCL 4.0; this VCL is 4.1)"],
    },
    {
      name: 'beresp.storage_hint is gone in 4.1',
      vcl: beresp('set beresp.storage_hint = "s0";'),
      errors: ["3:32 Symbol not found: 'beresp.storage_hint' (it exists in VCL 4.0; this VCL is 4.1)"],
    },
    {
      name: 'beresp.backend.ip is gone in 4.1',
      vcl: beresp('set beresp.http.x = beresp.backend.ip;'),
      errors: ["3:48 Symbol not found: 'beresp.backend.ip' (it exists in VCL 4.0; this VCL is 4.1)"],
    },
    { name: 'req.proto is read only in 4.1', vcl: recv('set req.proto = "HTTP/1.0";'), errors: ["3:20 'req.proto': Variable is read only."] },
    {
      name: 'local.socket is new in 4.1',
      vcl: 'vcl 4.0;\nbackend default { .host = "127.0.0.1"; }\nsub vcl_recv { set req.http.x = local.socket; }\n',
      errors: ["3:33 Symbol not found: 'local.socket' (it exists in VCL 4.1; this VCL is 4.0)"],
    },
    {
      name: 'resp.do_esi is new in 4.1',
      vcl: 'vcl 4.0;\nbackend default { .host = "127.0.0.1"; }\nsub vcl_deliver { set resp.do_esi = false; }\n',
      errors: ["3:23 Symbol not found: 'resp.do_esi' (it exists in VCL 4.1; this VCL is 4.0)"],
    },
    { name: 'VCL 4.2 does not exist', vcl: 'vcl 4.2;\nbackend default { .host = "127.0.0.1"; }\n', errors: ['1:1 VCL version 4.2 not supported.'] },
    { name: 'VCL 3.0 is not supported', vcl: 'vcl 3.0;\nbackend default { .host = "127.0.0.1"; }\n', errors: ['1:1 VCL version 3.0 not supported.'] },
  ],
};

/** Texts Varnish 7.1 compiles; Shellac must check them clean. */
export const ACCEPT_CASES: readonly AcceptCase[] = [
  { name: 'INT + STRING where a string is wanted: a header, synthetic()', vcl: vcl('sub vcl_deliver { set resp.http.x = resp.status + " " + resp.reason; }\nsub vcl_synth { synthetic(resp.status + " " + resp.reason); }\n') },
  { name: 'a synthetic body that starts with a string', vcl: synth('set resp.body = "" + resp.status + " " + resp.reason; set resp.body += "" + now;') },
  { name: 'a string joined with a parenthesized INT + STRING in a condition', vcl: recv('if ("a" + (req.restarts + " ") == "a") {}') },
  { name: 'INT + STRING in std.log and a synth reason', vcl: withStd('sub vcl_recv { std.log(req.restarts + " " + now); return (synth(200, req.restarts + " restarts")); }\n') },
  { name: 'TIME, DURATION and REAL arithmetic', vcl: withStd('sub vcl_recv { set req.http.x = now - 1s + 1d; if (std.random(0, 1) + 1 > 1) {} }\n') },
  { name: 'names ignore case: variables, booleans, subs', vcl: vcl('sub vcl_recv { set REQ.URL = "x"; if (TrUe) { call F; } }\nsub f { set req.http.x = client.IP; }\n') },
  { name: 'a built-in sub in capitals', vcl: vcl('sub VCL_RECV { set req.http.x = "1"; }\n') },
  { name: 'backends, ACLs and VMODs in another case', vcl: backendDecl('backend Foo { .host = "127.0.0.1"; }\nacl A { "1.2.3.4"; }\nimport std;\nsub vcl_recv { set req.backend_hint = foo; if (client.ip ~ a) { STD.LOG("x"); } }') },
  { name: 'type methods and storage in another case', vcl: recv('set req.http.x = req.url.UPPER(); set req.http.y = storage.S0.free_space;') },
  { name: 'a VMOD alias and an instance in another case', vcl: vcl('import std as S;\nimport directors;\nsub vcl_init { new X = directors.round_robin(); }\nsub vcl_recv { s.log("x"); set req.backend_hint = x.backend(); }\n') },
  { name: 'fail with a reason', vcl: vcl('sub vcl_init { return (fail("no")); }\nsub vcl_recv { return (fail("no")); }\n') },
  { name: 'a backend preamble', vcl: backendDecl('backend b { .host = "127.0.0.1"; .preamble = :SGVsbG8=:; }') },
  { name: 'BLOB literals as values', vcl: vcl('import blob;\nsub vcl_recv { set req.http.x = blob.encode(BASE64, blob=:SGVsbG8=:); set req.http.y = :SGVsbG8=:; }\n') },
  { name: "'default' where a BACKEND is wanted", vcl: recv('set req.backend_hint = default; if (req.backend_hint == default) {}') },
  { name: "'default' with no backend of that name", vcl: backendDecl('backend foo { .host = "127.0.0.1"; }\nsub vcl_recv { set req.backend_hint = default; }') },
  { name: 'a backend named default after another one that is used', vcl: backendDecl('backend s1 { .host = "127.0.0.1"; }\nbackend default { .host = "127.0.0.1"; }\nsub vcl_backend_fetch { set bereq.backend = s1; }') },
  { name: 'a backend turned into a string', vcl: backendDecl('backend foo { .host = "127.0.0.1"; }\nsub vcl_recv { set req.http.x = foo; set req.http.y = foo.resolve(); set req.http.z = req.backend_hint; }') },
  { name: 'strings built from every type', vcl: recv('set req.url = req.url + 1 + 2.5 + 1s + now + client.ip + req.backend_hint;') },
  { name: 'a number plus a string', vcl: recv('set req.url = 1 + "a"; set req.http.x = 1.5 + 2;') },
  { name: 'TIME arithmetic', vcl: recv('set req.http.x = now + 1s; set req.http.y = now - now; set req.http.z = now + now; if (now > now - 1s) {}') },
  { name: 'DURATION arithmetic', vcl: recv('set req.ttl = 1s * 2; set req.ttl = 1s / 0.5; set req.ttl = req.grace + 1s; set req.ttl = req.grace * 1.5; set req.ttl *= 2;') },
  { name: 'assignment operators', vcl: beresp('set beresp.ttl *= 1.5; set beresp.ttl /= 2; set beresp.status *= 2; set beresp.status /= 2; set beresp.ttl += 1s; set beresp.ttl -= 1s;') },
  { name: 'INT arithmetic', vcl: recv('set req.http.x = req.restarts % 2; set req.http.y = 7 / 2;') },
  { name: 'appending to strings and headers', vcl: recv('set req.url += "a"; set req.http.x += "a"; set req.http.y = req.http.y + "";') },
  { name: 'appending to a synthetic body', vcl: vcl('sub vcl_synth { set resp.body = "x"; set resp.body += "y"; synthetic("z"); }\n') },
  { name: 'presence tests', vcl: recv('if (req.http.x) {} if (!req.url) {} if (req.url && 1s) {} if (1) {} if (req.ttl) {} if (req.backend_hint) {}') },
  { name: 'conditions into BOOL variables', vcl: recv('set req.hash_always_miss = req.http.x; set req.hash_always_miss = 1; set req.hash_always_miss = req.url ~ "a";') },
  { name: 'comparisons turned into strings', vcl: recv('set req.http.x = 1 == 1; set req.http.y = true;') },
  { name: 'strings compared', vcl: recv('if (req.http.x > "a") {} if (req.url != req.http.x + "a") {} if (req.http.x == req.url) {}') },
  { name: 'an IP compared with an address', vcl: recv('if (client.ip == "1.2.3.4") {}') },
  { name: 'unsetting the request body', vcl: vcl('sub vcl_backend_fetch { unset bereq.body; }\n') },
  { name: 'req.hash and obj headers in vcl_hit', vcl: vcl('sub vcl_hit { set req.http.x = req.hash; set req.http.y = obj.http.x; }\n') },
  { name: 'synth from a sub called from vcl_recv and vcl_deliver', vcl: vcl('sub vcl_recv { call f; }\nsub vcl_deliver { call f; }\nsub f { return (synth(200)); }\n') },
  { name: 'pass with a TTL, error with and without arguments', vcl: vcl('sub vcl_backend_response { return (pass(1s)); }\nsub vcl_backend_fetch { if (true) { return (error(503)); } return (error); }\n') },
  { name: 'fail from vcl_init', vcl: vcl('sub vcl_init { return (fail); }\n') },
  { name: 'ban as a statement', vcl: recv('ban("req.url ~ x");') },
  { name: 'VMOD functions with a value, used as statements', vcl: withStd('sub vcl_recv { std.integer("1", 0); std.toupper("a"); }\n') },
  { name: 'std calls', vcl: withStd('sub vcl_recv { std.collect(req.http.cookie, "; "); if (std.file_exists("/x")) {} set req.http.x = std.time(req.http.d, now); set req.http.y = std.duration("1s", 0s); set req.http.z = std.integer(s = "1", fallback = 2); }\nsub vcl_backend_response { std.cache_req_body(1KB); }\n') },
  { name: 'an ENUM argument', vcl: withDirectors('sub vcl_init { new d = directors.shard(); }\nsub vcl_recv { set req.backend_hint = d.backend(by=URL); }\n') },
  { name: 'an object created inside an if', vcl: withDirectors('sub vcl_init { if (true) { new x = directors.round_robin(); } }\nsub vcl_recv { set req.backend_hint = x.backend(); }\n') },
  { name: "a director's VOID method as a statement", vcl: withDirectors('sub vcl_init { new d = directors.round_robin(); d.add_backend(default); }\nsub vcl_recv { set req.backend_hint = d.backend(); }\n') },
  { name: 'an import given twice', vcl: withStd('import std;\nsub vcl_recv { std.log("x"); }\n') },
  { name: 'storage variables', vcl: recv('set req.http.x = storage.s0.free_space; set req.storage = storage.Transient;') },
  { name: 'sess.xid in 4.1', vcl: recv('set req.http.x = sess.xid;') },
  { name: 'VCL 4.0 variables', vcl: 'vcl 4.0;\nbackend default { .host = "127.0.0.1"; }\nsub vcl_recv { set req.esi = false; set req.proto = "HTTP/1.0"; }\nsub vcl_backend_response { set beresp.http.x = beresp.backend.ip; set beresp.storage_hint = "s0"; }\n' },
  { name: 'a probe used by a backend', vcl: probeDecl('.url = "/"; .initial = 5; .window = 3; .threshold = 2;') },
  { name: 'duplicate ACL entries and IPv4-mapped ones', vcl: aclDecl('acl a { "1.2.3.0"/24; "1.2.3.0"/24; "1.2.3.4"; ! "::ffff:1.2.3.4"; }') },
  { name: 'an ACL without the pedantic check', vcl: aclDecl('acl a -pedantic { "1.2.3.4"/8; }') },
  { name: 'optional ACL host names', vcl: aclDecl('acl a { ("no-such-host.invalid"); }') },
  { name: 'a none backend beside a real one', vcl: backendDecl('backend b none;\nbackend c { .host = "127.0.0.1"; }\nsub vcl_recv { set req.backend_hint = c; }') },
  { name: 'number literals at their longest', vcl: recv('set req.http.x = 999999999999999; set req.http.y = 999999999999.999; set req.ttl = 999999999999.5s; set req.http.z = 0.123 + 007;') },
  { name: 'a named regex group and a back reference', vcl: recv('if (req.url ~ "(?<n>a)\\\\k<n>") {}') },
];
