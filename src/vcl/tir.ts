// The typed intermediate form the checker produces from the AST: every name resolved, every
// implicit conversion explicit, every VMOD call bound to its manifest. Code generation walks
// this and nothing else, so it never resolves a name or guesses a type.

import type { AclEntry, AssignOp, BinaryOp, Pos } from './ast.ts';
import type { VmodFunction, VmodManifest, VmodObject } from '../vmod/manifest.ts';
import type { ActionName, HttpObjectName, SubName, VarSpec, VclType } from './spec.ts';

/** A constant's value; a BLOB constant holds its base64 text as written (`:aGk=:` → 'aGk='). */
export type Const = string | number | boolean;

export type TExpr =
  | { readonly k: 'const'; readonly type: VclType; readonly value: Const; readonly pos: Pos }
  /** A variable that is not a header: `req.url`, `now`, `obj.ttl`. */
  | { readonly k: 'var'; readonly type: VclType; readonly spec: VarSpec; readonly pos: Pos }
  /**
   * `req.http.X`, the header name as written (case kept). Typed STRING where its value is read
   * (null when absent), HEADER where a VMOD wants a reference it can read and write.
   */
  | { readonly k: 'header'; readonly type: 'STRING' | 'HEADER'; readonly obj: HttpObjectName; readonly name: string; readonly pos: Pos }
  /** `storage.NAME.free_space` and friends. */
  | { readonly k: 'storage_var'; readonly type: VclType; readonly storage: string; readonly field: string; readonly pos: Pos }
  /** Named things declared in the VCL or the environment. */
  | { readonly k: 'backend'; readonly type: 'BACKEND'; readonly name: string; readonly pos: Pos }
  | { readonly k: 'acl'; readonly type: 'ACL'; readonly name: string; readonly pos: Pos }
  | { readonly k: 'probe'; readonly type: 'PROBE'; readonly name: string; readonly pos: Pos }
  | { readonly k: 'sub'; readonly type: 'SUB'; readonly name: string; readonly pos: Pos }
  | { readonly k: 'stevedore'; readonly type: 'STEVEDORE'; readonly name: string; readonly pos: Pos }
  /** A VMOD object instance used as a value (passed to a function taking it). */
  | { readonly k: 'instance'; readonly type: 'INSTANCE'; readonly name: string; readonly objectType: string; readonly pos: Pos }
  | { readonly k: 'enum'; readonly type: 'ENUM'; readonly value: string; readonly pos: Pos }
  /** The default of an absent BACKEND, HEADER... argument: null at run time. */
  | { readonly k: 'null'; readonly type: VclType; readonly pos: Pos }
  | { readonly k: 'not'; readonly type: 'BOOL'; readonly e: TExpr; readonly pos: Pos }
  | { readonly k: 'and' | 'or'; readonly type: 'BOOL'; readonly l: TExpr; readonly r: TExpr; readonly pos: Pos }
  /** Comparison of two operands of `operand` type (after conversion). */
  | {
      readonly k: 'cmp';
      readonly type: 'BOOL';
      readonly op: '==' | '!=' | '<' | '>' | '<=' | '>=';
      readonly operand: VclType;
      readonly l: TExpr;
      readonly r: TExpr;
      readonly pos: Pos;
    }
  /** A regex literal (constant strings joined with `+`): `regex` indexes CheckedVcl.regexes. */
  | { readonly k: 'regex'; readonly type: 'REGEX'; readonly regex: number; readonly pos: Pos }
  /** `x ~ re`: `regex` is REGEX-typed, a literal or a VMOD call that returns a REGEX. */
  | { readonly k: 'match'; readonly type: 'BOOL'; readonly negate: boolean; readonly l: TExpr; readonly regex: TExpr; readonly pos: Pos }
  /** `ip ~ acl`: `acl` is ACL-typed, a named ACL or a VMOD call that returns one. */
  | { readonly k: 'aclmatch'; readonly type: 'BOOL'; readonly negate: boolean; readonly l: TExpr; readonly acl: TExpr; readonly pos: Pos }
  | {
      readonly k: 'arith';
      readonly type: VclType;
      readonly op: '+' | '-' | '*' | '/' | '%';
      readonly l: TExpr;
      readonly r: TExpr;
      readonly pos: Pos;
    }
  | { readonly k: 'neg'; readonly type: VclType; readonly e: TExpr; readonly pos: Pos }
  /** String concatenation; every part is already STRING. */
  | { readonly k: 'concat'; readonly type: 'STRING' | 'STRANDS'; readonly parts: TExpr[]; readonly pos: Pos }
  /** An implicit conversion, e.g. INT → STRING, HEADER → STRING, STRING → BOOL (presence). */
  | { readonly k: 'conv'; readonly type: VclType; readonly from: VclType; readonly e: TExpr; readonly pos: Pos }
  /** regsub / regsuball. */
  | {
      readonly k: 'regsub';
      readonly type: 'STRING';
      readonly all: boolean;
      readonly subject: TExpr;
      /** REGEX-typed, as in `match`. */
      readonly regex: TExpr;
      readonly replacement: TExpr;
      readonly pos: Pos;
    }
  /** A call of a VMOD function, arguments in manifest order. */
  | {
      readonly k: 'vmod_call';
      readonly type: VclType;
      readonly module: string;
      readonly fn: VmodFunction;
      readonly args: readonly TArg[];
      readonly pos: Pos;
    }
  /** A method call on a VMOD object instance. */
  | {
      readonly k: 'method_call';
      readonly type: VclType;
      readonly module: string;
      readonly instance: string;
      readonly object: VmodObject;
      readonly fn: VmodFunction;
      readonly args: readonly TArg[];
      readonly pos: Pos;
    }
  /** A method every value of a type has: `.upper()`, `.lower()`, `.resolve()`. */
  | { readonly k: 'type_method'; readonly type: VclType; readonly method: string; readonly e: TExpr; readonly pos: Pos };

