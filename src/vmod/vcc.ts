// The .vcc manifest parser. A manifest is a list of stanzas, each a line starting with `$`
// (its signature may run over several lines until its brackets balance), followed by prose
// that documents it. Each stanza keyword has one handler in STANZAS; the walker below only
// cuts the text into stanzas and prose.

import { ALL, BACKEND, BOTH, CLIENT, HOUSEKEEPING, SUB_BIT } from '../vcl/spec.ts';
import type { VmodArg, VmodCommand, VmodCounter, VmodFunction, VmodManifest, VmodObject, VmodParam } from './manifest.ts';
import { isApiVersion, parseCommand, parseCounter, parseParam, parseRequires } from './vcc-platform.ts';
import { isIdentifier, isReturnType, openBrackets, parseArgs, splitSignature } from './vcc-signature.ts';

export interface VccError {
  readonly line: number;
  readonly message: string;
}

export interface VccResult {
  /** Present only when there are no errors. */
  readonly manifest?: VmodManifest;
  readonly errors: VccError[];
}

/** The words `$Restrict` takes, as scope masks. */
const RESTRICT_SCOPES: Readonly<Record<string, number>> = {
  ...SUB_BIT,
  client: CLIENT,
  backend: BACKEND,
  housekeeping: HOUSEKEEPING,
  both: BOTH,
  all: ALL,
};

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type FunctionDraft = Mutable<VmodFunction>;
type ObjectDraft = Mutable<VmodObject> & { methods: Map<string, VmodFunction> };

/** One stanza: the keyword, the text after it (the signature), and where it starts. */
interface Stanza {
  readonly keyword: string;
  readonly text: string;
  readonly line: number;
}

/** Something prose can belong to. */
interface Documented {
  doc: string;
}

/** The parse in progress: what the handlers read and fill. */
interface ParseState {
  module?: Mutable<VmodManifest> & {
    functions: Map<string, VmodFunction>;
    objects: Map<string, VmodObject>;
    aliases: Map<string, string>;
    counters: VmodCounter[];
    params: VmodParam[];
    commands: VmodCommand[];
    requires: string[];
  };
  moduleLine: number;
  /** The latest $Object, which $Method entries belong to. */
  object?: ObjectDraft;
  /** Whether an $Object was seen, even one whose line failed (its methods are then skipped). */
  sawObject: boolean;
  /** The latest $Function or $Method, which $Restrict applies to; undefined after an $Object. */
  callable?: FunctionDraft;
  /** Line of each declared name (`f`, `obj`, `obj.m`), for duplicate messages. */
  declared: Map<string, number>;
  /** Prose lines per documented thing, joined when the parse ends. */
  prose: Map<Documented, string[]>;
  docTarget?: Documented;
  errors: VccError[];
}

export function parseVcc(text: string, file: string): VccResult {
  const state: ParseState = { moduleLine: 0, sawObject: false, declared: new Map(), prose: new Map(), errors: [] };
  walkStanzas(text, state, file);
  if (!state.module && state.errors.length === 0) state.errors.push({ line: 1, message: 'no $Module in the manifest' });
  for (const [target, lines] of state.prose) target.doc = joinProse(lines);
  state.errors.sort((a, b) => a.line - b.line);
  if (state.errors.length > 0 || !state.module) return { errors: state.errors };
  return { manifest: state.module, errors: [] };
}

/** Cuts the text into stanzas and prose lines and hands each to its handler. */
function walkStanzas(text: string, state: ParseState, file: string): void {
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.startsWith('$')) {
      addProse(state, line, i + 1);
      continue;
    }
    const start = i;
    let signature = line;
    while (openBrackets(signature) > 0 && i + 1 < lines.length) signature += `\n${lines[++i]}`;
    const m = /^\$(\w*)([\s\S]*)$/.exec(signature)!;
    const stanza: Stanza = { keyword: m[1], text: m[2], line: start + 1 };
    if (openBrackets(signature) > 0) {
      state.errors.push({ line: stanza.line, message: `$${stanza.keyword}: brackets never close` });
      return;
    }
    runStanza(stanza, state, file);
  }
}

