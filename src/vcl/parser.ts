// The VCL grammar, as Varnish 7.1 accepts it, and nothing else: no semantics, no AST. The CST it
// builds is turned into the AST by cst-to-ast.ts. Includes are already spliced into the token
// stream and the `vcl 4.x;` lines removed (source.ts), so the grammar starts at the declarations.
//
// Error recovery is ours, not Chevrotain's: parse.ts parses one top-level declaration at a time
// and, after an error, resumes at the next declaration keyword (parseDecls there).

import { CstParser, EOF, tokenMatcher } from 'chevrotain';
import { VclErrorMessages } from './parse-errors.ts';
import * as T from './tokens.ts';

/**
 * Words taken as the unit of a number even after a space: the units of DURATION literals and
 * Varnish's BYTES units ([KMGTP][B]); the wrong case of a unit is then reported as a bad unit.
 */
const UNIT = /^(?:ms|s|m|h|d|w|y|[kmgtp]b?|b)$/i;

export class VclParser extends CstParser {
  constructor() {
    super(T.ALL_TOKENS, {
      recoveryEnabled: false,
      maxLookahead: 3,
      errorMessageProvider: VclErrorMessages,
    });
    this.performSelfAnalysis();
  }

  // -------------------------------------------------------------------------------------------
  // Declarations

