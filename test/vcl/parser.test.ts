import { describe, expect, it } from 'vitest';
import type { Expr, Program, Stmt, SubDecl } from '../../src/vcl/ast.ts';
import { parseExpression, parseVcl } from '../../src/vcl/parse.ts';

/** The AST without positions, for comparing shapes. */
function strip<T>(node: T): T {
  return JSON.parse(JSON.stringify(node, (k, v) => (k === 'pos' || k === 'opPos' || k === 'versionPos' ? undefined : v)));
}

function program(text: string): Program {
  const r = parseVcl({ name: 'main.vcl', text });
  expect(r.diagnostics.list.map((d) => d.message)).toEqual([]);
  return r.program!;
}

function stmts(body: string): Stmt[] {
  const p = program(`vcl 4.1;\nsub s {\n${body}\n}\n`);
  return strip((p.decls[0] as SubDecl).body.stmts);
}

/** `line:col message` for each diagnostic, in source order. */
function errors(text: string): string[] {
  const r = parseVcl({ name: 'main.vcl', text });
  expect(r.program).toBeUndefined();
  return r.diagnostics.sorted().map((d) => `${d.pos ? `${d.pos.line}:${d.pos.col}` : '-'} ${d.message}`);
}

/** An expression as an S-expression: `(&& a (! (== b c)))`. */
function show(e: Expr): string {
  switch (e.kind) {
    case 'binary':
      return `(${e.op} ${show(e.left)} ${show(e.right)})`;
    case 'unary':
      return `(${e.op} ${show(e.operand)})`;
    case 'paren':
      return `[${show(e.inner)}]`;
    case 'name':
      return e.text;
    case 'string':
      return JSON.stringify(e.value);
    case 'blob':
      return `blob:${e.text}`;
    case 'call':
      return `${e.callee.text}(${e.args.map((a) => (a.name ? `${a.name.name}=` : '') + show(a.value)).join(', ')})`;
    case 'method':
      return `${show(e.target)}.${e.method.name}(${e.args.map((a) => show(a.value)).join(', ')})`;
    default:
      return `${e.kind}:${e.text}=${e.value}`;
  }
}

function expr(text: string): string {
  const r = parseExpression(text, 'expr');
  expect(r.diagnostics.list.map((d) => d.message)).toEqual([]);
  return show(r.expr!);
}

const str = (value: string, quote = '"') => ({ kind: 'string', value, quote });
const name = (text: string) => ({
  kind: 'name',
  text,
  parts: text.split('.').map((t) => ({ text: t, quoted: false })),
});

