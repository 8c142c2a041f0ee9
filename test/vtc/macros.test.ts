// VTC macros: plain names, the string and date functions, unknown names.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: VTC macros are written ${name}

import { describe, expect, it } from 'vitest';
import { MacroError, Macros } from '../../src/vtc/macros.ts';

describe('Macros', () => {
  it('expands defined names anywhere in a string', () => {
    const m = new Macros();
    m.define('s1_addr', '127.0.0.1');
    m.define('s1_port', '8080');
    expect(m.expand('http://${s1_addr}:${s1_port}/x')).toBe('http://127.0.0.1:8080/x');
    expect(m.expand('no macro')).toBe('no macro');
  });

  it('repeats strings, with comma or blank separated arguments', () => {
    const m = new Macros();
    expect(m.expand('${string,repeat,3,ab}')).toBe('ababab');
    expect(m.expand('${ string repeat 2 "a,b" }')).toBe('a,ba,b');
    expect(m.expand('${string,repeat,0,x}')).toBe('');
  });

  it('gives an HTTP date for ${date}', () => {
    expect(new Macros().expand('${date}')).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  });

  it('fails on an unknown macro unless told to ignore them', () => {
    const m = new Macros();
    expect(() => m.expand('a ${nope} b')).toThrow(MacroError);
    expect(() => m.expand('a ${nope} b')).toThrow('Macro ${nope} not found');
    m.ignoreUnknown = true;
    expect(m.expand('a ${nope} b')).toBe('a ${nope} b');
  });

  it('can forget a macro', () => {
    const m = new Macros();
    m.define('x', '1');
    m.undefine('x');
    expect(() => m.expand('${x}')).toThrow(MacroError);
  });
});
