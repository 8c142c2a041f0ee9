// Exports a WebAssembly module's internal mutable globals, so that a sandbox can read them into
// its snapshot and write them back on reset (an AssemblyScript program keeps its heap pointer in
// one). A small edit of the binary, done once per program version: read the import, memory,
// global and export sections, append one export per mutable global (named GLOBAL_PREFIX + its
// index among the module's own globals) and write the module back. Also reports how many pages
// its memory starts with, which an imported memory must be created with.

export const GLOBAL_PREFIX = '__shellac_global_';

/** Section ids in the order a module must have them (custom sections, id 0, go anywhere). */
const ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];
const V128 = 0x7b;

class Reader {
  pos: number;
  readonly bytes: Uint8Array;
  constructor(bytes: Uint8Array, start = 0) {
    this.bytes = bytes;
    this.pos = start;
  }
  byte(): number {
    if (this.pos >= this.bytes.length) throw new Error('truncated module');
    return this.bytes[this.pos++];
  }
  /** Unsigned (or, for skipping, signed) LEB128; up to 64 bits read, the value to 2^53. */
  leb(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return result;
    }
    throw new Error('bad LEB128');
  }
  skip(n: number): void {
    this.pos += n;
  }
  name(): void {
    this.skip(this.leb());
  }
  limits(): number {
    const flags = this.byte();
    const min = this.leb();
    if (flags & 1) this.leb();
    return min;
  }
  valtype(): number {
    const t = this.byte();
    // Typed references (ref null? ht): a heap type follows.
    if (t === 0x63 || t === 0x64) this.leb();
    return t;
  }
  /** A constant expression, up to and including its `end`. */
  constExpr(): void {
    for (;;) {
      const op = this.byte();
      if (op === 0x0b) return;
      if (op === 0x41 || op === 0x42 || op === 0x23 || op === 0xd2) this.leb();
      else if (op === 0x43) this.skip(4);
      else if (op === 0x44) this.skip(8);
      else if (op === 0xd0) this.leb();
      else if (op === 0xfd && this.leb() === 12) this.skip(16);
      else if (![0x6a, 0x6b, 0x6c, 0x7c, 0x7d, 0x7e].includes(op)) throw new Error(`unsupported instruction 0x${op.toString(16)} in a global's initialiser`);
    }
  }
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

interface Section {
  readonly id: number;
  /** Where its id byte is. */
  readonly header: number;
  /** Where its content starts. */
  readonly start: number;
  readonly end: number;
}

export function exportGlobals(code: Uint8Array): { code: Uint8Array; memoryPages: number } {
  const r = new Reader(code, 8);
  const sections: Section[] = [];
  while (r.pos < code.length) {
    const header = r.pos;
    const id = r.byte();
    const size = r.leb();
    sections.push({ id, header, start: r.pos, end: r.pos + size });
    r.skip(size);
  }
  let importedGlobals = 0;
  let memoryPages = 0;
  const exported: number[] = [];
  for (const s of sections) {
    const sr = new Reader(code, s.start);
    if (s.id === 2) {
      for (let n = sr.leb(); n > 0; n--) {
        sr.name();
        sr.name();
        const kind = sr.byte();
        if (kind === 0) {
          sr.leb();
        } else if (kind === 1) {
          sr.valtype();
          sr.limits();
        } else if (kind === 2) {
          memoryPages = sr.limits();
        } else if (kind === 3) {
          sr.valtype();
          sr.byte();
          importedGlobals++;
        } else if (kind === 4) {
          sr.byte();
          sr.leb();
        } else {
          throw new Error(`unknown import kind ${kind}`);
        }
      }
    } else if (s.id === 5) {
      if (sr.leb() > 0) memoryPages = sr.limits();
    } else if (s.id === 6) {
      const n = sr.leb();
      for (let i = 0; i < n; i++) {
        const type = sr.valtype();
        const mutable = sr.byte() === 1;
        sr.constExpr();
        if (mutable && type !== V128) exported.push(importedGlobals + i);
      }
    }
  }
  const entries: number[] = [];
  for (const index of exported) {
    const name = new TextEncoder().encode(`${GLOBAL_PREFIX}${index - importedGlobals}`);
    entries.push(...leb(name.length), ...name, 3, ...leb(index));
  }
  const exports = sections.find((s) => s.id === 7);
  let count = exported.length;
  let old: Uint8Array = new Uint8Array(0);
  if (exports !== undefined) {
    const er = new Reader(code, exports.start);
    count += er.leb();
    old = code.subarray(er.pos, exports.end);
  }
  const body = [...leb(count), ...old, ...entries];
  const section = new Uint8Array([7, ...leb(body.length), ...body]);
  // Where the export section goes: in place of the old one, or before the first section that
  // must follow it.
  const after = (s: Section) => s.id !== 0 && ORDER.indexOf(s.id) > ORDER.indexOf(7);
  const at = exports ?? sections.find(after);
  const cut = at === undefined ? code.length : at.header;
  const resume = exports !== undefined ? exports.end : cut;
  const out = new Uint8Array(cut + section.length + (code.length - resume));
  out.set(code.subarray(0, cut));
  out.set(section, cut);
  out.set(code.subarray(resume), cut + section.length);
  return { code: out, memoryPages };
}