describe('top-level declarations', () => {
  it('reads the version and its position', () => {
    const p = program('vcl 4.0;\n');
    expect(p.version).toBe(40);
    expect(p.versionPos).toEqual({ file: 0, line: 1, col: 1, offset: 0, length: 8 });
    expect(p.decls).toEqual([]);
    expect(program('  vcl 4.1 ;').version).toBe(41);
  });

  it('parses imports with an alias and a path', () => {
    const p = program('vcl 4.1;\nimport std;\nimport directors as d from "/usr/lib/vmod.so";');
    expect(strip(p.decls)).toEqual([
      { kind: 'import', module: { name: 'std' } },
      { kind: 'import', module: { name: 'directors' }, alias: { name: 'd' }, from: str('/usr/lib/vmod.so') },
    ]);
    expect(p.decls[1]!.pos).toEqual({ file: 0, line: 3, col: 1, offset: 21, length: 6 });
  });

  it('parses backends with fields, an inline probe, a probe name, and none', () => {
    const p = program(`vcl 4.1;
backend web {
  .host = "127.0.0.1";
  .port = "8080";
  .connect_timeout = 1.5s;
  .max_connections = 100;
  .probe = { .url = "/health"; .interval = 5s; }
  .host_header = "example.com";
}
backend other { .host = "x"; .probe = healthy; }
backend nothing none;`);
    expect(strip(p.decls)).toEqual([
      {
        kind: 'backend',
        name: { name: 'web' },
        none: false,
        fields: [
          { name: { name: 'host' }, value: str('127.0.0.1') },
          { name: { name: 'port' }, value: str('8080') },
          { name: { name: 'connect_timeout' }, value: { kind: 'duration', value: 1.5, text: '1.5s' } },
          { name: { name: 'max_connections' }, value: { kind: 'int', value: 100, text: '100' } },
          {
            name: { name: 'probe' },
            value: {
              kind: 'inline_probe',
              fields: [
                { name: { name: 'url' }, value: str('/health') },
                { name: { name: 'interval' }, value: { kind: 'duration', value: 5, text: '5s' } },
              ],
            },
          },
          { name: { name: 'host_header' }, value: str('example.com') },
        ],
      },
      {
        kind: 'backend',
        name: { name: 'other' },
        none: false,
        fields: [
          { name: { name: 'host' }, value: str('x') },
          { name: { name: 'probe' }, value: name('healthy') },
        ],
      },
      { kind: 'backend', name: { name: 'nothing' }, none: true, fields: [] },
    ]);
    // Varnish takes `None` too, but no other spelling.
    expect(strip(program('vcl 4.1;\nbackend b None;').decls[0])).toMatchObject({ none: true });
    expect(errors('vcl 4.1;\nbackend b NONE;')).toEqual(["2:11 Expected '{' or 'none' got 'NONE'"]);
    const web = p.decls[0]!;
    expect(web.pos).toEqual({ file: 0, line: 2, col: 1, offset: 9, length: 7 });
    if (web.kind !== 'backend') throw new Error('not a backend');
    // A field's position covers the dot and the name: `.host`.
    expect(web.fields[0]!.pos).toEqual({ file: 0, line: 3, col: 3, offset: 25, length: 5 });
    expect(web.name.pos).toEqual({ file: 0, line: 2, col: 9, offset: 17, length: 3 });
  });

  it('parses probes; juxtaposed .request strings become a + chain', () => {
    const p = program(`vcl 4.1;
probe p {
  .request = "GET / HTTP/1.1" "Host: x" "Connection: close";
  .expected_response = 200;
  .timeout = 1 s; .window = 8; .threshold = 3; .initial = 2;
}`);
    const decl = strip(p.decls[0]!);
    expect(decl).toMatchObject({ kind: 'probe', name: { name: 'p' } });
    if (decl.kind !== 'probe') throw new Error('not a probe');
    expect(decl.fields[0]).toEqual({
      name: { name: 'request' },
      value: {
        kind: 'binary',
        op: '+',
        left: { kind: 'binary', op: '+', left: str('GET / HTTP/1.1'), right: str('Host: x') },
        right: str('Connection: close'),
      },
    });
    expect(decl.fields.map((f) => f.name.name)).toEqual([
      'request',
      'expected_response',
      'timeout',
      'window',
      'threshold',
      'initial',
    ]);
    expect(decl.fields[2]!.value).toEqual({ kind: 'duration', value: 1, text: '1s' });
  });

  it('parses ACLs with flags, negation, optional names and masks', () => {
    const p = program(`vcl 4.1;
acl local +log -pedantic {
  "localhost";
  "192.168.0.0"/16;
  "10.0.0.0" / 8;
  ! "10.1.2.3";
  ("maybe.example.com");
  !("10.9.0.0"/16);
}`);
    expect(strip(p.decls[0])).toEqual({
      kind: 'acl',
      name: { name: 'local' },
      flags: [
        { on: true, name: { name: 'log' } },
        { on: false, name: { name: 'pedantic' } },
      ],
      entries: [
        { negated: false, optional: false, address: str('localhost') },
        { negated: false, optional: false, address: str('192.168.0.0'), mask: { kind: 'int', value: 16, text: '16' } },
        { negated: false, optional: false, address: str('10.0.0.0'), mask: { kind: 'int', value: 8, text: '8' } },
        { negated: true, optional: false, address: str('10.1.2.3') },
        { negated: false, optional: true, address: str('maybe.example.com') },
        { negated: true, optional: true, address: str('10.9.0.0'), mask: { kind: 'int', value: 16, text: '16' } },
      ],
    });
  });

  it('parses subs, with the positions of the keyword and the name', () => {
    const p = program('vcl 4.1;\nsub vcl_recv {\n}\nsub my-sub { }');
    expect(strip(p.decls)).toEqual([
      { kind: 'sub', name: { name: 'vcl_recv' }, body: { kind: 'block', stmts: [] } },
      { kind: 'sub', name: { name: 'my-sub' }, body: { kind: 'block', stmts: [] } },
    ]);
    const sub = p.decls[0] as SubDecl;
    expect(sub.pos).toEqual({ file: 0, line: 2, col: 1, offset: 9, length: 3 });
    expect(sub.name.pos).toEqual({ file: 0, line: 2, col: 5, offset: 13, length: 8 });
    expect(sub.body.pos).toEqual({ file: 0, line: 2, col: 14, offset: 22, length: 1 });
  });
});

