// The checker: from the AST of a VCL (the user's declarations followed by builtin.vcl's) to
// the typed form code generation consumes. Declarations are collected first, so subs and
// backends may be used before they are written; probes, as in Varnish, must come first.

import { assertNever } from './assert-never.ts';
import type { Block, Pos, Stmt, SubDecl, TopDecl } from './ast.ts';
import { analyseCalls, type SubNode } from './callgraph.ts';
import { lookupFolded } from './check-call.ts';
import { checkAcl, checkBackend, checkProbe } from './check-decl.ts';
import { CheckContext, type CheckOptions } from './check-context.ts';
import { checkBlock } from './check-stmt.ts';
import type { Diagnostics, SourceFile } from './diagnostics.ts';
import { isSubName, SUB_NAMES } from './spec.ts';
import { foldName, SymbolTable } from './symbols.ts';
import type { CheckedVcl, TAcl, TBackend, TImport, TProbe, TStmt, TSub } from './tir.ts';
import type { VmodManifest } from '../vmod/manifest.ts';

export type VmodResolver = (name: string, from: string | undefined) => { manifest: VmodManifest } | { error: string };

export interface CheckInput extends CheckOptions {
  readonly version: number;
  /** The user's declarations, then builtin.vcl's. */
  readonly decls: readonly TopDecl[];
  readonly sources: readonly SourceFile[];
  /** The file index of builtin.vcl in `sources`, if it is part of the program. */
  readonly builtinFile?: number;
  readonly resolveVmod: VmodResolver;
  /** Unused backends, probes, ACLs and subs are errors (Varnish's vcc_err_unref); else warnings. */
  readonly errUnref?: boolean;
}

export function checkVcl(input: CheckInput, diags: Diagnostics): CheckedVcl {
  const symbols = new SymbolTable(diags);
  const cx = new CheckContext(diags, input.sources, symbols, input);
  const imports: TImport[] = [];
  const backends: TBackend[] = [];
  const probes: TProbe[] = [];
  const acls: TAcl[] = [];
  const fromBuiltin = (pos: Pos) => pos.file === input.builtinFile;
  const subDecls = collectSubs(cx, input.decls, fromBuiltin);
  // The default backend is the one named `default`, else the first declared; it counts as used.
  const namedDefault = input.decls.find((d) => d.kind === 'backend' && foldName(d.name.name) === 'default');

  for (const d of input.decls) {
    switch (d.kind) {
      case 'import': {
        const name = d.alias?.name ?? d.module.name;
        const found = input.resolveVmod(d.module.name, d.from?.value);
        if ('error' in found) {
          cx.error(d.module.pos, found.error);
          cx.failedImports.add(foldName(name));
          break;
        }
        const prior = symbols.get(name);
        if (prior?.kind === 'vmod' && prior.manifest.file === found.manifest.file) break;
        if (symbols.declare({ kind: 'vmod', name, pos: d.module.pos, refs: 0, manifest: found.manifest })) {
          imports.push({ name, manifest: found.manifest, pos: d.pos, from: d.from?.value });
        }
        break;
      }
      case 'probe':
        if (symbols.declare({ kind: 'probe', name: d.name.name, pos: d.name.pos, refs: foldName(d.name.name) === 'default' || cx.probesWanted.has(foldName(d.name.name)) ? 1 : 0 })) {
          probes.push(checkProbe(cx, d, d.name.name));
        }
        break;
      case 'backend': {
        const isDefault = namedDefault ? d === namedDefault : backends.length === 0;
        if (symbols.declare({ kind: 'backend', name: d.name.name, pos: d.name.pos, refs: isDefault ? 1 : 0 })) {
          backends.push(checkBackend(cx, d, probes));
        }
        break;
      }
      case 'acl':
        if (symbols.declare({ kind: 'acl', name: d.name.name, pos: d.name.pos, refs: 0 })) acls.push(checkAcl(cx, d));
        break;
      case 'sub':
        break;
      default:
        assertNever(d, 'declaration');
    }
  }
  declareInstances(cx, subDecls.get('vcl_init')?.decls ?? []);

  const nodes = new Map<string, SubNode>();
  const bodies = new Map<string, TStmt[]>();
  for (const [name, group] of subDecls) {
    const node: SubNode = { name, uses: [], calls: [], pos: group.decls[0].name.pos, fromBuiltin: group.fromBuiltin };
    cx.current = node;
    const body: TStmt[] = [];
    for (const d of group.decls) body.push(...checkBlock(cx, d.body, name));
    cx.current = undefined;
    nodes.set(name, node);
    bodies.set(name, body);
  }
  const scopes = analyseCalls(cx, nodes, input.errUnref ?? true);

  if (!input.decls.some((d) => d.kind === 'backend')) {
    cx.error(undefined, 'No backends or directors found in VCL program, at least one is necessary.');
  }
  reportUnused(cx, input.errUnref ?? true);
  const defaultProbe = probes.find((p) => foldName(p.name) === 'default')?.name;

  const subs = new Map<string, TSub>();
  for (const [name, body] of bodies) {
    const node = nodes.get(name) as SubNode;
    subs.set(name, { name, builtin: isSubName(name) ? name : undefined, body, pos: node.pos, scope: scopes.get(name) ?? 0 });
  }
  return {
    version: input.version,
    imports,
    backends: defaultProbe ? backends.map((b) => (b.none || b.probe ? b : { ...b, probe: defaultProbe })) : backends,
    probes,
    acls,
    subs,
    regexes: cx.regexes,
    privCallSites: cx.privCallSites,
    defaultBackend: namedDefault?.kind === 'backend' ? namedDefault.name.name : backends[0]?.name,
    labels: [...new Set([...bodies.values()].flatMap(labelsOf))],
  };
}