function addProse(state: ParseState, line: string, lineNo: number): void {
  if (!state.module) {
    if (line.trim() !== '' && !line.startsWith('#')) {
      state.errors.push({ line: lineNo, message: 'text before $Module: only # comments may come first' });
    }
    return;
  }
  if (state.docTarget) state.prose.get(state.docTarget)!.push(line);
}

function joinProse(lines: string[]): string {
  return lines.join('\n').replace(/^\s*\n/, '').trimEnd();
}

function runStanza(stanza: Stanza, state: ParseState, file: string): void {
  const handler = Object.hasOwn(STANZAS, stanza.keyword) ? STANZAS[stanza.keyword] : undefined;
  if (!handler) {
    state.errors.push({ line: stanza.line, message: `unknown stanza '$${stanza.keyword}'` });
    return;
  }
  if (stanza.keyword !== 'Module' && !state.module) {
    state.errors.push({ line: stanza.line, message: `$${stanza.keyword} before $Module` });
    return;
  }
  const message = handler(stanza, state, file);
  if (message !== undefined) fail(state, stanza.line, message);
}

/** A stanza's handler; what it returns is an error message for the stanza's own line. */
type StanzaHandler = (stanza: Stanza, state: ParseState, file: string) => string | undefined;

const STANZAS: Readonly<Record<string, StanzaHandler>> = {
  Module: moduleStanza,
  ABI: abiStanza,
  Synopsis: (st, state) => setWord(st, state, 'synopsis', ['auto', 'manual']),
  Event: (st, state) => setWord(st, state, 'event'),
  Prefix: (st, state) => setWord(st, state, 'prefix'),
  Function: functionStanza,
  Object: objectStanza,
  Method: methodStanza,
  Restrict: restrictStanza,
  Alias: aliasStanza,
  Counter: (st, state) => platformEntry(st, state, 'counter', parseCounter(st.text)),
  Param: (st, state) => platformEntry(st, state, 'param', parseParam(st.text, state.module!.name)),
  Command: (st, state) => platformEntry(st, state, 'command', parseCommand(st.text)),
  Requires: requiresStanza,
};

/**
 * Files a `$Counter`, `$Param` or `$Command` under its own kind of name (a counter and a
 * parameter may share one), and points the prose that follows at it.
 */
function platformEntry(
  st: Stanza,
  state: ParseState,
  kind: 'counter' | 'param' | 'command',
  parsed: string | { readonly name: string },
): string | undefined {
  state.callable = undefined;
  state.docTarget = undefined;
  if (typeof parsed === 'string') return parsed;
  if (!declare(state, `${kind} ${parsed.name}`, st.line)) return;
  const entry = { ...parsed, doc: '', line: st.line };
  const mod = state.module!;
  if (kind === 'counter') mod.counters.push(entry as VmodCounter);
  else if (kind === 'param') mod.params.push(entry as VmodParam);
  else mod.commands.push(entry as VmodCommand);
  setDocTarget(state, entry);
}

function requiresStanza(st: Stanza, state: ParseState): string | undefined {
  const r = parseRequires(st.text);
  if (typeof r === 'string') return r;
  const mod = state.module!;
  if (r.module === mod.name) return `$Requires: ${mod.name} cannot require itself`;
  if (mod.requires.includes(r.module)) return `$Requires ${r.module} is given twice`;
  mod.requires.push(r.module);
}

function fail(state: ParseState, line: number, message: string): void {
  state.errors.push({ line, message });
}

function words(text: string): string[] {
  return text.trim().split(/\s+/).filter((w) => w !== '');
}

