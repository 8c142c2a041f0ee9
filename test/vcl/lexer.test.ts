import { describe, expect, it } from 'vitest';
import { Diagnostics } from '../../src/vcl/diagnostics.ts';
import { lexFile, stringValue, tokenPos } from '../../src/vcl/lexer.ts';

function lex(text: string, file = 0) {
  const d = new Diagnostics();
  const tokens = lexFile(text, file, d);
  return { tokens, errors: d.list.map((e) => ({ message: e.message, pos: e.pos })) };
}

/** `Type:image` per token. */
function kinds(text: string): string[] {
  const { tokens, errors } = lex(text);
  expect(errors).toEqual([]);
  return tokens.map((t) => `${t.tokenType.name}:${t.image}`);
}

describe('lexFile', () => {
  it('lexes identifiers with dashes and underscores as one word, dots apart', () => {
    expect(kinds('req.http.X-Forwarded-For a-b c_d9 a1-')).toEqual([
      'Ident:req',
      'Dot:.',
      'Ident:http',
      'Dot:.',
      'Ident:X-Forwarded-For',
      'Ident:a-b',
      'Ident:c_d9',
      'Ident:a1-',
    ]);
  });

  it('types keywords, but only whole words', () => {
    expect(kinds('sub subroutine set settle if elsif elseif elif else include vcl none new')).toEqual([
      'KwSub:sub',
      'Ident:subroutine',
      'KwSet:set',
      'Ident:settle',
      'KwIf:if',
      'KwElsif:elsif',
      'KwElseif:elseif',
      'KwElif:elif',
      'KwElse:else',
      'KwInclude:include',
      'KwVcl:vcl',
      'KwNone:none',
      'KwNew:new',
    ]);
  });

  it('takes None as the keyword none, as Varnish does, but no other spelling', () => {
    expect(kinds('None none NONE')).toEqual(['KwNone:None', 'KwNone:none', 'Ident:NONE']);
  });

  it('lexes BLOB literals and reports illegal characters in them', () => {
    expect(kinds(':aGVsbG8=: :a+/9:')).toEqual(['Blob::aGVsbG8=:', 'Blob::a+/9:']);
    expect(lex(':abc;').errors).toEqual([
      { message: 'Illegal BLOB character', pos: { file: 0, line: 1, col: 1, offset: 0, length: 5 } },
    ]);
  });

  it('lexes integers and decimals, a unit after them as a word', () => {
    expect(kinds('1 1.5 10s 1.5h 100KB 4.1 1.')).toEqual([
      'Number:1',
      'Number:1.5',
      'Number:10',
      'Ident:s',
      'Number:1.5',
      'Ident:h',
      'Number:100',
      'Ident:KB',
      'Number:4.1',
      'Number:1',
      'Dot:.',
    ]);
  });

  it('lexes every operator, the longest first', () => {
    expect(kinds('== != <= >= < > ~ !~ && || ! + - * / % = += -= *= /= ( ) { } ; , .').map((k) => k.split(':')[0])).toEqual([
      'EqEq',
      'NotEq',
      'LtEq',
      'GtEq',
      'Lt',
      'Gt',
      'Tilde',
      'NotTilde',
      'AndAnd',
      'OrOr',
      'Bang',
      'Plus',
      'Minus',
      'Star',
      'Slash',
      'Percent',
      'Eq',
      'PlusEq',
      'MinusEq',
      'StarEq',
      'SlashEq',
      'LParen',
      'RParen',
      'LCurly',
      'RCurly',
      'Semi',
      'Comma',
      'Dot',
    ]);
    expect(kinds('a!=b')).toEqual(['Ident:a', 'NotEq:!=', 'Ident:b']);
  });

  it('lexes the three kinds of strings, the long ones across lines', () => {
    expect(kinds('"a b" {"x\n"y"} """p\n"q""" ""')).toEqual([
      'PlainString:"a b"',
      'LongString:{"x\n"y"}',
      'TripleString:"""p\n"q"""',
      'PlainString:""',
    ]);
  });

  it('skips the three kinds of comments', () => {
    expect(kinds('a # one\nb // two\nc /* three\n four */ d')).toEqual(['Ident:a', 'Ident:b', 'Ident:c', 'Ident:d']);
  });

  it('gives each token its file, line, column, offset and length', () => {
    const { tokens } = lex('vcl 4.1;\n  set {"a\nb"} x;\n\tz', 3);
    expect(tokens.map(tokenPos)).toEqual([
      { file: 3, line: 1, col: 1, offset: 0, length: 3 },
      { file: 3, line: 1, col: 5, offset: 4, length: 3 },
      { file: 3, line: 1, col: 8, offset: 7, length: 1 },
      { file: 3, line: 2, col: 3, offset: 11, length: 3 },
      { file: 3, line: 2, col: 7, offset: 15, length: 7 },
      { file: 3, line: 3, col: 5, offset: 23, length: 1 },
      { file: 3, line: 3, col: 6, offset: 24, length: 1 },
      { file: 3, line: 4, col: 2, offset: 27, length: 1 },
    ]);
    expect(tokens[4]).toMatchObject({ endLine: 3, endColumn: 3, file: 3 });
  });

  it('reports an unterminated string at its quote and goes on at the next line', () => {
    const { tokens, errors } = lex('set x = "abc;\ny;');
    expect(errors).toEqual([
      { message: 'Unterminated string', pos: { file: 0, line: 1, col: 9, offset: 8, length: 1 } },
    ]);
    expect(tokens.map((t) => t.image)).toEqual(['set', 'x', '=', 'y', ';']);
  });

  it('reports unterminated long strings and comments at their opening', () => {
    expect(lex('a\n {"abc').errors).toEqual([
      { message: 'Unterminated long string', pos: { file: 0, line: 2, col: 2, offset: 3, length: 2 } },
    ]);
    expect(lex('"""abc\n').errors).toEqual([
      { message: 'Unterminated long string', pos: { file: 0, line: 1, col: 1, offset: 0, length: 3 } },
    ]);
    expect(lex('x /* abc\n').errors).toEqual([
      { message: 'Unterminated /* ... */ comment', pos: { file: 0, line: 1, col: 3, offset: 2, length: 2 } },
    ]);
  });

  it('refuses inline C at the C{ and skips to its end', () => {
    const { tokens, errors } = lex('sub a {}\nC{\n int x; \n}C\nsub b');
    expect(errors).toEqual([
      {
        message: 'Inline C is not supported: Shellac does not run C code',
        pos: { file: 0, line: 2, col: 1, offset: 9, length: 2 },
      },
    ]);
    expect(tokens.map((t) => `${t.image}@${t.startLine}`)).toEqual(['sub@1', 'a@1', '{@1', '}@1', 'sub@5', 'b@5']);
  });

  it('reports a run of unknown characters once, naming the first', () => {
    const { tokens, errors } = lex('a @$ b & c é');
    expect(errors.map((e) => `${e.pos?.col} ${e.message}`)).toEqual([
      "3 Syntax error: unexpected character '@'",
      "8 Syntax error: unexpected character '&'",
      "12 Syntax error: unexpected character 'é'",
    ]);
    expect(tokens.map((t) => t.image)).toEqual(['a', 'b', 'c']);
  });
});

describe('stringValue', () => {
  it('strips the quotes of each kind and names them', () => {
    expect(stringValue('"a"')).toEqual({ value: 'a', quote: '"' });
    expect(stringValue('""')).toEqual({ value: '', quote: '"' });
    expect(stringValue('{"a"b"}')).toEqual({ value: 'a"b', quote: '{"' });
    expect(stringValue('"""x\ny"""')).toEqual({ value: 'x\ny', quote: '"""' });
    expect(stringValue('""""""')).toEqual({ value: '', quote: '"""' });
  });
});
