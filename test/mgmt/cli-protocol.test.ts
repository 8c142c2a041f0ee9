import { describe, expect, it } from 'vitest';
import { vclInlineCommand } from '../../src/mgmt/admin-client.ts';
import { CliSyntaxError, CommandReader, decodeReplyHead, encodeReply, joinCommand, quoteWord, splitCommand } from '../../src/mgmt/cli-protocol.ts';

describe('reply framing', () => {
  it('writes a 13-byte head, the body and a newline; the length counts bytes', () => {
    expect(encodeReply(200, 'PONG 1 1.0').toString()).toBe('200 10      \nPONG 1 1.0\n');
    expect(encodeReply(101, '').toString()).toBe('101 0       \n\n');
    const utf8 = encodeReply(200, 'é');
    expect(utf8.subarray(0, 13).toString()).toBe('200 2       \n');
    expect(utf8.length).toBe(13 + 2 + 1);
    expect(decodeReplyHead('107 59      \n')).toEqual({ status: 107, length: 59 });
    expect(decodeReplyHead('200 123456789\n')).toEqual({ status: 200, length: 123456789 });
    expect(decodeReplyHead('20x 1       \n')).toBeUndefined();
  });
});

describe('command words', () => {
  it('splits on blanks, reads quotes and escapes as varnishd does', () => {
    expect(splitCommand('  param.set   default_ttl 10  ')).toEqual(['param.set', 'default_ttl', '10']);
    expect(splitCommand('ping "a b"')).toEqual(['ping', 'a b']);
    expect(splitCommand('x "a\\"b\\x41\\101\\n\\t\\\\"')).toEqual(['x', 'a"bAA\n\t\\']);
    expect(splitCommand('x /\\x41\\102')).toEqual(['x', '/AB']);
    expect(splitCommand('x "/a"b')).toEqual(['x', '/a', 'b']);
    expect(splitCommand('x ""')).toEqual(['x', '']);
  });

  it('refuses what varnishd refuses', () => {
    expect(() => splitCommand('ping "abc')).toThrow(CliSyntaxError);
    expect(() => splitCommand('ping "abc')).toThrow(`Missing '"'`);
    expect(() => splitCommand('x a"b"')).toThrow(`Invalid '"'`);
    expect(() => splitCommand('x "a\\qb"')).toThrow('Invalid backslash sequence');
  });

  it('quotes only what needs it, and quoting survives the round trip', () => {
    expect(quoteWord('default_ttl')).toBe('default_ttl');
    expect(quoteWord('a b')).toBe('"a b"');
    expect(quoteWord('')).toBe('""');
    const words = ['vcl.inline', 'v1', 'vcl 4.1;\nbackend b { .host = "127.0.0.1"; }\n', 'tab\there', 'back\\slash', 'ctl\x01', 'ünïcode'];
    expect(splitCommand(joinCommand(words))).toEqual(words);
  });
});

describe('reading commands off a connection', () => {
  it('cuts lines, skips blank ones, and survives chunks split anywhere', () => {
    const r = new CommandReader(1 << 20);
    expect(r.push('pi')).toEqual([]);
    expect(r.push('ng\n\n   \nparam.show ')).toEqual([{ argv: ['ping'], line: 'ping' }]);
    expect(r.push('default_ttl\r\n')).toEqual([{ argv: ['param.show', 'default_ttl'], line: 'param.show default_ttl' }]);
  });

  it('gathers a here document into the last argument', () => {
    const r = new CommandReader(1 << 20);
    expect(r.push('vcl.inline v1 << XEND\nvcl 4.1;\n')).toEqual([]);
    expect(r.push('backend b { .host = "x"; }\nXEND\nping\n')).toEqual([
      { argv: ['vcl.inline', 'v1', 'vcl 4.1;\nbackend b { .host = "x"; }\n'], line: 'vcl.inline v1 << XEND' },
      { argv: ['ping'], line: 'ping' },
    ]);
  });

  it('reports a syntax error as a command, so the reply keeps its place', () => {
    const r = new CommandReader(1 << 20);
    expect(r.push('ping "x\nping\n')).toEqual([
      { syntaxError: `Missing '"'`, line: 'ping "x' },
      { argv: ['ping'], line: 'ping' },
    ]);
  });

  it('refuses a command past the limit, here documents included', () => {
    expect(() => new CommandReader(100).push('x'.repeat(101))).toThrow(RangeError);
    const r = new CommandReader(100);
    r.push('vcl.inline v << E\n');
    expect(() => r.push(`${'y'.repeat(60)}\n${'y'.repeat(60)}\n`)).toThrow(RangeError);
  });

  it('reads back what vclInlineCommand writes, even when the source holds the marker', () => {
    const src = 'vcl 4.1;\n# SHELLAC_VCL_END\nSHELLAC_VCL_END\nbackend b { .host = "x"; }';
    const r = new CommandReader(1 << 20);
    expect(r.push(`${vclInlineCommand('v1', src)}\n`)).toEqual([{ argv: ['vcl.inline', 'v1', `${src}\n`], line: expect.any(String) }]);
    // With a state the source is quoted, so the state stays the last argument.
    expect(r.push(`${vclInlineCommand('v1', src, 'cold')}\n`)).toEqual([{ argv: ['vcl.inline', 'v1', src, 'cold'], line: expect.any(String) }]);
  });
});
