// The VCL abstract syntax tree, as written: the parser builds it (cst-to-ast.ts) and nothing
// changes it afterwards. The checker reads it and produces a separate typed form (tir.ts), with
// names resolved and conversions explicit, which is what code generation walks; `shellac check
// --ast` prints this tree. Every node carries the position of the token that best names it, so
// errors and generated code can point back at the VCL source.

/** A place in a source file: `file` indexes `Program.sources`; line and col are 1-based. */
export interface Pos {
  readonly file: number;
  readonly line: number;
  readonly col: number;
  /** Offset of the first character in the file's text, and the length of the token or span. */
  readonly offset: number;
  readonly length: number;
}

export interface Program {
  /** The syntax version of the top file: 40 for `vcl 4.0;`, 41 for `vcl 4.1;`. */
  readonly version: number;
  readonly versionPos: Pos;
  readonly decls: TopDecl[];
}

export type TopDecl = ImportDecl | BackendDecl | ProbeDecl | AclDecl | SubDecl;

export interface Ident {
  readonly name: string;
  readonly pos: Pos;
}

export interface ImportDecl {
  readonly kind: 'import';
  readonly pos: Pos;
  readonly module: Ident;
  readonly alias?: Ident;
  readonly from?: StringLit;
}

/** `.name = value;` inside a backend or probe; `.probe` may hold an inline probe body. */
export interface Field {
  readonly name: Ident;
  readonly value: Expr | InlineProbe;
  readonly pos: Pos;
}

export interface InlineProbe {
  readonly kind: 'inline_probe';
  readonly pos: Pos;
  readonly fields: Field[];
}

export interface BackendDecl {
  readonly kind: 'backend';
  readonly pos: Pos;
  readonly name: Ident;
  /** `backend NAME none;` declares a backend that is never healthy and never fetched from. */
  readonly none: boolean;
  readonly fields: Field[];
}

export interface ProbeDecl {
  readonly kind: 'probe';
  readonly pos: Pos;
  readonly name: Ident;
  readonly fields: Field[];
}

export interface AclFlag {
  /** `+log` gives on = true, `-pedantic` gives on = false. */
  readonly on: boolean;
  readonly name: Ident;
}

export interface AclEntry {
  readonly pos: Pos;
  /** `! "10.0.0.1";` */
  readonly negated: boolean;
  /** `("host");`: ignored when the name does not resolve, instead of matching everything. */
  readonly optional: boolean;
  readonly address: StringLit;
  readonly mask?: IntLit;
}

export interface AclDecl {
  readonly kind: 'acl';
  readonly pos: Pos;
  readonly name: Ident;
  readonly flags: AclFlag[];
  readonly entries: AclEntry[];
}

export interface SubDecl {
  readonly kind: 'sub';
  readonly pos: Pos;
  readonly name: Ident;
  readonly body: Block;
}

// ---------------------------------------------------------------------------------------------
// Statements

export type Stmt =
  | Block
  | SetStmt
  | UnsetStmt
  | CallStmt
  | ReturnStmt
  | IfStmt
  | NewStmt
  | ExprStmt;

export interface Block {
  readonly kind: 'block';
  readonly pos: Pos;
  readonly stmts: Stmt[];
}

export type AssignOp = '=' | '+=' | '-=' | '*=' | '/=';

export interface SetStmt {
  readonly kind: 'set';
  readonly pos: Pos;
  readonly target: Name;
  readonly op: AssignOp;
  readonly opPos: Pos;
  readonly value: Expr;
}

export interface UnsetStmt {
  readonly kind: 'unset';
  readonly pos: Pos;
  readonly target: Name;
}

export interface CallStmt {
  readonly kind: 'call';
  readonly pos: Pos;
  readonly sub: Name;
}

export interface ReturnStmt {
  readonly kind: 'return';
  readonly pos: Pos;
  /** Absent for a bare `return;`. */
  readonly action?: Ident;
  /** `return (synth(404, "x"))` gives two args; `return (vcl(label))` gives one Name. */
  readonly args: Expr[];
}

export interface IfStmt {
  readonly kind: 'if';
  readonly pos: Pos;
  readonly cond: Expr;
  readonly then: Block;
  /** An `else if` / `elseif` / `elsif` / `elif` chain is an IfStmt here. */
  readonly else?: Block | IfStmt;
}

