// What code generation shares while it walks one VCL: the hoisted constants the generated code
// refers to (each named once, in a readable way, and described by a ConstSpec so the loader can
// supply its value), the table of VCL positions runtime errors are reported at, and the names
// of subs and object instances in the generated source.

import type { Pos } from './ast.ts';
import { positionText, type SourceFile, sourceLine } from './diagnostics.ts';
import type { HttpObjectName } from './spec.ts';
import type { TExpr } from './tir.ts';
import type { PlainActionName } from '../runtime/actions.ts';
import type { VclOps } from '../runtime/vcl-ops.ts';

/** One hoisted constant of the generated code; the loader turns each into its value. */
export type ConstSpec =
  | { readonly kind: 'op'; readonly name: keyof VclOps }
  | { readonly kind: 'action'; readonly name: PlainActionName | 'pass' | 'fail' }
  | { readonly kind: 'vclAction'; readonly label: string }
  /** A variable accessor of src/runtime/variables.ts. */
  | { readonly kind: 'get' | 'set' | 'unset'; readonly variable: string }
  /** The HTTP object behind `<obj>.http.*`. */
  | { readonly kind: 'http'; readonly obj: HttpObjectName }
  /** A HEADER argument: `{ where, name }`. */
  | { readonly kind: 'headerRef'; readonly obj: HttpObjectName; readonly name: string }
  | { readonly kind: 'regex'; readonly index: number }
  /** The compiled matcher of an ACL (for `~`), or its AclRef (an ACL passed as a value). */
  | { readonly kind: 'acl' | 'aclRef'; readonly name: string }
  | { readonly kind: 'backend' | 'probe' | 'subRef' | 'storage'; readonly name: string }
  /** A BLOB constant, as its base64 text. */
  | { readonly kind: 'blob'; readonly base64: string }
  /** An IP constant as written (an address, or a host name resolved at load). */
  | { readonly kind: 'ip'; readonly text: string; readonly pos: Pos }
  /** A VMOD function, or an object's class. `module` is the name VCL imports it as. */
  | { readonly kind: 'fn'; readonly module: string; readonly name: string }
  | { readonly kind: 'ctor'; readonly module: string; readonly object: string }
  | { readonly kind: 'privCall'; readonly index: number }
  | { readonly kind: 'privVcl' | 'vmodKey'; readonly module: string }
  /** `created(name, instance)`: how vcl_init reports an object it made. */
  | { readonly kind: 'created' };

/** Whether a VMOD call's implementation is an async function (so its sub must await it). */
export type AsyncCallTest = (call: Extract<TExpr, { k: 'vmod_call' | 'method_call' }>) => boolean;

export class GenContext {
  readonly constants: ConstSpec[] = [];
  readonly constantNames: string[] = [];
  readonly positions: Pos[] = [];
  readonly isAsyncCall: AsyncCallTest;
  readonly sources: readonly SourceFile[];
  /** Whether the sub being generated is async (may use await). */
  inAsyncSub = false;
  readonly #byKey = new Map<string, string>();
  readonly #used = new Set<string>(['t', 'k', 'r', 'v']);
  readonly #positionIndex = new Map<string, number>();
  readonly #subs = new Map<string, string>();
  readonly #instances = new Map<string, string>();

  constructor(sources: readonly SourceFile[], isAsyncCall: AsyncCallTest) {
    this.sources = sources;
    this.isAsyncCall = isAsyncCall;
    // Index 0: no position known (a sub entered, nothing evaluated yet).
    this.positions.push({ file: -1, line: 0, col: 0, offset: 0, length: 0 });
  }

  /** The local name of a hoisted constant, adding it on first use. */
  k(spec: ConstSpec): string {
    const key = JSON.stringify(spec.kind === 'ip' ? { kind: 'ip', text: spec.text } : spec);
    const known = this.#byKey.get(key);
    if (known !== undefined) return known;
    const name = this.#unique(constantBaseName(spec));
    this.#byKey.set(key, name);
    this.constants.push(spec);
    this.constantNames.push(name);
    return name;
  }

  /** The index of a VCL position in the table errors are reported from. */
  pos(p: Pos): number {
    const key = `${p.file}:${p.offset}`;
    let i = this.#positionIndex.get(key);
    if (i === undefined) {
      i = this.positions.length;
      this.positions.push(p);
      this.#positionIndex.set(key, i);
    }
    return i;
  }

  /** `file:line` of a position, for comments in the generated code. */
  where(p: Pos): string {
    return `${this.sources[p.file]?.name ?? '<unknown>'}:${p.line}`;
  }

  /** `file:line:col` of a position, as runtime errors report it. */
  positionText(p: Pos): string {
    return positionText(p, this.sources);
  }

  /** The VCL source line at a position, trimmed: what a comment in the generated code quotes. */
  sourceText(p: Pos): string {
    const file = this.sources[p.file];
    return file ? sourceLine(file.text, p.line).trim() : '';
  }

  subName(name: string): string {
    let js = this.#subs.get(name);
    if (js === undefined) {
      js = this.#unique(`sub_${name}`);
      this.#subs.set(name, js);
    }
    return js;
  }

  instanceName(name: string): string {
    let js = this.#instances.get(name);
    if (js === undefined) {
      js = this.#unique(`obj_${name}`);
      this.#instances.set(name, js);
    }
    return js;
  }

  /** Instances referred to, VCL name → JS name: each is a `let` of the generated closure. */
  get instances(): ReadonlyMap<string, string> {
    return this.#instances;
  }

  #unique(base: string): string {
    let name = base.replace(/[^A-Za-z0-9_$]/g, '_');
    if (/^[0-9]/.test(name)) name = `_${name}`;
    let candidate = name;
    for (let i = 2; this.#used.has(candidate); i++) candidate = `${name}_${i}`;
    this.#used.add(candidate);
    return candidate;
  }
}

function constantBaseName(spec: ConstSpec): string {
  switch (spec.kind) {
    case 'op':
      return spec.name;
    case 'action':
      return `act_${spec.name}`;
    case 'vclAction':
      return `act_vcl_${spec.label}`;
    case 'get':
    case 'set':
    case 'unset':
      return `${spec.kind}_${spec.variable}`;
    case 'http':
      return `http_${spec.obj}`;
    case 'headerRef':
      return `hdr_${spec.obj}_${spec.name}`;
    case 'regex':
      return `re${spec.index}`;
    case 'acl':
      return `acl_${spec.name}`;
    case 'aclRef':
      return `aclref_${spec.name}`;
    case 'backend':
      return `be_${spec.name}`;
    case 'probe':
      return `probe_${spec.name}`;
    case 'subRef':
      return `subref_${spec.name}`;
    case 'storage':
      return `storage_${spec.name}`;
    case 'ip':
      return 'ip';
    case 'blob':
      return 'blob';
    case 'fn':
      return `${spec.module}_${spec.name}`;
    case 'ctor':
      return `new_${spec.module}_${spec.object}`;
    case 'privCall':
      return `priv_call${spec.index}`;
    case 'privVcl':
      return `priv_vcl_${spec.module}`;
    case 'vmodKey':
      return `vmod_${spec.module}`;
    case 'created':
      return 'created';
  }
}
