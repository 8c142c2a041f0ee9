// Helpers for the checker's tests: check a VCL text and list its errors as `line:col message`,
// or insist that it checks clean. Every text is checked with builtin.vcl appended, the way
// `shellac check` does it, so a test sees what a user sees.

import { expect } from 'vitest';
import { type CheckResult, type CompileOptions, checkSource } from '../../src/vcl/compile.ts';
import { formatDiagnostics } from '../../src/vcl/diagnostics.ts';
import type { CheckedVcl } from '../../src/vcl/tir.ts';

/** The two lines most cases start with; the case's own text begins on line 3. */
export const HEAD = 'vcl 4.1;\nbackend default { .host = "127.0.0.1"; }\n';

/** A VCL 4.1 text with one backend, whose line 3 is the first line of `body`. */
export function vcl(body: string): string {
  return HEAD + body;
}

/** No file access: includes fail, as they should in a test that names no files. */
const NO_FILES: CompileOptions = {
  exists: () => false,
  readFile: (path: string) => {
    throw new Error(`no file ${path}`);
  },
};

export function check(text: string, opts: CompileOptions = {}, name = 'main.vcl'): CheckResult {
  return checkSource({ name, text }, { ...NO_FILES, ...opts });
}

/** Each diagnostic of a severity as `line:col message` (`-` for no position), in source order. */
export function listed(r: CheckResult, severity: 'error' | 'warning' = 'error'): string[] {
  return r.diagnostics
    .sorted()
    .filter((d) => d.severity === severity)
    .map((d) => `${d.pos ? `${d.pos.line}:${d.pos.col}` : '-'} ${d.message}`);
}

/** The errors of a text that must be refused; the result must then carry no checked program. */
export function errors(text: string, opts: CompileOptions = {}): string[] {
  const r = check(text, opts);
  expect(r.checked).toBeUndefined();
  return listed(r);
}

/** Checks a text that must be accepted, and returns what code generation would get. */
export function clean(text: string, opts: CompileOptions = {}): CheckedVcl {
  const r = check(text, opts);
  expect(formatDiagnostics(r.diagnostics.sorted().filter((d) => d.severity === 'error'), r.sources)).toBe('');
  expect(r.checked).toBeDefined();
  return r.checked as CheckedVcl;
}
