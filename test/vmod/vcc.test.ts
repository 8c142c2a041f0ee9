import { describe, expect, it } from 'vitest';
import { BACKEND, CLIENT, HOUSEKEEPING, SUB_BIT } from '../../src/vcl/spec.ts';
import { parseVcc } from '../../src/vmod/vcc.ts';

/** Parses a manifest that must have no error. */
function ok(text: string) {
  const { manifest, errors } = parseVcc(text, 'test.vcc');
  expect(errors).toEqual([]);
  return manifest!;
}

/** The errors of a manifest, which must have some, and no manifest. */
function errorsOf(text: string) {
  const { manifest, errors } = parseVcc(text, 'test.vcc');
  expect(manifest).toBeUndefined();
  return errors;
}

const HEAD = '$Module m 3 "A module"\n';

describe('module stanzas', () => {
  it('reads $Module, $ABI, $Event, $Prefix and $Synopsis', () => {
    const m = ok(
      '# a comment\n#\n\n$Module cache 3 Caching tools for VCL\n$ABI vrt\n$Event on_event\n$Prefix cc\n$Synopsis manual\n',
    );
    expect(m.name).toBe('cache');
    expect(m.section).toBe('3');
    expect(m.description).toBe('Caching tools for VCL');
    expect(m.abi).toBe('vrt');
    expect(m.event).toBe('on_event');
    expect(m.prefix).toBe('cc');
    expect(m.synopsis).toBe('manual');
    expect(m.file).toBe('test.vcc');
  });

  it('strips the quotes around a description and defaults the ABI to strict', () => {
    const m = ok('$Module m 3 "Quoted words"\n');
    expect(m.description).toBe('Quoted words');
    expect(m.abi).toBe('strict');
    expect(m.event).toBeUndefined();
    expect(m.prefix).toBeUndefined();
    expect(m.synopsis).toBeUndefined();
  });

  it('gives the module the prose between $Module and the first entry', () => {
    const m = ok(`${HEAD}\nFirst paragraph.\n\n  Indented.\n$ABI strict\nMore.\n\n$Function VOID f()\n\nAbout f.\n`);
    expect(m.doc).toBe('First paragraph.\n\n  Indented.\nMore.');
    expect(m.functions.get('f')!.doc).toBe('About f.');
  });
});

describe('functions', () => {
  it('reads every argument form', () => {
    const m = ok(
      `${HEAD}$Function STRING f(STRING, INT n, DURATION d = 10s, [REAL r], [BOOL b=true], ENUM { a, b, c } e = b, [ENUM {x,y} o], PRIV_TASK, PRIV_CALL, PRIV_TOP, PRIV_VCL, STRING s = "a, (b)", INT neg=-1)\n`,
    );
    const f = m.functions.get('f')!;
    expect(f.name).toBe('f');
    expect(f.ret).toBe('STRING');
    expect(f.line).toBe(2);
    expect(f.restrict).toBeUndefined();
    expect(f.args).toEqual([
      { type: 'STRING', optional: false },
      { type: 'INT', name: 'n', optional: false },
      { type: 'DURATION', name: 'd', default: '10s', optional: false },
      { type: 'REAL', name: 'r', optional: true },
      { type: 'BOOL', name: 'b', default: 'true', optional: true },
      { type: 'ENUM', name: 'e', enumValues: ['a', 'b', 'c'], default: 'b', optional: false },
      { type: 'ENUM', name: 'o', enumValues: ['x', 'y'], optional: true },
      { type: 'PRIV_TASK', optional: false },
      { type: 'PRIV_CALL', optional: false },
      { type: 'PRIV_TOP', optional: false },
      { type: 'PRIV_VCL', optional: false },
      { type: 'STRING', name: 's', default: '"a, (b)"', optional: false },
      { type: 'INT', name: 'neg', default: '-1', optional: false },
    ]);
  });

  it('reads a function without arguments', () => {
    expect(ok(`${HEAD}$Function INT count()\n`).functions.get('count')!.args).toEqual([]);
  });

  it('stores a quoted ENUM default bare', () => {
    const arg = ok(`${HEAD}$Function VOID f(ENUM {ONE, TWO} e="TWO")\n`).functions.get('f')!.args[0];
    expect(arg.default).toBe('TWO');
  });

  it('reads a signature spread over several lines', () => {
    const m = ok(`${HEAD}$Function BOOL f(\n    STRING a,\n    [INT b]\n)\n\nDoc.\n`);
    const f = m.functions.get('f')!;
    expect(f.args.map((a) => a.name)).toEqual(['a', 'b']);
    expect(f.doc).toBe('Doc.');
    expect(f.line).toBe(2);
  });

  it('applies $Restrict to the preceding function, in every scope word', () => {
    const m = ok(
      `${HEAD}$Function VOID a()\n$Restrict vcl_recv vcl_deliver\nAbout a.\n$Function VOID b()\n$Restrict client\n$Function VOID c()\n$Restrict backend housekeeping\n$Function VOID d()\n$Restrict both\n$Function VOID e()\n$Restrict all\n`,
    );
    const r = (n: string) => m.functions.get(n)!.restrict;
    expect(r('a')).toBe(SUB_BIT.vcl_recv | SUB_BIT.vcl_deliver);
    expect(m.functions.get('a')!.doc).toBe('About a.');
    expect(r('b')).toBe(CLIENT);
    expect(r('c')).toBe(BACKEND | HOUSEKEEPING);
    expect(r('d')).toBe(CLIENT | BACKEND);
    expect(r('e')).toBe(CLIENT | BACKEND | HOUSEKEEPING);
  });

  it('records a function $Alias', () => {
    const m = ok(`${HEAD}$Function STRING date()\n$Alias old_date date\n`);
    expect([...m.aliases]).toEqual([['old_date', 'date']]);
  });
});