function moduleStanza(st: Stanza, state: ParseState, file: string): string | undefined {
  if (state.module) return `$Module given twice (first on line ${state.moduleLine})`;
  const m = /^\s*(\w+)\s+(\w+)\s*([\s\S]*)$/.exec(st.text);
  if (!m || !isIdentifier(m[1])) return '$Module needs a name and a manual section';
  const description = m[3].trim().replace(/^"(.*)"$/, '$1');
  state.module = {
    name: m[1],
    section: m[2],
    description,
    abi: 'strict',
    doc: '',
    functions: new Map(),
    objects: new Map(),
    aliases: new Map(),
    counters: [],
    params: [],
    commands: [],
    requires: [],
    file,
  };
  state.moduleLine = st.line;
  setDocTarget(state, state.module);
}

/** `$ABI`, `$Synopsis`, `$Event`, `$Prefix`: one word, from a fixed set where one is given. */
function setWord(
  st: Stanza,
  state: ParseState,
  field: 'abi' | 'synopsis' | 'event' | 'prefix',
  allowed?: readonly string[],
): string | undefined {
  const w = words(st.text);
  const expected = allowed ? allowed.map((a) => `'${a}'`).join(' or ') : 'one word';
  if (w.length !== 1 || (allowed && !allowed.includes(w[0]))) {
    return `$${st.keyword} needs ${expected}, not '${st.text.trim()}'`;
  }
  if (!allowed && !isIdentifier(w[0])) return `$${st.keyword}: '${w[0]}' is not a name`;
  Object.assign(state.module!, { [field]: w[0] });
}

/** `$ABI strict|vrt`, or `$ABI 2.0`: the Shellac VMOD API version the VMOD was written for. */
function abiStanza(st: Stanza, state: ParseState): string | undefined {
  const w = words(st.text);
  if (w.length === 1 && isApiVersion(w[0])) {
    state.module!.apiVersion = w[0];
    return;
  }
  return setWord(st, state, 'abi', ['strict', 'vrt']);
}

function setDocTarget(state: ParseState, target: Documented): void {
  if (!state.prose.has(target)) state.prose.set(target, []);
  state.docTarget = target;
}

/** Records a name; false (with an error) when it is taken. */
function declare(state: ParseState, name: string, line: number): boolean {
  const first = state.declared.get(name);
  if (first !== undefined) {
    fail(state, line, `'${name}' is already declared on line ${first}`);
    return false;
  }
  state.declared.set(name, line);
  return true;
}

/** The offset-to-line mapping of a stanza's signature text. */
function lineAt(st: Stanza, offset: number): number {
  let line = st.line;
  for (let i = 0; i < offset && i < st.text.length; i++) if (st.text[i] === '\n') line++;
  return line;
}

/** Parses `RET name(ARGS)` in one of its three forms; reports and returns undefined on error. */
function parseEntry(
  st: Stanza,
  state: ParseState,
  form: 'function' | 'method' | 'object',
  labelOf: (name: string) => string,
): { name: string; ret: string | undefined; args: VmodArg[] } | undefined {
  const parts = splitSignature(st.text, form);
  if (!parts) {
    const shape = { function: 'RETURN_TYPE name(ARGUMENTS)', method: 'RETURN_TYPE .name(ARGUMENTS)', object: 'name(ARGUMENTS)' };
    fail(state, st.line, `$${st.keyword} needs '${shape[form]}'`);
    return undefined;
  }
  const label = labelOf(parts.name);
  let ok = true;
  if (parts.ret !== undefined && !isReturnType(parts.ret)) {
    fail(state, st.line, `${label}: unknown return type '${parts.ret}'`);
    ok = false;
  }
  const { args, errors } = parseArgs(parts.argsText, parts.argsOffset, label);
  for (const e of errors) fail(state, lineAt(st, e.offset), e.message);
  return ok && errors.length === 0 ? { name: parts.name, ret: parts.ret, args } : undefined;
}

function functionStanza(st: Stanza, state: ParseState): string | undefined {
  state.callable = undefined;
  state.docTarget = undefined;
  const entry = parseEntry(st, state, 'function', (n) => `${n}()`);
  if (!entry || !declare(state, entry.name, st.line)) return;
  const fn = newFunction(entry.name, entry.ret, entry.args, st.line);
  state.module!.functions.set(fn.name, fn);
  state.callable = fn;
  setDocTarget(state, fn);
}