describe('statements', () => {
  it('parses set with every assignment operator', () => {
    const s = stmts('set req.url = "/"; set resp.status += 1; set beresp.ttl -= 1s; set a.b *= 2; set c /= 2;');
    expect(s.map((x) => x.kind === 'set' && `${x.target.text} ${x.op}`)).toEqual([
      'req.url =',
      'resp.status +=',
      'beresp.ttl -=',
      'a.b *=',
      'c /=',
    ]);
    expect(s[0]).toEqual({ kind: 'set', target: name('req.url'), op: '=', value: str('/') });
  });

  it('positions a set at its keyword and its operator', () => {
    const p = program('vcl 4.1;\nsub s {\n  set req.http.X-A += "b";\n}');
    const set = (p.decls[0] as SubDecl).body.stmts[0]!;
    if (set.kind !== 'set') throw new Error('not a set');
    expect(set.pos).toEqual({ file: 0, line: 3, col: 3, offset: 19, length: 3 });
    expect(set.target.pos).toEqual({ file: 0, line: 3, col: 7, offset: 23, length: 12 });
    expect(set.target.parts[2]!.pos).toEqual({ file: 0, line: 3, col: 16, offset: 32, length: 3 });
    expect(set.opPos).toEqual({ file: 0, line: 3, col: 20, offset: 36, length: 2 });
    expect(set.value.pos).toEqual({ file: 0, line: 3, col: 23, offset: 39, length: 3 });
  });

  it('parses unset, call, and the forms of return', () => {
    expect(
      stmts('unset req.http.Cookie; call my_sub; return; return (hash); return(pass(10s)); return (synth(404, "x")); return (vcl(label));'),
    ).toEqual([
      { kind: 'unset', target: name('req.http.Cookie') },
      { kind: 'call', sub: name('my_sub') },
      { kind: 'return', args: [] },
      { kind: 'return', action: { name: 'hash' }, args: [] },
      { kind: 'return', action: { name: 'pass' }, args: [{ kind: 'duration', value: 10, text: '10s' }] },
      {
        kind: 'return',
        action: { name: 'synth' },
        args: [{ kind: 'int', value: 404, text: '404' }, str('x')],
      },
      { kind: 'return', action: { name: 'vcl' }, args: [name('label')] },
    ]);
  });

  it('parses if with every spelling of else-if, as a chain of IfStmt', () => {
    const [s] = stmts('if (a) { call x; } elseif (b) {} elsif (c) {} elif (d) {} else if (e) {} else { call y; }');
    let node = s as Stmt | undefined;
    const conds: string[] = [];
    while (node?.kind === 'if') {
      conds.push(show(node.cond));
      node = node.else;
    }
    expect(conds).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(node).toEqual({ kind: 'block', stmts: [{ kind: 'call', sub: name('y') }] });
    const [plain] = stmts('if (a) {}');
    expect(plain).toMatchObject({ kind: 'if', cond: name('a') });
    expect(plain?.kind === 'if' && plain.then).toEqual({ kind: 'block', stmts: [] });
    expect(plain).not.toHaveProperty('else');
  });

  it('positions an else-if at its keyword', () => {
    const p = program('vcl 4.1;\nsub s { if (a) {} elsif (b) {} }');
    const top = (p.decls[0] as SubDecl).body.stmts[0]!;
    if (top.kind !== 'if' || top.else?.kind !== 'if') throw new Error('no else-if');
    expect(top.pos).toMatchObject({ line: 2, col: 9 });
    expect(top.else.pos).toMatchObject({ line: 2, col: 19, length: 5 });
  });

  it('parses nested blocks, new, and calls as statements', () => {
    expect(
      stmts('{ { } } new rr = directors.round_robin(); rr.add_backend(b1); hash_data(req.url); synthetic({"x"}); std.log("x");'),
    ).toEqual([
      { kind: 'block', stmts: [{ kind: 'block', stmts: [] }] },
      {
        kind: 'new',
        name: name('rr'),
        ctor: { kind: 'call', callee: name('directors.round_robin'), args: [] },
      },
      { kind: 'expr', expr: { kind: 'call', callee: name('rr.add_backend'), args: [{ value: name('b1') }] } },
      { kind: 'expr', expr: { kind: 'call', callee: name('hash_data'), args: [{ value: name('req.url') }] } },
      { kind: 'expr', expr: { kind: 'call', callee: name('synthetic'), args: [{ value: str('x', '{"') }] } },
      { kind: 'expr', expr: { kind: 'call', callee: name('std.log'), args: [{ value: str('x') }] } },
    ]);
  });

  it('takes keywords as names where a name is expected', () => {
    const s = stmts('set req.http.set = req.http.if; unset req.http.include; call return-path;');
    expect(s.map((x) => (x.kind === 'set' ? `${x.target.text}=${show(x.value)}` : x.kind))).toEqual([
      'req.http.set=req.http.if',
      'unset',
      'call',
    ]);
    expect(s[1]).toEqual({ kind: 'unset', target: name('req.http.include') });
    expect(s[2]).toEqual({ kind: 'call', sub: name('return-path') });
  });

  it('parses quoted header names as the last part of a name', () => {
    const [s] = stmts('set req.http."x.y" = resp.http.{"!!!"} + bereq.http."""a b""";');
    if (s?.kind !== 'set' || s.value.kind !== 'binary') throw new Error('not a set of a sum');
    expect(s.target).toEqual({
      kind: 'name',
      text: 'req.http.x.y',
      parts: [
        { text: 'req', quoted: false },
        { text: 'http', quoted: false },
        { text: 'x.y', quoted: true },
      ],
    });
    expect(show(s.value)).toBe('(+ resp.http.!!! bereq.http.a b)');
  });
});

