// The entry points the rest of the compiler calls: a whole VCL (with its includes) into a
// Program, or one expression (VMOD argument defaults written in manifests) into an Expr.

import { type IRecognitionException, type IToken, tokenMatcher } from 'chevrotain';
import type { Expr, Pos, Program, TopDecl } from './ast.ts';
import { AstBuilder } from './cst-to-ast.ts';
import { Diagnostics, type SourceFile } from './diagnostics.ts';
import { lexFile, tokenPos, type VclToken } from './lexer.ts';
import { vclParser } from './parser.ts';
import { loadSources, nodeHost, type SourceHost, type VclInput } from './source.ts';
import { Dot, Ident, TOP_LEVEL_KEYWORDS } from './tokens.ts';

export type { VclInput } from './source.ts';

export interface ParseOptions {
  /** Directories searched for includes after the including file's own directory. */
  readonly vclPath?: readonly string[];
  /** File access, for tests and for VCL held in memory; Node's file system by default. */
  readonly readFile?: SourceHost['readFile'];
  readonly exists?: SourceHost['exists'];
  readonly readDir?: SourceHost['readDir'];
  /**
   * Sources already loaded (a VCL's, when the builtin VCL is parsed after it): the files read
   * now are appended to this list, and positions index into it.
   */
  readonly sources?: SourceFile[];
}

export interface ParseResult {
  /** Present when there was no error: a complete, syntactically valid program. */
  readonly program?: Program;
  readonly sources: SourceFile[];
  readonly diagnostics: Diagnostics;
}

export function parseVcl(input: VclInput, opts: ParseOptions = {}): ParseResult {
  const diagnostics = new Diagnostics();
  const host: SourceHost = {
    readFile: opts.readFile ?? nodeHost.readFile,
    exists: opts.exists ?? nodeHost.exists,
    readDir: opts.readDir ?? nodeHost.readDir,
  };
  const loaded = loadSources(input, { vclPath: opts.vclPath, host, sources: opts.sources }, diagnostics);
  const decls = parseDecls(loaded.tokens, diagnostics);
  if (diagnostics.hasErrors) return { sources: loaded.sources, diagnostics };
  const program: Program = { version: loaded.version, versionPos: loaded.versionPos, decls };
  return { program, sources: loaded.sources, diagnostics };
}

export interface ExpressionResult {
  readonly expr?: Expr;
  readonly sources: SourceFile[];
  readonly diagnostics: Diagnostics;
}

/** One expression, alone in `text`; positions refer to file 0, named `name`. */
export function parseExpression(text: string, name: string): ExpressionResult {
  const diagnostics = new Diagnostics();
  const sources: SourceFile[] = [{ name, text, version: 41 }];
  const tokens = lexFile(text, 0, diagnostics);
  vclParser.input = tokens;
  const cst = vclParser.expression();
  const errors = vclParser.errors;
  vclParser.input = [];
  for (const e of errors) diagnostics.error(errorPos(e, tokens, 0), e.message);
  if (diagnostics.hasErrors) return { sources, diagnostics };
  const expr = new AstBuilder(diagnostics).expression(cst.children);
  return diagnostics.hasErrors ? { sources, diagnostics } : { expr, sources, diagnostics };
}

/**
 * Parses the declarations one at a time. After a syntax error the rest of that declaration is
 * skipped and parsing resumes at the next one, so independent errors are all reported at once.
 */
function parseDecls(tokens: VclToken[], diagnostics: Diagnostics): TopDecl[] {
  const p = vclParser;
  const builder = new AstBuilder(diagnostics);
  const decls: TopDecl[] = [];
  // What is reported so far comes from reading and lexing the files.
  const lexErrors = diagnostics.list.map((d) => d.pos).filter((pos) => pos !== undefined);
  p.input = tokens;
  p.oneOfMany = true;
  while (!p.atEnd()) {
    const start = p.position;
    const cst = p.topDecl();
    // Chevrotain copies its error list on each read: read it once.
    const errors = p.errors;
    if (errors.length === 0) {
      decls.push(builder.topDecl(cst));
      continue;
    }
    p.errors = [];
    const e = errors[0]!;
    const pos = errorPos(e, tokens, 0);
    if (!follows(lexErrors, tokens[start]!, pos)) diagnostics.error(pos, e.message);
    const next = resumeIndex(tokens, start, tokens.indexOf(e.token as VclToken, start));
    if (next < 0) break;
    p.seek(next);
  }
  p.oneOfMany = false;
  p.input = [];
  return decls;
}

/**
 * Where to resume after an error: the next declaration keyword that starts a declaration (not
 * `req.http.sub`, not `sub;`). It may come just before the token in error, as when a missing '}'
 * makes `sub b {` read as a call of `sub`.
 */
function resumeIndex(tokens: VclToken[], start: number, errorAt: number): number {
  if (errorAt < 0) return -1;
  for (let j = Math.max(start + 1, errorAt - 1); j < tokens.length - 1; j++) {
    const t = tokens[j]!;
    if (!TOP_LEVEL_KEYWORDS.includes(t.tokenType)) continue;
    if (tokens[j - 1]?.tokenType === Dot) continue;
    if (tokenMatcher(tokens[j + 1]!, Ident)) return j;
  }
  return -1;
}

/**
 * Whether a lexical error lies between a declaration's first token and a syntax error in it:
 * then the syntax error is most likely its consequence (an unterminated string swallowed the
 * ';'), and only the lexical error is worth reporting.
 */
function follows(lexErrors: readonly Pos[], first: VclToken, error: Pos): boolean {
  return lexErrors.some(
    (l) => l.file === first.file && l.file === error.file && l.offset >= first.startOffset && l.offset < error.offset,
  );
}

/** The position of an error's token; at the end of input, just after the last token. */
function errorPos(e: IRecognitionException, tokens: VclToken[], file: number): Pos {
  const t = e.token as IToken & { file?: number };
  if (t.file !== undefined) return tokenPos(t as VclToken);
  const last = tokens[tokens.length - 1];
  if (last === undefined) return { file, line: 1, col: 1, offset: 0, length: 0 };
  return {
    file: last.file,
    line: last.endLine!,
    col: last.endColumn! + 1,
    offset: last.endOffset! + 1,
    length: 0,
  };
}