/**
 * One bound argument of a VMOD call or constructor. `value` is absent for an optional `[ ]`
 * argument that was not given (the implementation is told it is missing) and for PRIV_*.
 */
export interface TArg {
  readonly name: string;
  readonly type: VclType | 'PRIV_CALL' | 'PRIV_TASK' | 'PRIV_TOP' | 'PRIV_VCL';
  readonly value?: TExpr;
  readonly optional: boolean;
  /** For PRIV_CALL: the call site's index, so each call site gets its own holder. */
  readonly privCall?: number;
}

/** What `set` and `unset` act on. */
export type TTarget =
  | { readonly k: 'var'; readonly spec: VarSpec; readonly pos: Pos }
  | { readonly k: 'header'; readonly obj: HttpObjectName; readonly name: string; readonly pos: Pos };

export type TStmt =
  | { readonly k: 'set'; readonly target: TTarget; readonly op: AssignOp; readonly value: TExpr; readonly pos: Pos }
  | { readonly k: 'unset'; readonly target: TTarget; readonly pos: Pos }
  | { readonly k: 'call'; readonly sub: string; readonly pos: Pos }
  | { readonly k: 'return'; readonly action?: ActionName; readonly args: readonly TExpr[]; readonly label?: string; readonly pos: Pos }
  | { readonly k: 'if'; readonly cond: TExpr; readonly then: readonly TStmt[]; readonly else?: readonly TStmt[]; readonly pos: Pos }
  | {
      readonly k: 'new';
      readonly name: string;
      readonly module: string;
      readonly object: VmodObject;
      readonly args: readonly TArg[];
      readonly pos: Pos;
    }
  | { readonly k: 'hash_data'; readonly value: TExpr; readonly pos: Pos }
  | { readonly k: 'synthetic'; readonly value: TExpr; readonly pos: Pos }
  | { readonly k: 'ban'; readonly value: TExpr; readonly pos: Pos }
  /** A VOID VMOD function or method call, or any call whose value is dropped. */
  | { readonly k: 'eval'; readonly e: TExpr; readonly pos: Pos };

export interface TSub {
  readonly name: string;
  readonly builtin: SubName | undefined;
  readonly body: readonly TStmt[];
  readonly pos: Pos;
  /** The built-in subs it can run from (itself for a built-in sub): a scope mask. */
  readonly scope: number;
}

export interface TBackend {
  readonly name: string;
  readonly pos: Pos;
  readonly none: boolean;
  readonly host?: string;
  readonly port?: string;
  readonly path?: string;
  readonly hostHeader?: string;
  readonly connectTimeout?: number;
  readonly firstByteTimeout?: number;
  readonly betweenBytesTimeout?: number;
  readonly maxConnections?: number;
  readonly proxyHeader?: number;
  /** `.preamble = :base64:;`: bytes sent before the first request, as their base64 text. */
  readonly preamble?: string;
  /** The name of its probe: a declared probe, or the generated name of an inline one. */
  readonly probe?: string;
}

export interface TProbe {
  readonly name: string;
  readonly pos: Pos;
  readonly url?: string;
  /** Lines of a raw request (`.request`), joined with CRLF when sent. */
  readonly request?: readonly string[];
  readonly expectedResponse?: number;
  readonly timeout?: number;
  readonly interval?: number;
  readonly window?: number;
  readonly threshold?: number;
  readonly initial?: number;
}

export interface TAcl {
  readonly name: string;
  readonly pos: Pos;
  readonly flags: Readonly<Record<string, boolean>>;
  readonly entries: readonly AclEntry[];
}

export interface TImport {
  /** The name VCL uses: the alias, or the module name. */
  readonly name: string;
  readonly manifest: VmodManifest;
  readonly pos: Pos;
  /** `from "path"` as written, if any. */
  readonly from?: string;
}

export interface TRegex {
  readonly source: string;
  readonly pos: Pos;
}

/** Everything code generation needs, in declaration order. */
export interface CheckedVcl {
  readonly version: number;
  readonly imports: readonly TImport[];
  readonly backends: readonly TBackend[];
  readonly probes: readonly TProbe[];
  readonly acls: readonly TAcl[];
  /** Built-in subs (user code concatenated, builtin.vcl last) and custom subs. */
  readonly subs: ReadonlyMap<string, TSub>;
  readonly regexes: readonly TRegex[];
  /** The number of PRIV_CALL call sites. */
  readonly privCallSites: number;
  /** The backend used when the VCL names none: the one named `default`, else the first declared. */
  readonly defaultBackend?: string;
  /** VCL labels named by `return (vcl(label))`. */
  readonly labels: readonly string[];
}

export type { BinaryOp };