function newFunction(name: string, ret: string | undefined, args: VmodArg[], line: number): FunctionDraft {
  return { name, ret: ret as VmodFunction['ret'], args, doc: '', line };
}

function objectStanza(st: Stanza, state: ParseState): string | undefined {
  state.callable = undefined;
  state.object = undefined;
  state.sawObject = true;
  state.docTarget = undefined;
  // `$Object NULL_OK name(...)`: the flag is blanked out so offsets in the text still hold.
  const flag = /^(\s*)NULL_OK\b/.exec(st.text);
  const text = flag ? `${flag[1]}${' '.repeat(7)}${st.text.slice(flag[0].length)}` : st.text;
  const entry = parseEntry({ ...st, text }, state, 'object', (n) => `${n}()`);
  if (!entry || !declare(state, entry.name, st.line)) return;
  const obj: ObjectDraft = { name: entry.name, args: entry.args, methods: new Map(), doc: '', line: st.line };
  if (flag) obj.nullOk = true;
  state.module!.objects.set(obj.name, obj);
  state.object = obj;
  setDocTarget(state, obj);
}

function methodStanza(st: Stanza, state: ParseState): string | undefined {
  state.callable = undefined;
  state.docTarget = undefined;
  const obj = state.object;
  if (!obj) {
    // An $Object whose own line failed still owns its methods: don't pile up errors for them.
    if (!state.sawObject) fail(state, st.line, '$Method before any $Object');
    return;
  }
  const entry = parseEntry(st, state, 'method', (n) => `${obj.name}.${n}()`);
  if (!entry || !declare(state, `${obj.name}.${entry.name}`, st.line)) return;
  const method = newFunction(entry.name, entry.ret, entry.args, st.line);
  obj.methods.set(method.name, method);
  state.callable = method;
  setDocTarget(state, method);
}

function restrictStanza(st: Stanza, state: ParseState): string | undefined {
  const target = state.callable;
  if (!target) return '$Restrict must follow a $Function or $Method';
  if (target.restrict !== undefined) return `$Restrict given twice for ${target.name}()`;
  const scopes = words(st.text);
  if (scopes.length === 0) return '$Restrict needs at least one scope';
  let mask = 0;
  for (const w of scopes) {
    if (!Object.hasOwn(RESTRICT_SCOPES, w)) return `unknown scope '${w}' in $Restrict`;
    mask |= RESTRICT_SCOPES[w];
  }
  target.restrict = mask;
}

/**
 * `$Alias name target` for functions; `$Alias .name .target` (or `.name obj.target`) for a
 * method of the latest $Object, recorded as `obj.name` → `obj.target`.
 */
function aliasStanza(st: Stanza, state: ParseState): string | undefined {
  const w = words(st.text);
  if (w.length !== 2) return "$Alias needs 'name target'";
  const [alias, target] = w;
  const mod = state.module!;
  if (!alias.startsWith('.')) {
    if (!isIdentifier(alias)) return `$Alias: '${alias}' is not a name`;
    if (!mod.functions.has(target)) return `$Alias target '${target}' is not a declared function`;
    if (declare(state, alias, st.line)) mod.aliases.set(alias, target);
    return;
  }
  const obj = state.object;
  if (!obj) return '$Alias of a method before any $Object';
  const name = alias.slice(1);
  const method = target.startsWith('.') ? target.slice(1) : target.replace(new RegExp(`^${obj.name}\\.`), '');
  if (!isIdentifier(name)) return `$Alias: '${alias}' is not a name`;
  if (!obj.methods.has(method)) return `$Alias target '${target}' is not a method of ${obj.name}`;
  if (declare(state, `${obj.name}.${name}`, st.line)) mod.aliases.set(`${obj.name}.${name}`, `${obj.name}.${method}`);
}
