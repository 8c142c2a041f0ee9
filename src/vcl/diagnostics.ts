// Errors and warnings of the VCL compiler, and how they are shown: file:line:col, the message,
// the source line, and a caret under the offending token, then the include chain if any.

import type { Pos } from './ast.ts';

export interface SourceFile {
  /** The name shown in messages: the path as given, or `<inline>` / a VCL name for inline VCL. */
  readonly name: string;
  readonly text: string;
  /** Where this file was included from, for "included from" notes; absent for the top file. */
  readonly includedFrom?: Pos;
  /** The VCL syntax version in force in this file (40 or 41). */
  version: number;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly severity: Severity;
  readonly message: string;
  /** Absent only for errors that concern no place in the source (e.g. the top file is missing). */
  readonly pos?: Pos;
  /** Extra lines shown after the caret, e.g. where a name was first defined. */
  readonly notes?: readonly { readonly message: string; readonly pos?: Pos }[];
}

/** Collects diagnostics for one compilation; the stages keep going after an error where they can. */
export class Diagnostics {
  readonly list: Diagnostic[] = [];

  error(pos: Pos | undefined, message: string, notes?: Diagnostic['notes']): void {
    this.list.push({ severity: 'error', message, pos, notes });
  }

  warning(pos: Pos | undefined, message: string, notes?: Diagnostic['notes']): void {
    this.list.push({ severity: 'warning', message, pos, notes });
  }

  get errorCount(): number {
    let n = 0;
    for (const d of this.list) if (d.severity === 'error') n++;
    return n;
  }

  get hasErrors(): boolean {
    return this.list.some((d) => d.severity === 'error');
  }

  /** Errors first in source order, then warnings; a stable order makes messages testable. */
  sorted(): Diagnostic[] {
    const rank = (d: Diagnostic) => (d.severity === 'error' ? 0 : 1);
    return [...this.list].sort(
      (a, b) =>
        rank(a) - rank(b) ||
        (a.pos?.file ?? -1) - (b.pos?.file ?? -1) ||
        (a.pos?.offset ?? -1) - (b.pos?.offset ?? -1),
    );
  }
}

/** Thrown by a stage that cannot continue; carries everything found so far. */
export class VclCompileError extends Error {
  readonly diagnostics: Diagnostic[];
  readonly sources: readonly SourceFile[];

  constructor(diagnostics: Diagnostic[], sources: readonly SourceFile[]) {
    super(formatDiagnostics(diagnostics, sources));
    this.name = 'VclCompileError';
    this.diagnostics = diagnostics;
    this.sources = sources;
  }
}

export function positionText(pos: Pos, sources: readonly SourceFile[]): string {
  const file = sources[pos.file]?.name ?? '<unknown>';
  return `${file}:${pos.line}:${pos.col}`;
}

/** The text of one line of a file (1-based), without its line ending. */
export function sourceLine(text: string, line: number): string {
  let start = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return '';
    start = nl + 1;
  }
  let end = text.indexOf('\n', start);
  if (end < 0) end = text.length;
  return text.slice(start, end).replace(/\r$/, '');
}

/**
 * Shows one diagnostic the way compilers people know do it:
 *
 *     main.vcl:12:9: error: Unknown variable 'req.foo'
 *        12 |     set req.foo = "x";
 *           |         ^~~~~~~
 */
export function formatDiagnostic(d: Diagnostic, sources: readonly SourceFile[]): string {
  const out: string[] = [];
  const head = d.pos ? `${positionText(d.pos, sources)}: ` : '';
  out.push(`${head}${d.severity}: ${d.message}`);
  if (d.pos) out.push(...excerpt(d.pos, sources));
  for (const n of d.notes ?? []) {
    out.push(n.pos ? `${positionText(n.pos, sources)}: note: ${n.message}` : `note: ${n.message}`);
    if (n.pos) out.push(...excerpt(n.pos, sources));
  }
  return out.join('\n');
}

export function formatDiagnostics(list: readonly Diagnostic[], sources: readonly SourceFile[]): string {
  return list.map((d) => formatDiagnostic(d, sources)).join('\n');
}

function excerpt(pos: Pos, sources: readonly SourceFile[]): string[] {
  const src = sources[pos.file];
  if (!src) return [];
  const text = sourceLine(src.text, pos.line).replace(/\t/g, ' ');
  const num = String(pos.line);
  const gutter = ' '.repeat(num.length);
  // A multi-line token (a long string) is underlined to the end of its first line.
  const width = Math.max(1, Math.min(pos.length, text.length - pos.col + 1));
  const lines = [
    ` ${num} | ${text}`,
    ` ${gutter} | ${' '.repeat(Math.max(0, pos.col - 1))}^${'~'.repeat(width - 1)}`,
  ];
  let from = src.includedFrom;
  while (from) {
    lines.push(`  included from ${positionText(from, sources)}`);
    from = sources[from.file]?.includedFrom;
  }
  return lines;
}