  topDecl = this.RULE('topDecl', () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.importDecl) },
      { ALT: () => this.SUBRULE(this.backendDecl) },
      { ALT: () => this.SUBRULE(this.probeDecl) },
      { ALT: () => this.SUBRULE(this.aclDecl) },
      { ALT: () => this.SUBRULE(this.subDecl) },
    ]);
  });

  importDecl = this.RULE('importDecl', () => {
    this.CONSUME(T.KwImport);
    this.CONSUME(T.Ident, { LABEL: 'module' });
    this.OPTION(() => {
      this.CONSUME(T.KwAs);
      this.CONSUME2(T.Ident, { LABEL: 'alias' });
    });
    this.OPTION2(() => {
      this.CONSUME(T.KwFrom);
      this.CONSUME(T.StringTok, { LABEL: 'from' });
    });
    this.CONSUME(T.Semi);
  });

  backendDecl = this.RULE('backendDecl', () => {
    this.CONSUME(T.KwBackend);
    this.CONSUME(T.Ident, { LABEL: 'name' });
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.KwNone);
          this.CONSUME(T.Semi);
        },
      },
      { ALT: () => this.SUBRULE(this.fieldList) },
    ]);
  });

  probeDecl = this.RULE('probeDecl', () => {
    this.CONSUME(T.KwProbe);
    this.CONSUME(T.Ident, { LABEL: 'name' });
    this.SUBRULE(this.fieldList);
  });

  /** `{ .name = value; ... }` of a backend or a probe; `.probe = { ... }` nests one. */
  fieldList = this.RULE('fieldList', () => {
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.field));
    this.CONSUME(T.RCurly);
  });

  field = this.RULE('field', () => {
    this.CONSUME(T.Dot);
    this.CONSUME(T.Ident, { LABEL: 'name' });
    this.CONSUME(T.Eq);
    this.OR([
      // An inline probe ends with its '}': Varnish refuses a ';' after it.
      { ALT: () => this.SUBRULE(this.fieldList) },
      {
        ALT: () => {
          this.SUBRULE(this.expression);
          // `.request = "GET / HTTP/1.1" "Host: x";`: the lines of a probe request.
          this.MANY(() => this.CONSUME(T.StringTok, { LABEL: 'more' }));
          this.CONSUME(T.Semi);
        },
      },
    ]);
  });

  aclDecl = this.RULE('aclDecl', () => {
    this.CONSUME(T.KwAcl);
    this.CONSUME(T.Ident, { LABEL: 'name' });
    this.MANY(() => {
      this.CONSUME(T.AddOp, { LABEL: 'flagSign' });
      this.CONSUME2(T.Ident, { LABEL: 'flag' });
    });
    this.CONSUME(T.LCurly);
    this.MANY2(() => this.SUBRULE(this.aclEntry));
    this.CONSUME(T.RCurly);
  });

  /** `"host";`, `"1.2.3.0"/24;`, `! "10.0.0.1";`, `("maybe-host"/24);` */
  aclEntry = this.RULE('aclEntry', () => {
    this.OPTION(() => this.CONSUME(T.Bang));
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.aclAddress);
          this.CONSUME(T.RParen);
        },
      },
      { ALT: () => this.SUBRULE2(this.aclAddress) },
    ]);
    this.CONSUME(T.Semi);
  });

  aclAddress = this.RULE('aclAddress', () => {
    this.CONSUME(T.StringTok, { LABEL: 'address' });
    this.OPTION(() => {
      this.CONSUME(T.Slash);
      this.CONSUME(T.NumberTok, { LABEL: 'mask' });
    });
  });

  subDecl = this.RULE('subDecl', () => {
    this.CONSUME(T.KwSub);
    this.CONSUME(T.Ident, { LABEL: 'name' });
    this.SUBRULE(this.block);
  });

  // -------------------------------------------------------------------------------------------
  // Statements

  block = this.RULE('block', () => {
    this.CONSUME(T.LCurly);
    this.MANY(() => this.SUBRULE(this.statement));
    this.CONSUME(T.RCurly);
  });

  statement = this.RULE('statement', () => {
    // Keywords are Idents too, so a call statement could start with any of them: the first token
    // and the order of the alternatives settle it, keywords first. Deciding on one token also
    // makes `call 0;` fail inside callStmt ("Expected ID got '0'") rather than here.
    this.OR({
      IGNORE_AMBIGUITIES: true,
      MAX_LOOKAHEAD: 1,
      DEF: [
        { ALT: () => this.SUBRULE(this.block) },
        { ALT: () => this.SUBRULE(this.setStmt) },
        { ALT: () => this.SUBRULE(this.unsetStmt) },
        { ALT: () => this.SUBRULE(this.callStmt) },
        { ALT: () => this.SUBRULE(this.returnStmt) },
        { ALT: () => this.SUBRULE(this.ifStmt) },
        { ALT: () => this.SUBRULE(this.newStmt) },
        { ALT: () => this.SUBRULE(this.exprStmt) },
      ],
    });
  });

  setStmt = this.RULE('setStmt', () => {
    this.CONSUME(T.KwSet);
    this.SUBRULE(this.name);
    this.CONSUME(T.AssignOp);
    this.SUBRULE(this.expression);
    this.CONSUME(T.Semi);
  });

  unsetStmt = this.RULE('unsetStmt', () => {
    this.CONSUME(T.KwUnset);
    this.SUBRULE(this.name);
    this.CONSUME(T.Semi);
  });

  callStmt = this.RULE('callStmt', () => {
    this.CONSUME(T.KwCall);
    this.SUBRULE(this.name);
    this.CONSUME(T.Semi);
  });

  /** `return;`, `return (hash);`, `return (synth(404, "x"));` */
  returnStmt = this.RULE('returnStmt', () => {
    this.CONSUME(T.KwReturn);
    this.OR([
      { ALT: () => this.CONSUME(T.Semi) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.CONSUME(T.Ident, { LABEL: 'action' });
          this.OPTION(() => {
            this.CONSUME2(T.LParen);
            this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.expression) });
            this.CONSUME(T.RParen);
          });
          this.CONSUME2(T.RParen);
          this.CONSUME2(T.Semi);
        },
      },
    ]);
  });

  /** `if (c) {..} elseif (c) {..} else if (c) {..} else {..}`: conds and blocks pair up in order. */
  ifStmt = this.RULE('ifStmt', () => {
    this.CONSUME(T.KwIf);
    this.SUBRULE(this.condition);
    this.SUBRULE(this.block);
    this.MANY(() => {
      this.OR([
        { ALT: () => this.CONSUME(T.KwElseif, { LABEL: 'elseIf' }) },
        { ALT: () => this.CONSUME(T.KwElsif, { LABEL: 'elseIf' }) },
        { ALT: () => this.CONSUME(T.KwElif, { LABEL: 'elseIf' }) },
        {
          ALT: () => {
            this.CONSUME(T.KwElse, { LABEL: 'elseIf' });
            this.CONSUME2(T.KwIf);
          },
        },
      ]);
      this.SUBRULE2(this.condition);
      this.SUBRULE2(this.block);
    });
    this.OPTION(() => {
      this.CONSUME2(T.KwElse);
      this.SUBRULE3(this.block);
    });
  });

  condition = this.RULE('condition', () => {
    this.CONSUME(T.LParen);
    this.SUBRULE(this.expression);
    this.CONSUME(T.RParen);
  });

  /** `new name = mod.obj(args);` */
  newStmt = this.RULE('newStmt', () => {
    this.CONSUME(T.KwNew);
    this.SUBRULE(this.name);
    this.CONSUME(T.Eq);
    this.SUBRULE2(this.name, { LABEL: 'ctor' });
    this.SUBRULE(this.args);
    this.CONSUME(T.Semi);
  });

  /** A call for its effect: `hash_data(x);`, `std.log("x");`, `obj.method(x);` */
  exprStmt = this.RULE('exprStmt', () => {
    this.SUBRULE(this.name);
    this.SUBRULE(this.args);
    this.CONSUME(T.Semi);
  });

  // -------------------------------------------------------------------------------------------
  // Expressions: a flat run `operand (op operand)*`; cst-to-ast.ts applies Varnish's precedences
  // (loosest first: `||`, `&&`, `!`, comparisons, `+ -`, `* / %`, unary `- +`). Two rules of
  // Varnish's grammar are kept here because they decide where an expression ends: comparisons
  // do not chain (`a == b == c` stops before the second `==`), and `!` stands only where a
  // boolean operand may start (`a == !b` is an error).

  expression = this.RULE('expression', () => {
    this.SUBRULE(this.operand);
    let comparing = false;
    this.MANY({
      GATE: () => !(comparing && tokenMatcher(this.LA(1), T.CmpOp)),
      DEF: () => {
        const op = this.CONSUME(T.BinaryOp);
        if (tokenMatcher(op, T.CmpOp)) comparing = true;
        else if (op.tokenType === T.OrOr || op.tokenType === T.AndAnd) comparing = false;
        this.SUBRULE2(this.operand);
      },
    });
  });

  /** Prefix operators, then a primary, then method calls on it: `-x`, `!f(y)`, `(a).upper()`. */
  operand = this.RULE('operand', () => {
    this.OPTION({ GATE: () => this.notMayFollow(), DEF: () => this.CONSUME(T.Bang, { LABEL: 'prefix' }) });
    this.MANY(() => this.CONSUME(T.AddOp, { LABEL: 'prefix' }));
    this.OR([
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.expression);
          this.CONSUME(T.RParen);
        },
      },
      { ALT: () => this.CONSUME(T.StringTok) },
      { ALT: () => this.CONSUME(T.BlobTok) },
      {
        ALT: () => {
          this.CONSUME(T.NumberTok);
          // `10s`, `10 s`, `1.5h`, `100KB`; a word stuck to a number is taken as a unit too,
          // so that `10x` is reported as an unknown unit rather than as a missing ';'.
          this.OPTION2({ GATE: () => this.unitFollows(), DEF: () => this.CONSUME(T.Ident, { LABEL: 'unit' }) });
        },
      },
      {
        ALT: () => {
          this.SUBRULE(this.name);
          this.OPTION3(() => this.SUBRULE(this.args, { LABEL: 'callArgs' }));
        },
      },
    ]);
    // Method calls on what is not a name: `(req.url).upper()`, `f(x).lower()`.
    this.MANY2(() => {
      this.CONSUME(T.Dot);
      this.CONSUME2(T.Ident, { LABEL: 'method' });
      this.SUBRULE2(this.args, { LABEL: 'methodArgs' });
    });
  });

  /** `(a, b, key = c)` */
  args = this.RULE('args', () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.arg) });
    this.CONSUME(T.RParen);
  });

  arg = this.RULE('arg', () => {
    this.OPTION(() => {
      this.CONSUME(T.Ident, { LABEL: 'key' });
      this.CONSUME(T.Eq);
    });
    this.SUBRULE(this.expression);
  });

  /**
   * `req.url`, `req.http.X-Foo`, `std.log`; a header name may be quoted as the third part:
   * `req.http."x.y"`. Varnish takes a quoted part nowhere else, so `req."http".x` stops at `req`.
   */
  name = this.RULE('name', () => {
    this.CONSUME(T.Ident, { LABEL: 'part' });
    let parts = 1;
    this.MANY(() => {
      this.CONSUME(T.Dot);
      this.CONSUME2(T.Ident, { LABEL: 'part' });
      parts++;
    });
    this.OPTION({
      GATE: () => parts === 2,
      DEF: () => {
        this.CONSUME2(T.Dot);
        this.CONSUME(T.StringTok, { LABEL: 'quoted' });
      },
    });
  });

  /** `!` may start the operand of `||`, `&&` or the whole expression, not that of `==` or `+`. */
  private notMayFollow(): boolean {
    const prev = this.LA(0);
    return !tokenMatcher(prev, T.BinaryOp) || prev.tokenType === T.OrOr || prev.tokenType === T.AndAnd;
  }

  private unitFollows(): boolean {
    const next = this.LA(1);
    if (next.tokenType !== T.Ident) return false;
    return UNIT.test(next.image) || next.startOffset === this.LA(0).endOffset! + 1;
  }

  // -------------------------------------------------------------------------------------------
  // The driver's view of the token stream (parse.ts parses one declaration at a time).

  /** Set while declarations are parsed one at a time, when input is left after each. */
  oneOfMany = false;

  /**
   * Chevrotain calls this after a rule invoked from outside returns. Its check that all input
   * was consumed makes no sense for one declaration of many, and would cost an exception object
   * per declaration; what remains to do is to drop the end-of-input sentinels it appended.
   */
  onAfterParse(ruleName: string): void {
    if (!this.oneOfMany) {
      (CstParser.prototype as unknown as { onAfterParse(r: string): void }).onAfterParse.call(this, ruleName);
      return;
    }
    const tokens = this.input;
    while (tokens.length > 0 && tokens[tokens.length - 1]!.tokenType === EOF) tokens.pop();
  }

  /** Puts the parser at token `index` of the current input (the next token it reads). */
  seek(index: number): void {
    (this as unknown as { importLexerState(i: number): void }).importLexerState(index - 1);
  }

  /** The index of the next token to read. */
  get position(): number {
    return (this as unknown as { exportLexerState(): number }).exportLexerState() + 1;
  }

  atEnd(): boolean {
    return this.LA(1).tokenType === EOF;
  }
}

/** Built once: Chevrotain's grammar analysis is the expensive part of making a parser. */
export const vclParser = new VclParser();
