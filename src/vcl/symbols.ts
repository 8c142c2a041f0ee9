// The symbol table of one VCL: the names it declares (backends, probes, ACLs, subs, imported
// VMODs, object instances) beside the names the language reserves. Declaring twice, or taking
// a reserved name, is reported here, once, with the first definition. As in Varnish, names
// are case-insensitive: `Foo` and `foo` are one symbol, spelled as at its first definition.

import type { Pos } from './ast.ts';
import type { Diagnostics } from './diagnostics.ts';
import type { VmodManifest, VmodObject } from '../vmod/manifest.ts';
import { BUILTIN_FUNCTIONS, VARIABLES } from './spec.ts';

export type SymbolKind = 'backend' | 'probe' | 'acl' | 'sub' | 'vmod' | 'instance';

interface SymbolBase {
  readonly name: string;
  readonly pos: Pos;
  /** Uses seen by the checker; a declared backend, probe or ACL with none is reported unused. */
  refs: number;
}

export type VclSymbol =
  | (SymbolBase & { readonly kind: 'backend' | 'probe' | 'acl' | 'sub' })
  | (SymbolBase & { readonly kind: 'vmod'; readonly manifest: VmodManifest })
  | (SymbolBase & {
      readonly kind: 'instance';
      readonly module: string;
      readonly object: VmodObject;
    });

/** The form names are compared in: VCL symbols ignore case. */
export function foldName(name: string): string {
  return name.toLowerCase();
}

/** Words VCL itself gives a meaning: the roots of variables, built-in functions, constants. */
const RESERVED: ReadonlyMap<string, string> = new Map<string, string>([
  ...VARIABLES.map((v) => [v.name.split('.')[0], 'a variable'] as [string, string]),
  ...Object.keys(BUILTIN_FUNCTIONS).map((f) => [f, 'a built-in function'] as [string, string]),
  ['true', 'a constant'],
  ['false', 'a constant'],
]);

const KIND_TEXT: Readonly<Record<SymbolKind, string>> = {
  backend: 'Backend',
  probe: 'Probe',
  acl: 'ACL',
  sub: 'Subroutine',
  vmod: 'VMOD',
  instance: 'Instance',
};

export class SymbolTable {
  private readonly map = new Map<string, VclSymbol>();
  private readonly diags: Diagnostics;

  constructor(diags: Diagnostics) {
    this.diags = diags;
  }

  get(name: string): VclSymbol | undefined {
    return this.map.get(foldName(name));
  }

  /** Every symbol of a kind, in declaration order. */
  ofKind<K extends SymbolKind>(kind: K): (VclSymbol & { readonly kind: K })[] {
    const out: (VclSymbol & { readonly kind: K })[] = [];
    for (const s of this.map.values()) if (s.kind === kind) out.push(s as VclSymbol & { readonly kind: K });
    return out;
  }

  /** Declares a symbol; returns false (after reporting why) when the name is taken. */
  declare(sym: VclSymbol): boolean {
    const key = foldName(sym.name);
    const reserved = RESERVED.get(key);
    if (reserved) {
      this.diags.error(sym.pos, `Name '${sym.name}' is reserved: it is ${reserved} in VCL`);
      return false;
    }
    const first = this.map.get(key);
    if (first) {
      const message =
        first.kind === sym.kind && sym.kind !== 'vmod'
          ? `${KIND_TEXT[sym.kind]} '${sym.name}' redefined.`
          : `Name '${sym.name}' already defined.`;
      // Subs are declared before the rest, so the one seen first may come later in the source:
      // the error goes to whichever is written later.
      const [later, earlier] = before(first.pos, sym.pos) ? [sym, first] : [first, sym];
      this.diags.error(later.pos, message, [{ message: 'First definition', pos: earlier.pos }]);
      return false;
    }
    this.map.set(key, sym);
    return true;
  }
}

/** Source order, nearly: files are numbered as they are met, an included file after its includer. */
function before(a: Pos, b: Pos): boolean {
  return a.file < b.file || (a.file === b.file && a.offset < b.offset);
}
