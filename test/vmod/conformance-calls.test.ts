// Checks the shipped manifests against real VCL: every call of an imported VMOD's function,
// constructor or object method in the accepted conformance files must name an entry that
// exists and pass a number of arguments (and argument names) that its signature admits.

import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { VmodArg, VmodManifest } from '../../src/vmod/manifest.ts';
import { isPrivKind } from '../../src/vmod/manifest.ts';
import { loadManifest } from '../../src/vmod/registry.ts';

const ACCEPT_DIR = resolve(import.meta.dirname, '../../../shared/conformance/vcl/accept');

/** The VCL with comments removed and every string literal replaced by `""`. */
function stripCommentsAndStrings(vcl: string): string {
  let out = '';
  let i = 0;
  const skipTo = (end: string) => {
    const at = vcl.indexOf(end, i);
    i = at < 0 ? vcl.length : at + end.length;
  };
  while (i < vcl.length) {
    const rest2 = vcl.slice(i, i + 2);
    if (vcl[i] === '#' || rest2 === '//') {
      // Stop at the newline, which stays: it separates what follows.
      const nl = vcl.indexOf('\n', i);
      i = nl < 0 ? vcl.length : nl;
    } else if (rest2 === '/*') skipTo('*/');
    else if (rest2 === '{"') {
      i += 2;
      skipTo('"}');
      out += '""';
    } else if (vcl.startsWith('"""', i)) {
      i += 3;
      skipTo('"""');
      out += '""';
    } else if (vcl[i] === '"') {
      i += 1;
      skipTo('"');
      out += '""';
    } else out += vcl[i++];
  }
  return out;
}

/** The top-level arguments of the call whose `(` is at `open`, as trimmed source texts. */
function callArguments(code: string, open: number): string[] {
  const args: string[] = [];
  let depth = 0;
  let start = open + 1;
  for (let i = open; i < code.length; i++) {
    const c = code[i];
    if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') {
      if (--depth === 0) {
        const last = code.slice(start, i).trim();
        if (last !== '' || args.length > 0) args.push(last);
        return args;
      }
    } else if (c === ',' && depth === 1) {
      args.push(code.slice(start, i).trim());
      start = i + 1;
    }
  }
  throw new Error(`unclosed call at ${open}`);
}

/** Why a call with these arguments does not fit the signature, or undefined when it does. */
function misfit(params: readonly VmodArg[], args: string[]): string | undefined {
  const visible = params.filter((p) => !isPrivKind(p.type));
  const given = new Set<number>();
  for (const [i, arg] of args.entries()) {
    const named = /^(\w+)\s*=(?!=)/.exec(arg);
    const index = named ? visible.findIndex((p) => p.name === named[1]) : i;
    if (index < 0) return `no argument named '${named![1]}'`;
    if (index >= visible.length) return `${args.length} arguments, at most ${visible.length}`;
    given.add(index);
  }
  const missing = visible.findIndex((p, i) => !p.optional && p.default === undefined && !given.has(i));
  return missing < 0 ? undefined : `argument ${missing + 1} (${visible[missing].name ?? visible[missing].type}) missing`;
}

interface Call {
  readonly file: string;
  readonly text: string;
  readonly problem?: string;
}

/** Every VMOD call in one file, each with what is wrong with it. */
function checkFile(file: string, load: (name: string) => VmodManifest): Call[] {
  const code = stripCommentsAndStrings(readFileSync(file, 'utf8'));
  const modules = new Map<string, VmodManifest>();
  for (const m of code.matchAll(/\bimport\s+(\w+)(?:\s+as\s+(\w+))?/g)) modules.set(m[2] ?? m[1], load(m[1]));
  // `new x = mod.obj(...)`: x's methods are the object's.
  const objects = new Map<string, { mod: VmodManifest; obj: string }>();
  for (const m of code.matchAll(/\bnew\s+(\w+)\s*=\s*(\w+)\.(\w+)\s*\(/g)) {
    const mod = modules.get(m[2]);
    if (mod) objects.set(m[1], { mod, obj: m[3] });
  }
  const calls: Call[] = [];
  for (const m of code.matchAll(/\b(\w+)\.(\w+)\s*\(/g)) {
    const [whole, head, member] = m;
    const args = callArguments(code, m.index + whole.length - 1);
    const text = `${head}.${member}(${args.join(', ')})`;
    const mod = modules.get(head);
    const inst = objects.get(head);
    if (mod) {
      const target = mod.aliases.get(member) ?? member;
      const params = mod.functions.get(target)?.args ?? mod.objects.get(target)?.args;
      calls.push({ file, text, problem: params ? misfit(params, args) : `${mod.name} has no '${member}'` });
    } else if (inst) {
      const method = inst.mod.objects.get(inst.obj)?.methods.get(member);
      const problem = method ? misfit(method.args, args) : `${inst.mod.name}.${inst.obj} has no method '${member}'`;
      calls.push({ file, text, problem });
    }
  }
  return calls;
}

function loadOrThrow(name: string): VmodManifest {
  const result = loadManifest(name);
  if ('error' in result) throw new Error(result.error);
  return result.manifest;
}

describe('VMOD calls in the accepted conformance VCL', () => {
  const files = readdirSync(ACCEPT_DIR).map((d) => join(ACCEPT_DIR, d, 'main.vcl'));
  const calls = files.flatMap((f) => checkFile(f, loadOrThrow));

  it('finds the calls to check', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
    const byModule = (p: RegExp) => calls.filter((c) => p.test(c.text)).length;
    expect(byModule(/^std\./)).toBeGreaterThanOrEqual(40);
    expect(byModule(/^directors\./)).toBeGreaterThanOrEqual(4);
    expect(byModule(/^cookie\./)).toBeGreaterThanOrEqual(6);
    // The purge.* calls in these files are all commented out; importing purge is still checked.
    expect(calls.filter((c) => /^purge\./.test(c.text))).toEqual([]);
    expect(byModule(/\.add_backend\(/)).toBeGreaterThanOrEqual(6);
  });

  it('name entries that exist, with arguments that fit', () => {
    expect(calls.filter((c) => c.problem !== undefined)).toEqual([]);
  });
});

describe('the call checker itself', () => {
  const std = loadOrThrow('std');
  const params = (name: string) => std.functions.get(name)!.args;

  it('refuses calls that do not fit', () => {
    expect(misfit(params('ip'), [])).toBe('argument 1 (s) missing');
    expect(misfit(params('port'), ['a', 'b'])).toBe('2 arguments, at most 1');
    expect(misfit(params('duration'), ['s', 'nope = 1s'])).toBe("no argument named 'nope'");
    expect(misfit(params('fileread'), ['"/f"'])).toBeUndefined();
    expect(misfit(params('duration'), ['fallback = 1s', 's = req.http.x'])).toBeUndefined();
  });

  it('sees through comments and strings', () => {
    expect(stripCommentsAndStrings('a # std.x(\nb // c\n/* d */e {"f(, "} "g,"')).toBe('a \nb \ne "" ""');
    expect(stripCommentsAndStrings('x # last')).toBe('x ');
    expect(callArguments('f(a, g(b, c), "")', 1)).toEqual(['a', 'g(b, c)', '""']);
    expect(callArguments('f()', 1)).toEqual([]);
  });
});
