// The snapshot transform on modules the AssemblyScript examples do not cover: an imported
// global shifting the index space, and a module without an export section.

import { describe, expect, it } from 'vitest';
import { exportGlobals } from './wasm-globals.ts';

const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
// import "e" "g": an immutable i32 global.
const IMPORTS = [0x02, 0x08, 0x01, 0x01, 0x65, 0x01, 0x67, 0x03, 0x7f, 0x00];
// A mutable i32 = 5, then an immutable i64 = 7.
const GLOBALS = [0x06, 0x0b, 0x02, 0x7f, 0x01, 0x41, 0x05, 0x0b, 0x7e, 0x00, 0x42, 0x07, 0x0b];
// memory 3 pages.
const MEMORY = [0x05, 0x03, 0x01, 0x00, 0x03];

describe('exportGlobals', () => {
  it('exports the mutable globals of a module without exports, after the imported ones', () => {
    const { code, memoryPages } = exportGlobals(new Uint8Array([...HEADER, ...IMPORTS, ...MEMORY, ...GLOBALS]));
    expect(memoryPages).toBe(3);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(code), { e: { g: 1 } });
    expect(Object.keys(instance.exports)).toEqual(['__shellac_global_0']);
    const g = instance.exports.__shellac_global_0 as WebAssembly.Global;
    expect(g.value).toBe(5);
    g.value = 9;
    expect(g.value).toBe(9);
  });

  it('refuses what is not a module it can read', () => {
    expect(() => exportGlobals(new Uint8Array([...HEADER, 0x06, 0x05, 0x01, 0x7f, 0x01, 0x99, 0x0b]))).toThrow('unsupported instruction 0x99');
  });
});
