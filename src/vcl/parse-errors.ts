// Syntax error messages in Varnish's words: "Expected ';' got '}'", "Expected ID got '0'". The
// parser hands Chevrotain this provider, so Chevrotain's own phrasing never reaches a user.

import { EOF, type IParserErrorMessageProvider, type IToken, type TokenType } from 'chevrotain';
import { RCurly } from './tokens.ts';

/** How an expected token is named: its label (`';'`, `ID`, `CSTR`, `CNUM`, `'sub'`). */
function describe(t: TokenType): string {
  return t === EOF ? 'EOF' : (t.LABEL ?? t.name);
}

/** How the token found is shown: quoted as written, long strings cut short, `EOF` at the end. */
export function showToken(t: IToken): string {
  if (t.tokenType === EOF) return 'EOF';
  const image = t.image.length > 40 ? `${t.image.slice(0, 37)}...` : t.image;
  return `'${image}'`;
}

/** What a rule says when a '}' was expected: Varnish names what may come before it instead. */
const INSTEAD_OF_CLOSING: Readonly<Record<string, (got: string) => string>> = {
  block: () => "Expected an action, 'if', '{' or '}'",
  fieldList: (got) => `Expected '.' got ${got}`,
  aclDecl: (got) => `Expected CSTR got ${got}`,
};

/** What a rule says when none of its alternatives fits the next token. */
const NO_ALTERNATIVE: Readonly<Record<string, (got: string) => string>> = {
  topDecl: (got) => `Expected one of 'acl', 'sub', 'backend', 'probe' or 'import' got ${got}`,
  backendDecl: (got) => `Expected '{' or 'none' got ${got}`,
  aclEntry: (got) => `Expected CSTR got ${got}`,
  returnStmt: (got) => `Expected '(' got ${got}`,
};

const expectedExpression = (got: string) => `Expected an expression got ${got}`;

export const VclErrorMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, ruleName }) {
    const got = showToken(actual);
    const instead = expected === RCurly ? INSTEAD_OF_CLOSING[ruleName] : undefined;
    return instead ? instead(got) : `Expected ${describe(expected)} got ${got}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant }) {
    return `Expected EOF got ${showToken(firstRedundant)}`;
  },
  buildNoViableAltMessage({ actual, previous, ruleName }) {
    const got = showToken(actual[0]!);
    // Right after a match operator Varnish looks for a regex, and says so.
    if (previous?.image === '~' || previous?.image === '!~') return `Unknown token ${got} when looking for REGEX`;
    return (NO_ALTERNATIVE[ruleName] ?? expectedExpression)(got);
  },
  buildEarlyExitMessage({ actual, ruleName }) {
    const got = showToken(actual[0]!);
    return (NO_ALTERNATIVE[ruleName] ?? expectedExpression)(got);
  },
};