describe('expressions', () => {
  it('follows Varnish precedence, loosest first: || && ! comparisons + * unary', () => {
    expect(expr('a || b && c')).toBe('(|| a (&& b c))');
    expect(expr('a && b || c')).toBe('(|| (&& a b) c)');
    expect(expr('!a == b')).toBe('(! (== a b))');
    expect(expr('!a && b')).toBe('(&& (! a) b)');
    expect(expr('a && !b == c || d')).toBe('(|| (&& a (! (== b c))) d)');
    expect(expr('a + b == c * d')).toBe('(== (+ a b) (* c d))');
    expect(expr('a - b - c')).toBe('(- (- a b) c)');
    expect(expr('a + b * c % d')).toBe('(+ a (% (* b c) d))');
    expect(expr('-a * -b')).toBe('(* (- a) (- b))');
    expect(expr('- - 1')).toBe('(- (- int:1=1))');
    expect(expr('!-a')).toBe('(! (- a))');
    expect(expr('a ~ "x" && b !~ "y"')).toBe('(&& (~ a "x") (!~ b "y"))');
    expect(expr('a != b || c <= d || e >= f || g < h || i > j')).toBe(
      '(|| (|| (|| (|| (!= a b) (<= c d)) (>= e f)) (< g h)) (> i j))',
    );
    expect(expr('(a || b) && c')).toBe('(&& [(|| a b)] c)');
  });

  it('reads literals: strings, integers, reals, durations and bytes', () => {
    expect(expr('"x"')).toBe('"x"');
    expect(expr('42')).toBe('int:42=42');
    expect(expr('0.5')).toBe('real:0.5=0.5');
    expect(['10ms', '10 s', '1.5m', '2h', '1d', '1w', '1y'].map(expr)).toEqual([
      'duration:10ms=0.01',
      'duration:10s=10',
      'duration:1.5m=90',
      'duration:2h=7200',
      'duration:1d=86400',
      'duration:1w=604800',
      'duration:1y=31536000',
    ]);
    expect(['1B', '2 KB', '3MB', '1GB', '1TB', '1.5KB'].map(expr)).toEqual([
      'bytes:1B=1',
      'bytes:2KB=2048',
      'bytes:3MB=3145728',
      'bytes:1GB=1073741824',
      'bytes:1TB=1099511627776',
      'bytes:1.5KB=1536',
    ]);
    // Varnish's bytes units: [KMGTP] then B, each optional, in either case. `m` stays minutes:
    // the checker reads it as mega where BYTES are wanted (the unit is in `text`).
    expect(['10K', '10 kb', '2Mb', '1 p', '3b', '10m'].map(expr)).toEqual([
      'bytes:10K=10240',
      'bytes:10kb=10240',
      'bytes:2Mb=2097152',
      'bytes:1p=1125899906842624',
      'bytes:3b=3',
      'duration:10m=600',
    ]);
  });

  it('reads BLOB literals: base64 between colons', () => {
    expect(expr(':aGVsbG8=:')).toBe('blob:aGVsbG8=');
    expect(expr('::')).toBe('blob:');
    const r = parseExpression('x + :ab/+=:', 'e');
    expect(r.expr).toMatchObject({ right: { kind: 'blob', text: 'ab/+=', pos: { col: 5, length: 7 } } });
    expect(parseExpression(':ab cd:', 'e').diagnostics.list.map((d) => [d.message, d.pos?.col, d.pos?.length])).toEqual([
      ['Illegal BLOB character', 1, 4],
      ['Illegal BLOB character', 7, 2],
    ]);
  });

  it('parses calls with positional and named arguments', () => {
    expect(expr('std.integer(req.http.x, 0)')).toBe('std.integer(req.http.x, int:0=0)');
    expect(expr('cookie.filter(filter = "a,b", x)')).toBe('cookie.filter(filter="a,b", x)');
    expect(expr('regsub(req.url, "\\?.*$", "")')).toBe('regsub(req.url, "\\\\?.*$", "")');
    expect(expr('now()')).toBe('now()');
  });

  it('takes a method on a name as part of the callee, on anything else as a MethodCall', () => {
    expect(expr('req.http.x.upper()')).toBe('req.http.x.upper()');
    expect(expr('(req.url).upper()')).toBe('[req.url].upper()');
    expect(expr('f(x).lower().upper()')).toBe('f(x).lower().upper()');
    const r = parseExpression('f(x).lower()', 'e');
    expect(strip(r.expr)).toEqual({
      kind: 'method',
      target: { kind: 'call', callee: name('f'), args: [{ value: name('x') }] },
      method: { name: 'lower' },
      args: [],
    });
    expect(r.expr!.pos).toEqual({ file: 0, line: 1, col: 6, offset: 5, length: 5 });
  });

  it('positions a binary expression at its operator, a unary at its sign', () => {
    const r = parseExpression('a  ==  -b', 'e');
    expect(r.expr).toMatchObject({
      kind: 'binary',
      pos: { file: 0, line: 1, col: 4, offset: 3, length: 2 },
      right: { kind: 'unary', pos: { col: 8, length: 1 } },
    });
  });

  it('reports what is not an expression', () => {
    expect(parseExpression('a b', 'e').diagnostics.list.map((d) => d.message)).toEqual(["Expected EOF got 'b'"]);
    expect(parseExpression('', 'e').diagnostics.list.map((d) => d.message)).toEqual(['Expected an expression got EOF']);
    expect(parseExpression('1 + "x', 'e').diagnostics.list.map((d) => d.message)).toEqual([
      'Unterminated string',
      'Expected an expression got EOF',
    ]);
  });
});

