// The signature half of the .vcc parser: `RET name(ARGS)` and the argument list inside it. Kept
// apart from the stanza walker so each file reads in one sitting.

import { isVclType, type VclType } from '../vcl/spec.ts';
import { type ArgType, isPrivKind, type VmodArg } from './manifest.ts';

export interface SignatureError {
  /** Offset in the signature text, so the caller can name the manifest line. */
  readonly offset: number;
  readonly message: string;
}

/** A piece of the signature text and where it starts in it. */
interface Piece {
  readonly text: string;
  readonly offset: number;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function isIdentifier(s: string): boolean {
  return IDENT.test(s);
}

const OPENERS: Readonly<Record<string, string>> = { '(': ')', '[': ']', '{': '}' };
const CLOSERS = new Set(Object.values(OPENERS));

/**
 * How many brackets of any kind are still open at the end of `text`, skipping string literals:
 * a signature continues over lines until this reaches zero. Strings matter because defaults
 * such as `", "` or `"(x)"` hold commas and parentheses.
 */
export function openBrackets(text: string): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') i = endOfString(text, i);
    else if (c in OPENERS) depth++;
    else if (CLOSERS.has(c)) depth--;
  }
  return depth;
}

/** The index of the closing quote of the string opening at `start` (or the end of the text). */
function endOfString(text: string, start: number): number {
  const end = text.indexOf('"', start + 1);
  return end < 0 ? text.length : end;
}

/** Splits on commas that are outside brackets and strings. */
export function splitTopLevel(text: string, offset: number): Piece[] {
  const pieces: Piece[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') i = endOfString(text, i);
    else if (c in OPENERS) depth++;
    else if (CLOSERS.has(c)) depth--;
    else if (c === ',' && depth === 0) {
      pieces.push({ text: text.slice(start, i), offset: offset + start });
      start = i + 1;
    }
  }
  pieces.push({ text: text.slice(start), offset: offset + start });
  return pieces;
}

/** A piece with its surrounding white space removed and its offset moved to match. */
function trimPiece(p: Piece): Piece {
  const lead = p.text.length - p.text.trimStart().length;
  return { text: p.text.trim(), offset: p.offset + lead };
}

export interface ParsedArgs {
  readonly args: VmodArg[];
  readonly errors: SignatureError[];
}

/** Parses the text between the parentheses of a signature; `label` names the entry in messages. */
export function parseArgs(text: string, offset: number, label: string): ParsedArgs {
  const args: VmodArg[] = [];
  const errors: SignatureError[] = [];
  if (text.trim() === '') return { args, errors };
  const seen = new Set<string>();
  for (const raw of splitTopLevel(text, offset)) {
    const piece = trimPiece(raw);
    const fail = (message: string) => errors.push({ offset: piece.offset, message: `${label}: ${message}` });
    const parsed = parseArg(piece.text);
    if (typeof parsed === 'string') {
      fail(parsed);
      continue;
    }
    if (parsed.name !== undefined) {
      if (seen.has(parsed.name)) {
        fail(`duplicate argument name '${parsed.name}'`);
        continue;
      }
      seen.add(parsed.name);
    }
    args.push(parsed);
  }
  return { args, errors };
}

/** One argument, or the message saying what is wrong with it. */
function parseArg(text: string): VmodArg | string {
  if (text === '') return 'empty argument';
  let optional = false;
  if (text.startsWith('[')) {
    if (!text.endsWith(']')) return `bad argument '${text}'`;
    optional = true;
    text = text.slice(1, -1).trim();
  }
  if (isPrivKind(text.split(/\s/)[0])) return parsePriv(text, optional);
  if (/^ENUM\b/.test(text)) return parseEnum(text, optional);
  const m = /^(\w+)([\s\S]*)$/.exec(text);
  if (!m) return `bad argument '${text}'`;
  const type = m[1];
  if (type === 'VOID') return 'VOID is not an argument type';
  if (!isVclType(type)) return `unknown type '${type}'`;
  const tail = parseNameAndDefault(m[2]);
  if (typeof tail === 'string') return tail;
  return { type, optional, ...tail };
}

