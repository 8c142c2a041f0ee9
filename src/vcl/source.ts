// Loading VCL sources and splicing includes into one token stream. Varnish resolves
// `include "file";` before parsing, so an include may stand anywhere (also inside a sub body):
// here it is replaced by the tokens of the file it names. Each file's leading `vcl 4.x;` line is
// read and removed here too, so the grammar never sees it.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { Pos } from './ast.ts';
import type { Diagnostics, SourceFile } from './diagnostics.ts';
import { showToken } from './parse-errors.ts';
import { lexFile, stringValue, tokenPos, type VclToken } from './lexer.ts';
import { Dot, KwInclude, KwVcl, NumberTok, Plus, Semi, StringTok } from './tokens.ts';
import { tokenMatcher } from 'chevrotain';

/** A path to read, or the text of a VCL given inline (`vcl.inline`, tests). */
export type VclInput = string | { readonly name: string; readonly text: string };

/** How sources are read; tests inject an in-memory file system. */
export interface SourceHost {
  /** Throws when the file cannot be read. */
  readFile(path: string): string;
  exists(path: string): boolean;
  /** The names in a directory, for `include +glob`; throws when it is not one. */
  readDir(path: string): string[];
}

export const nodeHost: SourceHost = {
  readFile: (path) => readFileSync(path, 'utf8'),
  exists: (path) => existsSync(path),
  readDir: (path) => readdirSync(path),
};

export interface LoadOptions {
  /** Directories searched for includes after the including file's own directory. */
  readonly vclPath?: readonly string[];
  readonly host?: SourceHost;
  /** A list to append the files to, e.g. a VCL's, for the builtin VCL compiled after it. */
  readonly sources?: SourceFile[];
}

export interface LoadedSources {
  readonly tokens: VclToken[];
  readonly sources: SourceFile[];
  /** The top file's syntax version: 40 or 41 (41 when the line is missing, after an error). */
  readonly version: number;
  readonly versionPos: Pos;
}

const VERSIONS: Readonly<Record<string, number>> = { '4.0': 40, '4.1': 41 };
const versionText = (v: number) => `${Math.floor(v / 10)}.${v % 10}`;

interface ChainLink {
  readonly key: string;
  readonly name: string;
}

/** The tokens of the top file with every include replaced by the tokens of what it names. */
export function loadSources(input: VclInput, opts: LoadOptions, diagnostics: Diagnostics): LoadedSources {
  const loader = new SourceLoader(opts, diagnostics);
  return loader.load(input);
}

class SourceLoader {
  readonly sources: SourceFile[];
  readonly out: VclToken[] = [];
  readonly host: SourceHost;
  readonly vclPath: readonly string[];
  readonly d: Diagnostics;
  topVersion = 41;

  constructor(opts: LoadOptions, diagnostics: Diagnostics) {
    this.sources = opts.sources ?? [];
    this.host = opts.host ?? nodeHost;
    this.vclPath = opts.vclPath ?? [];
    this.d = diagnostics;
  }

  load(input: VclInput): LoadedSources {
    const name = typeof input === 'string' ? input : input.name;
    const file = this.sources.length;
    const nowhere = { file, line: 1, col: 1, offset: 0, length: 0 };
    let text: string;
    try {
      text = typeof input === 'string' ? this.host.readFile(input) : input.text;
    } catch (e) {
      this.d.error(undefined, `Cannot read VCL file '${name}': ${(e as Error).message}`);
      return { tokens: [], sources: this.sources, version: 41, versionPos: nowhere };
    }
    const top: SourceFile = { name, text, version: 41 };
    this.sources.push(top);
    const tokens = lexFile(text, file, this.d);
    const line = readVersionLine(tokens, file, this.d);
    if (!line.present) {
      const pos = tokens[0] ? tokenPos(tokens[0]) : nowhere;
      this.d.error(pos, "VCL version declaration missing: the file must start with 'vcl 4.0;' or 'vcl 4.1;'");
    }
    this.topVersion = line.version ?? 41;
    top.version = this.topVersion;
    this.expand(tokens, line.skip, [{ key: resolve(name), name }]);
    return { tokens: this.out, sources: this.sources, version: this.topVersion, versionPos: line.pos };
  }