export interface NewStmt {
  readonly kind: 'new';
  readonly pos: Pos;
  readonly name: Name;
  readonly ctor: CallExpr;
}

/** A call used as a statement: `hash_data(...)`, `synthetic(...)`, `std.log(...)`, `obj.m(...)`. */
export interface ExprStmt {
  readonly kind: 'expr';
  readonly pos: Pos;
  readonly expr: CallExpr;
}

// ---------------------------------------------------------------------------------------------
// Expressions

export type Expr =
  | StringLit
  | IntLit
  | RealLit
  | DurationLit
  | BytesLit
  | BlobLit
  | Name
  | CallExpr
  | MethodCall
  | UnaryExpr
  | BinaryExpr
  | ParenExpr;

export interface StringLit {
  readonly kind: 'string';
  readonly pos: Pos;
  /** The text between the quotes; VCL strings have no escapes. */
  readonly value: string;
  /** '"' for "...", '{"' for {"..."}, '"""' for """...""". */
  readonly quote: '"' | '{"' | '"""';
}

export interface IntLit {
  readonly kind: 'int';
  readonly pos: Pos;
  readonly value: number;
  readonly text: string;
}

export interface RealLit {
  readonly kind: 'real';
  readonly pos: Pos;
  readonly value: number;
  readonly text: string;
}

export type DurationUnit = 'ms' | 's' | 'm' | 'h' | 'd' | 'w' | 'y';
export type BytesUnit = 'B' | 'KB' | 'MB' | 'GB' | 'TB';

export interface DurationLit {
  readonly kind: 'duration';
  readonly pos: Pos;
  /** Seconds. */
  readonly value: number;
  readonly text: string;
}

export interface BytesLit {
  readonly kind: 'bytes';
  readonly pos: Pos;
  readonly value: number;
  readonly text: string;
}

/** `:aGVsbG8=:`, a BLOB literal: base64 between colons (added by the parser for Varnish 7.1). */
export interface BlobLit {
  readonly kind: 'blob';
  readonly pos: Pos;
  /** The base64 text between the colons, not decoded. */
  readonly text: string;
}

/** One component of a dotted name; `quoted` for `req.http."x.y"` style header names. */
export interface NamePart {
  readonly text: string;
  readonly quoted: boolean;
  readonly pos: Pos;
}

/**
 * A dotted name as written: `req.url`, `req.http.X-Foo`, `std.log`, `true`, `my_acl`, an ENUM
 * value. The checker decides what it names (variable, backend, ACL, probe, object, sub, ENUM).
 */
export interface Name {
  readonly kind: 'name';
  readonly pos: Pos;
  readonly parts: NamePart[];
  /** The parts joined with '.', quoted parts written bare: `req.http.x.y` for `req.http."x.y"`. */
  readonly text: string;
}

export interface Arg {
  readonly pos: Pos;
  /** `name = value` arguments to VMOD functions. */
  readonly name?: Ident;
  readonly value: Expr;
}

/** `f(args)` where f is a dotted name: builtins, VMOD functions, `obj.method`, `mod.obj`. */
export interface CallExpr {
  readonly kind: 'call';
  readonly pos: Pos;
  readonly callee: Name;
  readonly args: Arg[];
}

/** `expr.method(args)` after a non-name expression: `(req.url).upper()`, `f(x).lower()`. */
export interface MethodCall {
  readonly kind: 'method';
  readonly pos: Pos;
  readonly target: Expr;
  readonly method: Ident;
  readonly args: Arg[];
}

export type UnaryOp = '!' | '-' | '+';

export interface UnaryExpr {
  readonly kind: 'unary';
  readonly pos: Pos;
  readonly op: UnaryOp;
  readonly operand: Expr;
}

export type BinaryOp =
  | '||'
  | '&&'
  | '=='
  | '!='
  | '<'
  | '>'
  | '<='
  | '>='
  | '~'
  | '!~'
  | '+'
  | '-'
  | '*'
  | '/'
  | '%';

export interface BinaryExpr {
  readonly kind: 'binary';
  /** The position of the operator. */
  readonly pos: Pos;
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
}

export interface ParenExpr {
  readonly kind: 'paren';
  readonly pos: Pos;
  readonly inner: Expr;
}