describe('objects and methods', () => {
  const text = `${HEAD}$Object pool(STRING name, [INT size])

A pool.

$Method VOID .add(BACKEND)

Adds.

$Method BACKEND .pick([ENUM {FIRST, LAST} how=FIRST])
$Restrict vcl_recv vcl_backend_fetch
$Alias .choose .pick
$Alias .select pool.pick
$Object other()
$Method VOID .add()
`;

  it('gives each $Method to the latest $Object', () => {
    const m = ok(text);
    const pool = m.objects.get('pool')!;
    expect(pool.line).toBe(2);
    expect(pool.doc).toBe('A pool.');
    expect(pool.args).toEqual([
      { type: 'STRING', name: 'name', optional: false },
      { type: 'INT', name: 'size', optional: true },
    ]);
    expect([...pool.methods.keys()]).toEqual(['add', 'pick']);
    expect(pool.methods.get('add')).toEqual({
      name: 'add',
      ret: 'VOID',
      args: [{ type: 'BACKEND', optional: false }],
      doc: 'Adds.',
      line: 6,
    });
    const pick = pool.methods.get('pick')!;
    expect(pick.restrict).toBe(SUB_BIT.vcl_recv | SUB_BIT.vcl_backend_fetch);
    expect(pick.args[0]).toEqual({ type: 'ENUM', name: 'how', enumValues: ['FIRST', 'LAST'], default: 'FIRST', optional: true });
    expect([...m.objects.get('other')!.methods.keys()]).toEqual(['add']);
    expect(m.functions.size).toBe(0);
  });

  it('records method aliases as object.name', () => {
    expect([...ok(text).aliases]).toEqual([
      ['pool.choose', 'pool.pick'],
      ['pool.select', 'pool.pick'],
    ]);
  });
});