  /** Copies a file's tokens to the output from `start`, splicing in what includes name. */
  private expand(tokens: VclToken[], start: number, chain: readonly ChainLink[]): void {
    for (let i = start; i < tokens.length; i++) {
      const t = tokens[i]!;
      // `vcl N.N;` may come again later in a file (Varnish takes it as a top-level
      // declaration); it must name a version no higher than the top file's.
      if (t.tokenType === KwVcl && tokens[i + 1]?.tokenType === NumberTok && tokens[i + 2]?.tokenType === Semi && tokens[i - 1]?.tokenType !== Dot) {
        const line = readVersionLine(tokens.slice(i, i + 3), t.file, this.d);
        if (line.version !== undefined && line.version > this.topVersion) {
          this.d.error(line.pos, `VCL version ${versionText(line.version)} higher than the top level version ${versionText(this.topVersion)}`);
        }
        i += 2;
        continue;
      }
      // `req.http.include` is a header, not a directive.
      if (t.tokenType !== KwInclude || tokens[i - 1]?.tokenType === Dot) {
        this.out.push(t);
        continue;
      }
      i = this.include(tokens, i, chain) - 1;
    }
  }

  /** Handles the directive at `at`; returns the index of the first token after it. */
  private include(tokens: VclToken[], at: number, chain: readonly ChainLink[]): number {
    const kw = tokens[at]!;
    let i = at + 1;
    let glob = false;
    if (tokens[i]?.tokenType === Plus) {
      const flag = tokens[i + 1];
      if (flag?.image !== 'glob') {
        this.d.error(tokenPos(flag ?? tokens[i]!), `Unknown include flag '+${flag?.image ?? ''}'`);
        return skipPastSemi(tokens, i);
      }
      glob = true;
      i += 2;
    }
    const str = tokens[i];
    if (!str || !tokenMatcher(str, StringTok)) {
      this.d.error(tokenPos(str ?? kw), 'include not followed by a string constant');
      return skipPastSemi(tokens, i);
    }
    i++;
    if (tokens[i]?.tokenType === Semi) i++;
    else this.d.error(tokenPos(tokens[i] ?? str), `Expected ';' got ${tokens[i] ? showToken(tokens[i]!) : 'EOF'}`);

    const spec = stringValue(str.image).value;
    const paths = glob ? this.resolveGlob(spec, kw, str) : this.resolvePath(spec, kw);
    for (const path of paths) this.includeFile(path, kw, chain);
    return i;
  }

  /** Where to look for a relative name: the including file's directory, then vcl_path. */
  private searchDirs(kw: VclToken): string[] {
    const dirs = [dirname(this.sources[kw.file]!.name), ...this.vclPath];
    return [...new Set(dirs)];
  }

  private resolvePath(spec: string, kw: VclToken): string[] {
    const candidates = isAbsolute(spec) ? [spec] : [...new Set(this.searchDirs(kw).map((d) => join(d, spec)))];
    const found = candidates.find((p) => this.host.exists(p));
    if (found !== undefined) return [found];
    this.d.error(tokenPos(kw), `Cannot find include file '${spec}' (searched: ${candidates.join(', ')})`);
    return [];
  }

  /** `include +glob "dir/*.vcl";`: the files matching in the first place that has any, sorted. */
  private resolveGlob(pattern: string, kw: VclToken, str: VclToken): string[] {
    const bases = isAbsolute(pattern) ? [''] : this.searchDirs(kw);
    for (const base of bases) {
      const found = globFiles(this.host, base, pattern);
      if (found.length > 0) return found.sort();
    }
    const searched = isAbsolute(pattern) ? '' : ` (searched: ${bases.join(', ')})`;
    this.d.error(tokenPos(str), `Include glob '${pattern}' matched no files${searched}`);
    return [];
  }

