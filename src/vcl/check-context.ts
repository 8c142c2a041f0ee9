// The state one check of a VCL shares across its parts: diagnostics, symbols, the variables of
// each syntax version, and what the sub being checked uses. Uses are recorded here and judged
// once the call graph says which built-in subs each sub can run from.

import type { Pos } from './ast.ts';
import type { Diagnostics, SourceFile } from './diagnostics.ts';
import type { SymbolTable } from './symbols.ts';
import type { TRegex } from './tir.ts';
import { type VarSpec, variablesFor } from './spec.ts';

/**
 * Something a sub does that only some built-in subs allow: reading or writing a variable,
 * returning an action, calling a restricted function. `allowed` is the scope mask where it is
 * legal; `describe` names what was done and where it would be legal, for the message.
 */
export interface ScopedUse {
  readonly pos: Pos;
  readonly allowed: number;
  readonly describe: (sub: string) => string;
}

export interface SubUses {
  readonly name: string;
  readonly uses: ScopedUse[];
  readonly calls: { readonly sub: string; readonly pos: Pos }[];
}

export interface CheckOptions {
  /** Storage names `storage.NAME` may use; `s0` and `Transient` are always there. */
  readonly storages?: readonly string[];
  /** Translates a VCL regex; returns an error message when it cannot be used. */
  readonly checkRegex?: (source: string) => string | undefined;
  /** The top file's syntax version, which names are looked up in. */
  readonly version?: number;
  /** builtin.vcl's file index; it is checked in its own syntax version. */
  readonly builtinFile?: number;
}

export class CheckContext {
  readonly diags: Diagnostics;
  readonly sources: readonly SourceFile[];
  readonly symbols: SymbolTable;
  readonly options: CheckOptions;
  readonly storages: ReadonlySet<string>;
  readonly regexes: TRegex[] = [];
  privCallSites = 0;
  /** Names of imports that failed: their uses are not reported again. */
  readonly failedImports = new Set<string>();
  /** Probe names backends asked for before any such probe was declared: not "unused" later. */
  readonly probesWanted = new Set<string>();
  /** The sub whose body is being checked. */
  current: SubUses | undefined;
  private readonly varTables = new Map<number, Map<string, VarSpec>>();

  constructor(diags: Diagnostics, sources: readonly SourceFile[], symbols: SymbolTable, options: CheckOptions) {
    this.diags = diags;
    this.sources = sources;
    this.symbols = symbols;
    this.options = options;
    this.storages = new Set(['s0', 'Transient', ...(options.storages ?? [])]);
  }

  /**
   * The syntax version in force where `pos` is. As in Varnish, that of the top file: an
   * included file's own `vcl 4.0;` line is only checked not to exceed it. builtin.vcl,
   * compiled after the user's VCL, keeps its own.
   */
  versionAt(pos: Pos): number {
    if (pos.file === this.options.builtinFile) return this.sources[pos.file]?.version ?? 41;
    return this.options.version ?? this.sources[0]?.version ?? 41;
  }

  /** The variables as the syntax version at `pos` knows them. */
  variables(pos: Pos): Map<string, VarSpec> {
    return this.variablesForVersion(this.versionAt(pos));
  }

  variablesForVersion(version: number): Map<string, VarSpec> {
    let table = this.varTables.get(version);
    if (!table) {
      table = variablesFor(version);
      this.varTables.set(version, table);
    }
    return table;
  }

  error(pos: Pos | undefined, message: string, notes?: { message: string; pos?: Pos }[]): undefined {
    this.diags.error(pos, message, notes);
    return undefined;
  }

  use(pos: Pos, allowed: number, describe: (sub: string) => string): void {
    this.current?.uses.push({ pos, allowed, describe });
  }

  addRegex(source: string, pos: Pos): number | undefined {
    const problem = this.options.checkRegex?.(source);
    if (problem) return this.error(pos, `Regular expression error: ${problem}`);
    this.regexes.push({ source, pos });
    return this.regexes.length - 1;
  }
}
