// The token types of VCL, as the Chevrotain parser knows them. The lexer (lexer.ts) is a
// hand-written scanner that produces Chevrotain tokens of these types: VCL's lexical rules are
// few, and a direct scanner is several times faster than a table of regular expressions, which
// matters when a 10,000-line VCL is checked on every load.
//
// Keywords are lexed as words and retyped through KEYWORDS. Each keyword is in the Ident
// category, so the grammar still accepts it wherever a name is expected: `req.http.set`,
// `req.http.if`, `return (vcl(x))`. (This is the effect of Chevrotain's `longer_alt: Ident` plus
// a category, for one map lookup per word.)
//
// A token's label is how syntax errors name it when it was expected: "Expected ';' got '}'",
// "Expected ID got '0'", as Varnish says.

import { createToken, Lexer, type TokenType } from 'chevrotain';

function token(name: string, label: string, categories: TokenType[] = []): TokenType {
  return createToken({ name, pattern: Lexer.NA, label, categories });
}

export const Ident = token('Ident', 'ID');
/** `[0-9]+` or `[0-9]+.[0-9]+`; a unit after it (`10s`, `10 s`) is a separate Ident. */
export const NumberTok = token('Number', 'CNUM');

// Strings: "..." (one line), {"..."} and """...""" (any lines). No escapes in any of them.
export const StringTok = token('String', 'CSTR');
export const PlainString = token('PlainString', 'CSTR', [StringTok]);
export const LongString = token('LongString', 'CSTR', [StringTok]);
export const TripleString = token('TripleString', 'CSTR', [StringTok]);
/** `:aGVsbG8=:`, a BLOB in base64. */
export const BlobTok = token('Blob', 'CBLOB');

// Operator groups, as categories so the grammar can say "any comparison". The grammar reads an
// expression as a flat run of operands and binary operators (fewer rules per operand, which is
// most of parsing time); cst-to-ast.ts applies the precedences.
export const AssignOp = token('AssignOp', "'='");
export const BinaryOp = token('BinaryOp', 'an operator');
export const CmpOp = token('CmpOp', 'a comparison', [BinaryOp]);
export const AddOp = token('AddOp', "'+' or '-'", [BinaryOp]);
export const MulOp = token('MulOp', "'*', '/' or '%'", [BinaryOp]);

function op(name: string, text: string, ...categories: TokenType[]): TokenType {
  return token(name, `'${text}'`, categories);
}

export const EqEq = op('EqEq', '==', CmpOp);
export const NotEq = op('NotEq', '!=', CmpOp);
export const NotTilde = op('NotTilde', '!~', CmpOp);
export const LtEq = op('LtEq', '<=', CmpOp);
export const GtEq = op('GtEq', '>=', CmpOp);
export const Lt = op('Lt', '<', CmpOp);
export const Gt = op('Gt', '>', CmpOp);
export const Tilde = op('Tilde', '~', CmpOp);
export const AndAnd = op('AndAnd', '&&', BinaryOp);
export const OrOr = op('OrOr', '||', BinaryOp);
export const PlusEq = op('PlusEq', '+=', AssignOp);
export const MinusEq = op('MinusEq', '-=', AssignOp);
export const StarEq = op('StarEq', '*=', AssignOp);
export const SlashEq = op('SlashEq', '/=', AssignOp);
export const Eq = op('Eq', '=', AssignOp);
export const Bang = op('Bang', '!');
export const Plus = op('Plus', '+', AddOp);
export const Minus = op('Minus', '-', AddOp);
export const Star = op('Star', '*', MulOp);
export const Slash = op('Slash', '/', MulOp);
export const Percent = op('Percent', '%', MulOp);
export const LParen = op('LParen', '(');
export const RParen = op('RParen', ')');
export const LCurly = op('LCurly', '{');
export const RCurly = op('RCurly', '}');
export const Semi = op('Semi', ';');
export const Comma = op('Comma', ',');
export const Dot = op('Dot', '.');

/** Operators by their text; the lexer tries two characters before one. */
export const OPERATORS: ReadonlyMap<string, TokenType> = new Map(
  [
    EqEq,
    NotEq,
    NotTilde,
    LtEq,
    GtEq,
    Lt,
    Gt,
    Tilde,
    AndAnd,
    OrOr,
    PlusEq,
    MinusEq,
    StarEq,
    SlashEq,
    Eq,
    Bang,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    LParen,
    RParen,
    LCurly,
    RCurly,
    Semi,
    Comma,
    Dot,
  ].map((t) => [t.LABEL!.slice(1, -1), t]),
);

function keyword(word: string): TokenType {
  const name = `Kw${word[0]!.toUpperCase()}${word.slice(1)}`;
  return token(name, `'${word}'`, [Ident]);
}

export const KwVcl = keyword('vcl');
export const KwImport = keyword('import');
export const KwInclude = keyword('include');
export const KwFrom = keyword('from');
export const KwAs = keyword('as');
export const KwBackend = keyword('backend');
export const KwNone = keyword('none');
export const KwProbe = keyword('probe');
export const KwAcl = keyword('acl');
export const KwSub = keyword('sub');
export const KwSet = keyword('set');
export const KwUnset = keyword('unset');
export const KwCall = keyword('call');
export const KwReturn = keyword('return');
export const KwIf = keyword('if');
export const KwElse = keyword('else');
export const KwElseif = keyword('elseif');
export const KwElsif = keyword('elsif');
export const KwElif = keyword('elif');
export const KwNew = keyword('new');

/** Reserved words by their text; the lexer retypes a word found here. */
export const KEYWORDS: ReadonlyMap<string, TokenType> = new Map([
  // Varnish takes `backend b None;` too (not NONE).
  ['None', KwNone],
  ...[
    KwVcl,
    KwImport,
    KwInclude,
    KwFrom,
    KwAs,
    KwBackend,
    KwNone,
    KwProbe,
    KwAcl,
    KwSub,
    KwSet,
    KwUnset,
    KwCall,
    KwReturn,
    KwIf,
    KwElse,
    KwElseif,
    KwElsif,
    KwElif,
    KwNew,
  ].map((t): [string, TokenType] => [t.LABEL!.slice(1, -1), t]),
]);

/** The tokens the top-level declarations start with: where parsing resumes after an error. */
export const TOP_LEVEL_KEYWORDS: readonly TokenType[] = [KwImport, KwBackend, KwProbe, KwAcl, KwSub];

/** The parser's vocabulary: every token type. */
export const ALL_TOKENS: TokenType[] = [
  Ident,
  NumberTok,
  StringTok,
  PlainString,
  LongString,
  TripleString,
  BlobTok,
  AssignOp,
  BinaryOp,
  CmpOp,
  AddOp,
  MulOp,
  ...OPERATORS.values(),
  ...KEYWORDS.values(),
];