  private includeFile(path: string, kw: VclToken, chain: readonly ChainLink[]): void {
    const key = resolve(path);
    const seen = chain.findIndex((link) => link.key === key);
    if (seen >= 0) {
      const names = [...chain.slice(seen).map((link) => link.name), path];
      this.d.error(tokenPos(kw), `Include cycle: ${names.join(' -> ')}`);
      return;
    }
    let text: string;
    try {
      text = this.host.readFile(path);
    } catch (e) {
      this.d.error(tokenPos(kw), `Cannot read include file '${path}': ${(e as Error).message}`);
      return;
    }
    const file = this.sources.length;
    const includer = this.sources[kw.file]!;
    this.sources.push({ name: path, text, includedFrom: tokenPos(kw), version: includer.version });
    const tokens = lexFile(text, file, this.d);
    const line = readVersionLine(tokens, file, this.d);
    if (line.version !== undefined) {
      this.sources[file]!.version = line.version;
      if (line.version > this.topVersion) {
        const msg = `VCL version ${versionText(line.version)} higher than the top level version ${versionText(this.topVersion)}`;
        this.d.error(line.pos, msg);
      }
    }
    this.expand(tokens, line.skip, [...chain, { key, name: path }]);
  }
}

interface VersionLine {
  /** Whether the file starts with the word `vcl`, right or wrong after it. */
  readonly present: boolean;
  readonly version?: number;
  readonly pos: Pos;
  /** How many tokens the line takes. */
  readonly skip: number;
}

/** Reads `vcl 4.x;` at the start of a file's tokens. */
function readVersionLine(tokens: VclToken[], file: number, d: Diagnostics): VersionLine {
  const [kw, num, semi] = tokens;
  if (kw?.tokenType !== KwVcl) {
    return { present: false, pos: { file, line: 1, col: 1, offset: 0, length: 0 }, skip: 0 };
  }
  if (num?.tokenType !== NumberTok) {
    const got = num ? showToken(num) : 'EOF';
    d.error(tokenPos(num ?? kw), `Expected 'vcl N.N;' got ${got}`);
    return { present: true, pos: tokenPos(kw), skip: num?.tokenType === Semi ? 2 : 1 };
  }
  const last = semi?.tokenType === Semi ? semi : num;
  const pos = { ...tokenPos(kw), length: last.endOffset! - kw.startOffset + 1 };
  const head = { ...pos, length: num.endOffset! - kw.startOffset + 1 };
  const version = checkVersion(num, head, d);
  if (semi?.tokenType !== Semi) {
    d.error(head, "Expected 'vcl N.N;' found no semi-colon");
    return { present: true, version, pos, skip: 2 };
  }
  return { present: true, version, pos, skip: 3 };
}

/** `4.1` is 41; `4.01` or `04.1` are refused as Varnish does, and so are versions it lacks. */
function checkVersion(num: VclToken, head: Pos, d: Diagnostics): number | undefined {
  const m = /^(\d+)\.(\d+)$/.exec(num.image);
  if (m === null) {
    d.error(tokenPos(num), `Expected 'vcl N.N;' got ${showToken(num)}`);
    return undefined;
  }
  if (`${Number(m[1])}.${Number(m[2])}` !== num.image) {
    d.error(head, "Don't play silly buggers with VCL version numbers");
    return undefined;
  }
  const version = VERSIONS[num.image];
  if (version === undefined) d.error(head, `VCL version ${num.image} not supported.`);
  return version;
}

function skipPastSemi(tokens: VclToken[], from: number): number {
  let i = from;
  while (i < tokens.length && tokens[i]!.tokenType !== Semi) i++;
  return Math.min(i + 1, tokens.length);
}

/** The files under `base` matching a glob pattern of `*`, `?` and `[...]` per path segment. */
function globFiles(host: SourceHost, base: string, pattern: string): string[] {
  const segments = pattern.split('/');
  let paths = [pattern.startsWith('/') ? '/' : base];
  if (pattern.startsWith('/')) segments.shift();
  for (const seg of segments) {
    if (seg === '') continue;
    if (!/[*?[]/.test(seg)) {
      paths = paths.map((p) => join(p, seg));
      continue;
    }
    const re = globSegment(seg);
    const next: string[] = [];
    for (const p of paths) {
      let names: string[];
      try {
        names = host.readDir(p === '' ? '.' : p);
      } catch {
        continue;
      }
      for (const n of names) if (re.test(n) && (seg[0] === '.' || n[0] !== '.')) next.push(join(p, n));
    }
    paths = next;
  }
  return paths.filter((p) => host.exists(p));
}

function globSegment(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = seg.slice(i + 1, end);
        re += `[${body[0] === '!' ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}