function parsePriv(text: string, optional: boolean): VmodArg | string {
  const kind = text.split(/\s/)[0];
  if (text !== kind) return `${kind} takes no name or default`;
  if (optional) return `${kind} cannot be optional`;
  return { type: kind as ArgType, optional: false };
}

function parseEnum(text: string, optional: boolean): VmodArg | string {
  const m = /^ENUM\s*\{([^}]*)\}([\s\S]*)$/.exec(text);
  if (!m) return 'ENUM needs its values in { }';
  const enumValues = m[1].split(',').map((v) => v.trim());
  if (enumValues.length === 1 && enumValues[0] === '') return 'ENUM has no values';
  for (const [i, v] of enumValues.entries()) {
    if (!isIdentifier(v)) return `bad ENUM value '${v}'`;
    if (enumValues.indexOf(v) !== i) return `ENUM value '${v}' is listed twice`;
  }
  const tail = parseNameAndDefault(m[2]);
  if (typeof tail === 'string') return tail;
  if (tail.default === undefined) return { type: 'ENUM', optional, enumValues, ...tail };
  // An ENUM default is a bare value; a quoted one is accepted and stored bare.
  const value = tail.default.replace(/^"(.*)"$/, '$1');
  if (!enumValues.includes(value)) {
    return `default '${value}' of ENUM '${tail.name}' is not one of ${enumValues.join(', ')}`;
  }
  return { type: 'ENUM', optional, enumValues, name: tail.name, default: value };
}

/** What follows the type: nothing, `name`, or `name = default`. */
function parseNameAndDefault(rest: string): { name?: string; default?: string } | string {
  const m = /^\s*(\w*)\s*(?:=([\s\S]*))?$/.exec(rest);
  if (!m) return `bad argument text '${rest.trim()}'`;
  const name = m[1];
  if (name === '') {
    if (m[2] !== undefined) return 'a default needs an argument name';
    return {};
  }
  if (!isIdentifier(name)) return `bad argument name '${name}'`;
  if (m[2] === undefined) return { name };
  const value = m[2].trim();
  if (value === '') return `argument '${name}' has an empty default`;
  return { name, default: value };
}

/** `RET name(ARGS)` split into its parts; `dot` asks for a method's `.name`. */
export interface SignatureParts {
  readonly ret?: string;
  readonly name: string;
  readonly argsText: string;
  /** Where argsText starts in the signature text. */
  readonly argsOffset: number;
}

export function splitSignature(text: string, form: 'function' | 'method' | 'object'): SignatureParts | undefined {
  const pattern = {
    function: /^\s*(\w+)\s+(\w+)\s*\(/,
    method: /^\s*(\w+)\s+\.(\w+)\s*\(/,
    object: /^\s*()(\w+)\s*\(/,
  }[form];
  const m = pattern.exec(text);
  if (!m || !text.trimEnd().endsWith(')')) return undefined;
  const argsOffset = m[0].length;
  const argsText = text.trimEnd().slice(argsOffset, -1);
  // The parentheses must close at the very end: `f(a) b` or `f(a)(b)` are not signatures.
  if (openBrackets(`(${argsText}`) !== 1 || closesEarly(argsText)) return undefined;
  return { ret: m[1] === '' ? undefined : m[1], name: m[2], argsText, argsOffset };
}

/** Whether the bracket depth drops below zero somewhere: `a) (b`. */
function closesEarly(text: string): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') i = endOfString(text, i);
    else if (c in OPENERS) depth++;
    else if (CLOSERS.has(c) && --depth < 0) return true;
  }
  return false;
}

/** A return type: any VCL type (VOID included); PRIV_* and unknown names are refused. */
export function isReturnType(t: string): t is VclType {
  return isVclType(t);
}
