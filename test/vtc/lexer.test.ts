// The VTC lexer: words, "quoted" strings with varnishtest's escapes, {braced} blocks kept raw,
// comments, line continuations, and the errors of unbalanced input.

import { describe, expect, it } from 'vitest';
import { lexSpec, VtcSyntaxError } from '../../src/vtc/lexer.ts';

const words = (text: string) => lexSpec(text).map((l) => l.tokens.map((t) => t.text));

describe('lexSpec', () => {
  it('splits lines into words and skips blank lines and comments', () => {
    expect(words('a b\tc\n\n  # a comment\n\td e\n')).toEqual([
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
  });

  it('keeps a # inside a line as part of a word', () => {
    expect(words('send a#b')).toEqual([['send', 'a#b']]);
  });

  it('decodes the escapes varnishtest decodes in quoted strings', () => {
    const [[, s]] = words(String.raw`x "a\tb\"c\x41\101\n\r\\"`);
    expect(s).toBe('a\tb"cAA\n\r\\');
  });

  it('leaves an unknown escape as written', () => {
    expect(words(String.raw`x "\d+"`)[0][1]).toBe('\\d+');
  });

  it('ends a quoted string at a decoded NUL, as a C string', () => {
    expect(words(String.raw`x "ab\0cd"`)[0][1]).toBe('ab');
  });

  it('keeps braced text raw, with nested braces and newlines', () => {
    const lines = lexSpec('server s1 {\n\trxreq\n\tif { "x\\n" }\n} -start\nnext');
    expect(lines.map((l) => l.line)).toEqual([1, 5]);
    expect(lines[0].tokens.map((t) => t.kind)).toEqual(['word', 'word', 'brace', 'word']);
    expect(lines[0].tokens[2].text).toBe('\n\trxreq\n\tif { "x\\n" }\n');
  });

  it('joins lines ending in a backslash', () => {
    const lines = lexSpec('txreq -url /a \\\n\t-hdr "a: b"\nrxresp');
    expect(lines.map((l) => l.tokens.map((t) => t.text))).toEqual([['txreq', '-url', '/a', '-hdr', 'a: b'], ['rxresp']]);
    expect(lines[1].line).toBe(3);
  });

  it('refuses a quoted string that runs past the end of its line', () => {
    expect(() => lexSpec('send "abc\ndef"')).toThrow(VtcSyntaxError);
  });

  it('refuses unbalanced braces', () => {
    expect(() => lexSpec('server s1 {\n rxreq\n')).toThrow(/Unbalanced braces/);
  });
});