describe('syntax errors', () => {
  const sub = (body: string) => `vcl 4.1;\nsub vcl_recv { ${body} }`;

  it("says what was expected and quotes what was found, in Varnish's words", () => {
    expect(errors(sub('set req.http.x = "a"'))).toEqual(["2:37 Expected ';' got '}'"]);
    expect(errors(sub('return synth;'))).toEqual(["2:23 Expected '(' got 'synth'"]);
    expect(errors(sub('call 0;'))).toEqual(["2:21 Expected ID got '0'"]);
    expect(errors(sub(';'))).toEqual(["2:16 Expected an action, 'if', '{' or '}'"]);
    expect(errors(sub('set req."http".x = 1;'))).toEqual(["2:23 Expected '=' got '.'"]);
    expect(errors(sub('set req.http.x."y" = "1";'))).toEqual(["2:30 Expected '=' got '.'"]);
    expect(errors(sub('if (a == b == c) {}'))).toEqual(["2:27 Expected ')' got '=='"]);
    expect(errors(sub('set req.http.x = "a" "b";'))).toEqual(["2:37 Expected ';' got '\"b\"'"]);
    expect(errors(sub('return (synth(404, "x");'))).toEqual(["2:39 Expected ')' got ';'"]);
    expect(errors(sub('set x = ;'))).toEqual(["2:24 Expected an expression got ';'"]);
    expect(errors(sub('if (a == !b) {}'))).toEqual(["2:25 Expected an expression got '!'"]);
    expect(errors(sub('if (!!a) {}'))).toEqual(["2:21 Expected an expression got '!'"]);
    expect(errors(sub('if (a) {} else'))).toEqual(["2:31 Expected '{' got '}'"]);
    expect(errors(sub('new = x();'))).toEqual(["2:20 Expected ID got '='"]);
  });

  it('reports the end of input as EOF, just after the last token', () => {
    expect(errors('vcl 4.1;\nsub vcl_recv { set req.url = "x";')).toEqual([
      "2:34 Expected an action, 'if', '{' or '}'",
    ]);
    expect(errors('vcl 4.1;\nsub vcl_recv { set req.url = ')).toEqual(['2:29 Expected an expression got EOF']);
  });

  it('reports errors in declarations', () => {
    expect(errors('vcl 4.1;\nfoo')).toEqual(["2:1 Expected one of 'acl', 'sub', 'backend', 'probe' or 'import' got 'foo'"]);
    expect(errors('vcl 4.1;\nimport 1;')).toEqual(["2:8 Expected ID got '1'"]);
    expect(errors('vcl 4.1;\nbackend b { host = "x"; }')).toEqual(["2:13 Expected '.' got 'host'"]);
    expect(errors('vcl 4.1;\nbackend b { .probe = { .url = "/"; }; }')).toEqual(["2:37 Expected '.' got ';'"]);
    expect(errors('vcl 4.1;\nbackend b nothing;')).toEqual(["2:11 Expected '{' or 'none' got 'nothing'"]);
    expect(errors('vcl 4.1;\nacl a { "x" / ; }')).toEqual(["2:15 Expected CNUM got ';'"]);
    expect(errors('vcl 4.1;\nacl a { foo; }')).toEqual(["2:9 Expected CSTR got 'foo'"]);
    // As in Varnish, the mask of an optional entry goes inside the parentheses.
    expect(errors('vcl 4.1;\nacl a { ("x")/8; }')).toEqual(["2:14 Expected ';' got '/'"]);
  });

  it('reports an unknown unit stuck to a number', () => {
    expect(errors(sub('set req.ttl = 10x;'))).toEqual([
      "2:32 Unknown unit 'x': durations take ms, s, m, h, d, w or y; bytes take B, KB, MB, GB, TB or PB",
    ]);
  });

  it('checks the version line', () => {
    expect(errors('backend b none;')).toEqual([
      "1:1 VCL version declaration missing: the file must start with 'vcl 4.0;' or 'vcl 4.1;'",
    ]);
    expect(errors('')).toEqual([
      "1:1 VCL version declaration missing: the file must start with 'vcl 4.0;' or 'vcl 4.1;'",
    ]);
    expect(errors('vcl 9.9;\nbackend b none;')).toEqual(['1:1 VCL version 9.9 not supported.']);
    expect(errors('vcl 4.1;\nsub vcl_recv { if (req.url ~ ! "x") { } }')).toEqual(["2:30 Unknown token '!' when looking for REGEX"]);
    // Later in the file, as varnishtest's -vcl writes it before a case's own line (r01498).
    expect(parseVcl({ name: 'main.vcl', text: 'vcl 4.1;\nvcl 4.0;\nbackend b none;' }).diagnostics.sorted()).toEqual([]);
    expect(errors('vcl 4.0;\nbackend b none;\nvcl 4.1;')).toEqual(['3:1 VCL version 4.1 higher than the top level version 4.0']);
    expect(errors('vcl 4.1\nbackend b none;')).toEqual(["1:1 Expected 'vcl N.N;' found no semi-colon"]);
    expect(errors('vcl;')).toEqual(["1:4 Expected 'vcl N.N;' got ';'"]);
    expect(errors('vcl 4;')).toEqual(["1:5 Expected 'vcl N.N;' got '4'"]);
    expect(errors('vcl 4.01;')).toEqual(["1:1 Don't play silly buggers with VCL version numbers"]);
    expect(errors('vcl 04.0;')).toEqual(["1:1 Don't play silly buggers with VCL version numbers"]);
  });

  it('recovers at the next declaration, so independent errors come out together', () => {
    const text = `vcl 4.1;
sub a { set x = 1 }
sub b { set y = ; }
backend c { .host = ; }
probe p { .url = "/"; }
acl d { "x" }
import std
sub e { call 0; }
sub f { }`;
    expect(errors(text)).toEqual([
      "2:19 Expected ';' got '}'",
      "3:17 Expected an expression got ';'",
      "4:21 Expected an expression got ';'",
      "6:13 Expected ';' got '}'",
      "8:1 Expected ';' got 'sub'",
      "8:14 Expected ID got '0'",
    ]);
  });

  it('resumes at a declaration that a missing } made look like a statement', () => {
    expect(errors('vcl 4.1;\nsub a { if (x) {\n}\nsub b { }\nsub c { ; }')).toEqual([
      "4:5 Expected '(' got 'b'",
      "5:9 Expected an action, 'if', '{' or '}'",
    ]);
  });

  it('reports lexical errors without the syntax errors they cause', () => {
    expect(errors('vcl 4.1;\nsub s { set req.http.x = "abc; }\nsub t { @ }\nC{ x }C\nsub u { ; }')).toEqual([
      '2:26 Unterminated string',
      "3:9 Syntax error: unexpected character '@'",
      '4:1 Inline C is not supported: Shellac does not run C code',
      "5:9 Expected an action, 'if', '{' or '}'",
    ]);
  });
});

describe('performance', () => {
  it('parses a 10,000-line VCL in well under the time budget', () => {
    const lines = ['vcl 4.1;', 'import std;'];
    for (let n = 0; lines.length < 10_000; n++) {
      lines.push(`sub s${n} {`, `  if (req.url ~ "^/a${n}" && req.http.X-A != "b") {`);
      lines.push(`    set req.http.X-N = "n" + std.integer(req.http.X-C, 0);`, '    return (pass);');
      lines.push('  }', `  # comment ${n}`, '  unset req.http.Cookie;', '}', '');
    }
    const text = lines.join('\n');
    parseVcl({ name: 'warm.vcl', text: 'vcl 4.1; sub a { set x = 1 + 2; }' });
    const t0 = performance.now();
    const r = parseVcl({ name: 'big.vcl', text });
    const ms = performance.now() - t0;
    expect(r.diagnostics.list).toEqual([]);
    expect(r.program!.decls.length).toBe(1112);
    // Typically 40-80 ms; the bound only catches an accidental slowdown by an order of magnitude.
    expect(ms).toBeLessThan(1000);
  });
});
