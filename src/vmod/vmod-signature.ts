// A manifest entry's signature written back as the manual shows it:
// `BACKEND xshard.backend([ENUM {HASH, URL, KEY, BLOB} by=HASH], [INT key], ...)`. The interface
// generator puts it in doc comments, the manual in its headings and code blocks.

import type { VmodArg } from './manifest.ts';

export interface SignatureSource {
  readonly name: string;
  /** Absent for an object's constructor. */
  readonly ret?: string;
  readonly args: readonly VmodArg[];
}

/** One argument: `[ENUM {A, B} name=A]`, `STRING`, `PRIV_TASK`. */
export function argText(a: VmodArg): string {
  const type = a.enumValues ? `ENUM {${a.enumValues.join(', ')}}` : a.type;
  const text = [type, a.name].filter((p) => p !== undefined).join(' ') + (a.default !== undefined ? `=${a.default}` : '');
  return a.optional ? `[${text}]` : text;
}

/** The arguments VCL sees: PRIV_* holders are passed by the runtime, not written in VCL. */
export function vclArgs(args: readonly VmodArg[]): VmodArg[] {
  return args.filter((a) => !a.type.startsWith('PRIV_'));
}

/** The signature on one line; `prefix` goes before the name (`xshard.`). */
export function signatureText(fn: SignatureSource, prefix: string): string {
  const head = `${fn.ret !== undefined ? `${fn.ret} ` : ''}${prefix}${fn.name}`;
  return `${head}(${vclArgs(fn.args).map(argText).join(', ')})`;
}

/** The signature, one argument per line when the one-line form is longer than `width`. */
export function signatureBlock(fn: SignatureSource, prefix: string, width = 80): string {
  const line = signatureText(fn, prefix);
  const args = vclArgs(fn.args);
  if (line.length <= width || args.length < 2) return line;
  const head = `${fn.ret !== undefined ? `${fn.ret} ` : ''}${prefix}${fn.name}`;
  return `${head}(\n${args.map((a) => `    ${argText(a)}`).join(',\n')}\n)`;
}