interface SubGroup {
  readonly decls: SubDecl[];
  fromBuiltin: boolean;
}

/**
 * Groups sub definitions by name. Built-in subs, and the `vcl_*` helper subs builtin.vcl
 * defines, may be defined several times: their bodies run one after the other, the user's
 * first. Any other name is defined once. Names ignore case, as all VCL symbols do: the key
 * is the built-in sub's own name, or the spelling of a custom sub's first definition.
 */
function collectSubs(cx: CheckContext, decls: readonly TopDecl[], fromBuiltin: (pos: Pos) => boolean): Map<string, SubGroup> {
  const groups = new Map<string, SubGroup>();
  const builtinNames = new Set<string>(SUB_NAMES);
  for (const d of decls) if (d.kind === 'sub' && fromBuiltin(d.pos)) builtinNames.add(foldName(d.name.name));
  for (const d of decls) {
    if (d.kind !== 'sub') continue;
    const written = d.name.name;
    const folded = foldName(written);
    const concatenates = builtinNames.has(folded);
    if (!concatenates && folded.startsWith('vcl_')) {
      cx.error(d.name.pos, `The names 'vcl_*' are reserved for subroutines; '${written}' is not one of Varnish's (${SUB_NAMES.join(', ')})`);
      continue;
    }
    const prior = cx.symbols.get(written);
    const name = concatenates ? folded : prior?.kind === 'sub' ? prior.name : written;
    const group = groups.get(name);
    if (group && !concatenates) {
      cx.error(d.name.pos, `Subroutine '${name}' redefined`, [{ message: 'Previously defined here', pos: group.decls[0].name.pos }]);
      continue;
    }
    if (group) {
      group.decls.push(d);
      continue;
    }
    if (!cx.symbols.declare({ kind: 'sub', name, pos: d.name.pos, refs: 0 })) continue;
    groups.set(name, { decls: [d], fromBuiltin: fromBuiltin(d.pos) });
  }
  for (const g of groups.values()) g.fromBuiltin = g.decls.every((d) => fromBuiltin(d.pos));
  return groups;
}

/** Declares the object instances `new` creates in vcl_init, so any sub may use them. */
function declareInstances(cx: CheckContext, inits: readonly SubDecl[]): void {
  const visit = (stmts: readonly Stmt[]) => {
    for (const s of stmts) {
      if (s.kind === 'block') visit(s.stmts);
      else if (s.kind === 'if') visitIf(s);
      else if (s.kind === 'new' && s.name.parts.length === 1) {
        const callee = s.ctor.callee;
        const mod = cx.symbols.get(callee.parts[0].text);
        if (mod?.kind !== 'vmod' || callee.parts.length !== 2) continue;
        const object = lookupFolded(mod.manifest.objects, callee.parts[1].text);
        if (!object) continue;
        cx.symbols.declare({ kind: 'instance', name: s.name.text, pos: s.name.pos, refs: 0, module: mod.name, object });
      }
    }
  };
  const visitIf = (s: Extract<Stmt, { kind: 'if' }>): void => {
    visit(s.then.stmts);
    if (s.else?.kind === 'block') visit(s.else.stmts);
    else if (s.else) visitIf(s.else);
  };
  for (const d of inits) visit((d.body as Block).stmts);
}

function reportUnused(cx: CheckContext, asError: boolean): void {
  for (const kind of ['backend', 'probe', 'acl'] as const) {
    for (const sym of cx.symbols.ofKind(kind)) {
      if (sym.refs > 0) continue;
      const message = `Unused ${kind} ${sym.name}, defined here but never used`;
      if (asError) cx.error(sym.pos, message);
      else cx.diags.warning(sym.pos, message);
    }
  }
}

function labelsOf(body: readonly TStmt[]): string[] {
  const out: string[] = [];
  for (const s of body) {
    if (s.k === 'return' && s.label) out.push(s.label);
    else if (s.k === 'if') out.push(...labelsOf(s.then), ...labelsOf(s.else ?? []));
  }
  return out;
}