describe('errors', () => {
  const cases: [string, string, number, string][] = [
    ['prose before $Module', 'text\n$Module m 3 x\n', 1, 'text before $Module: only # comments may come first'],
    ['a stanza before $Module', '# c\n$Function VOID f()\n$Module m 3\n', 2, '$Function before $Module'],
    ['no $Module', '# only a comment\n', 1, 'no $Module in the manifest'],
    ['a second $Module', `${HEAD}$Module n 3\n`, 2, '$Module given twice (first on line 1)'],
    ['a $Module without section', '$Module m\n', 1, '$Module needs a name and a manual section'],
    ['an unknown stanza', `${HEAD}$Frobnicate x\n`, 2, "unknown stanza '$Frobnicate'"],
    ['a bad $ABI', `${HEAD}$ABI loose\n`, 2, "$ABI needs 'strict' or 'vrt', not 'loose'"],
    ['a bad $Synopsis', `${HEAD}$Synopsis none\n`, 2, "$Synopsis needs 'auto' or 'manual', not 'none'"],
    ['$Event with two words', `${HEAD}$Event a b\n`, 2, "$Event needs one word, not 'a b'"],
    ['$Prefix not a name', `${HEAD}$Prefix 1x\n`, 2, "$Prefix: '1x' is not a name"],
    ['a malformed $Function', `${HEAD}$Function VOID\n`, 2, "$Function needs 'RETURN_TYPE name(ARGUMENTS)'"],
    ['text after the signature', `${HEAD}$Function VOID f() x\n`, 2, "$Function needs 'RETURN_TYPE name(ARGUMENTS)'"],
    ['a $Method without dot', `${HEAD}$Object o()\n$Method VOID m()\n`, 3, "$Method needs 'RETURN_TYPE .name(ARGUMENTS)'"],
    ['a malformed $Object', `${HEAD}$Object o\n`, 2, "$Object needs 'name(ARGUMENTS)'"],
    ['brackets never closing', `${HEAD}$Function VOID f(INT a,\n  INT b\n\nDoc.\n`, 2, '$Function: brackets never close'],
    ['an unknown return type', `${HEAD}$Function NUMBER f()\n`, 2, "f(): unknown return type 'NUMBER'"],
    ['a PRIV return type', `${HEAD}$Function PRIV_TASK f()\n`, 2, "f(): unknown return type 'PRIV_TASK'"],
    ['an unknown argument type', `${HEAD}$Function VOID f(INT a,\n  FLOAT b)\n`, 3, "f(): unknown type 'FLOAT'"],
    ['a VOID argument', `${HEAD}$Function VOID f(VOID)\n`, 2, 'f(): VOID is not an argument type'],
    ['a duplicate argument name', `${HEAD}$Function VOID f(INT a, STRING a)\n`, 2, "f(): duplicate argument name 'a'"],
    ['an ENUM default outside its set', `${HEAD}$Function VOID f(ENUM {A, B} e=C)\n`, 2, "f(): default 'C' of ENUM 'e' is not one of A, B"],
    ['an ENUM value listed twice', `${HEAD}$Function VOID f(ENUM {A, B, A} e)\n`, 2, "f(): ENUM value 'A' is listed twice"],
    ['an ENUM without braces', `${HEAD}$Function VOID f(ENUM e)\n`, 2, 'f(): ENUM needs its values in { }'],
    ['an empty ENUM', `${HEAD}$Function VOID f(ENUM {} e)\n`, 2, 'f(): ENUM has no values'],
    ['a bad ENUM value', `${HEAD}$Function VOID f(ENUM {A, 2B} e)\n`, 2, "f(): bad ENUM value '2B'"],
    ['an empty argument', `${HEAD}$Function VOID f(INT a, , INT b)\n`, 2, 'f(): empty argument'],
    ['a named PRIV', `${HEAD}$Function VOID f(PRIV_TASK p)\n`, 2, 'f(): PRIV_TASK takes no name or default'],
    ['an optional PRIV', `${HEAD}$Function VOID f([PRIV_VCL])\n`, 2, 'f(): PRIV_VCL cannot be optional'],
    ['text after brackets', `${HEAD}$Function VOID f([INT a] b)\n`, 2, "f(): bad argument '[INT a] b'"],
    ['a default without name', `${HEAD}$Function VOID f(INT = 3)\n`, 2, 'f(): a default needs an argument name'],
    ['a bad argument name', `${HEAD}$Function VOID f(INT 3a)\n`, 2, "f(): bad argument name '3a'"],
    ['an empty default', `${HEAD}$Function VOID f(INT a =)\n`, 2, "f(): argument 'a' has an empty default"],
    ['two names', `${HEAD}$Function VOID f(INT a b)\n`, 2, "f(): bad argument text 'a b'"],
    ['a duplicate function', `${HEAD}$Function VOID f()\n\n$Function INT f()\n`, 4, "'f' is already declared on line 2"],
    ['an object named like a function', `${HEAD}$Function VOID f()\n$Object f()\n`, 3, "'f' is already declared on line 2"],
    ['a duplicate method', `${HEAD}$Object o()\n$Method VOID .m()\n$Method VOID .m()\n`, 4, "'o.m' is already declared on line 3"],
    ['a method argument error', `${HEAD}$Object o()\n$Method VOID .m(BAD x)\n`, 3, "o.m(): unknown type 'BAD'"],
    ['a constructor argument error', `${HEAD}$Object o(BAD x)\n`, 2, "o(): unknown type 'BAD'"],
    ['a $Method before any $Object', `${HEAD}$Method VOID .m()\n`, 2, '$Method before any $Object'],
    ['a $Restrict first', `${HEAD}$Restrict client\n`, 2, '$Restrict must follow a $Function or $Method'],
    ['a $Restrict after an $Object', `${HEAD}$Object o()\n$Restrict client\n`, 3, '$Restrict must follow a $Function or $Method'],
    ['a $Restrict twice', `${HEAD}$Function VOID f()\n$Restrict client\n$Restrict backend\n`, 4, '$Restrict given twice for f()'],
    ['an empty $Restrict', `${HEAD}$Function VOID f()\n$Restrict\n`, 3, '$Restrict needs at least one scope'],
    ['an unknown scope', `${HEAD}$Function VOID f()\n$Restrict vcl_recv vcl_nowhere\n`, 3, "unknown scope 'vcl_nowhere' in $Restrict"],
    ['an $Alias with one word', `${HEAD}$Function VOID f()\n$Alias g\n`, 3, "$Alias needs 'name target'"],
    ['an $Alias that is not a name', `${HEAD}$Function VOID f()\n$Alias g-h f\n`, 3, "$Alias: 'g-h' is not a name"],
    ['an $Alias of nothing', `${HEAD}$Alias g f\n`, 2, "$Alias target 'f' is not a declared function"],
    ['an $Alias taking a used name', `${HEAD}$Function VOID f()\n$Function VOID g()\n$Alias g f\n`, 4, "'g' is already declared on line 3"],
    ['a method $Alias without object', `${HEAD}$Alias .a .b\n`, 2, '$Alias of a method before any $Object'],
    ['a method $Alias of nothing', `${HEAD}$Object o()\n$Alias .a .b\n`, 3, "$Alias target '.b' is not a method of o"],
  ];

  for (const [what, text, line, message] of cases) {
    it(`reports ${what}`, () => {
      expect(errorsOf(text)).toEqual([{ line, message }]);
    });
  }

  it('reports every error, in line order, and skips the methods of a failed $Object', () => {
    const text = `${HEAD}$Function VOID f(INT a, INT a)\n$Object o(FLOAT x)\n$Method VOID .m()\n$Function NOPE g(WHAT)\n`;
    expect(errorsOf(text)).toEqual([
      { line: 2, message: "f(): duplicate argument name 'a'" },
      { line: 3, message: "o(): unknown type 'FLOAT'" },
      { line: 5, message: "g(): unknown return type 'NOPE'" },
      { line: 5, message: "g(): unknown type 'WHAT'" },
    ]);
  });
});

describe('platform stanzas', () => {
  it('reads $Counter, $Param, $Command, $Requires and an $ABI version, with their prose', () => {
    const m = ok(
      `${HEAD}$ABI 2.0\n$Requires std\n$Counter hits counter\n\nRequests seen.\n\n$Counter level gauge\n` +
        '$Param burst uint 10 min=1 max=100\n\nThe burst.\n\n$Param mode enum{a,b} b readonly\n$Param label string "two words"\n' +
        '$Param wait timeout 1.5s\n$Param room bytes 64k\n$Param on bool on\n$Command reset "<bucket> [<key>]"\n\nRefills.\n',
    );
    expect(m.apiVersion).toBe('2.0');
    expect(m.requires).toEqual(['std']);
    expect(m.counters).toEqual([
      { name: 'hits', type: 'counter', doc: 'Requests seen.', line: 4 },
      { name: 'level', type: 'gauge', doc: '', line: 8 },
    ]);
    expect(m.params.map((p) => [p.name, p.type, p.default, p.min, p.max, p.readonly])).toEqual([
      ['burst', 'uint', '10', '1', '100', false],
      ['mode', 'enum', 'b', undefined, undefined, true],
      ['label', 'string', 'two words', undefined, undefined, false],
      ['wait', 'timeout', '1.5s', undefined, undefined, false],
      ['room', 'bytes', '64k', undefined, undefined, false],
      ['on', 'bool', 'on', undefined, undefined, false],
    ]);
    expect(m.params[0].doc).toBe('The burst.');
    expect(m.params[1].values).toEqual(['a', 'b']);
    expect(m.commands).toEqual([{ name: 'reset', usage: '<bucket> [<key>]', doc: 'Refills.', line: 18 }]);
  });

  it('refuses unknown types, bad defaults and bounds, and duplicate names, with their lines', () => {
    const errors = errorsOf(
      `${HEAD}$Counter hits number\n$Param n uint ten\n$Param t timeout 5s min=soon\n$Param e enum{a,b} c\n` +
        '$Param n2 float 1\n$Counter c counter\n$Counter c gauge\n$Command Bad\n$Requires m\n$Param s string x min=1\n$ABI 2\n',
    );
    expect(errors.map((e) => [e.line, e.message])).toEqual([
      [2, "$Counter hits: unknown type 'number' (counter or gauge)"],
      [3, "$Param n: bad default 'ten': Not a number (ten)"],
      [4, "$Param t: bad min 'soon': Invalid number (soon)"],
      [5, "$Param e: bad default 'c': Must be one of a, b (c)"],
      [6, "$Param n2: unknown type 'float' (bool, uint, timeout, bytes, string, enum)"],
      [8, "'counter c' is already declared on line 7"],
      [9, "$Command: 'Bad' is not a command name (lower case letters, digits and _)"],
      [10, '$Requires: m cannot require itself'],
      [11, "$Param s: unknown option 'min=1' (min=X and max=Y for numbers, readonly)"],
      [12, "$ABI needs 'strict' or 'vrt', not '2'"],
    ]);
  });
});
