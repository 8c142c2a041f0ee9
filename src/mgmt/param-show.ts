// How parameters are shown: param.show's one-line list, its long form with docs (-l or one
// name), its JSON (-j), and the Markdown of docs/parameters.md. Layouts follow varnishd so that
// eyes and scripts used to it read them the same way.

import { PARAM_TABLE, type ParamDecl } from '../common/param-table.ts';
import { formatParamValue, type Params, parseParamValue } from '../common/params.ts';

const NAME_WIDTH = 29;
const DOC_INDENT = '        ';
const DOC_WIDTH = 64;

function unitSuffix(d: ParamDecl): string {
  return d.unit ? ` [${d.unit}]` : '';
}

function defaultText(d: ParamDecl): string {
  return formatParamValue(d, parseParamValue(d, d.default));
}

function boundText(d: ParamDecl, bound: string): string {
  return formatParamValue(d, parseParamValue(d, bound));
}

/** `name                          value [unit] (default)`, one line per parameter. */
export function showShort(params: Params, names: readonly string[]): string {
  return names
    .map((n) => {
      const d = params.decl(n)!;
      return `${n.padEnd(NAME_WIDTH)} ${params.text(n)}${unitSuffix(d)}${params.isDefault(n) ? ' (default)' : ''}\n`;
    })
    .join('');
}

/** The long form: value, default when changed, bounds, then the docs wrapped and indented. */
export function showLong(params: Params, names: readonly string[]): string {
  return names.map((n) => longBlock(params, n)).join('\n');
}

function longBlock(params: Params, n: string): string {
  const d = params.decl(n)!;
  const lines: string[] = [n];
  const isDefault = params.isDefault(n);
  lines.push(`${DOC_INDENT}Value is: ${params.text(n)}${unitSuffix(d)}${isDefault ? ' (default)' : ''}`);
  if (!isDefault) lines.push(`${DOC_INDENT}Default is: ${defaultText(d)}`);
  if (d.min !== undefined) lines.push(`${DOC_INDENT}Minimum is: ${boundText(d, d.min)}`);
  if (d.max !== undefined) lines.push(`${DOC_INDENT}Maximum is: ${boundText(d, d.max)}`);
  lines.push('');
  for (const para of docParagraphs(d)) {
    lines.push(...wrap(para, DOC_WIDTH).map((l) => (l ? DOC_INDENT + l : '')));
    lines.push('');
  }
  lines.pop();
  return `${lines.join('\n')}\n`;
}

/** The docs, then the list of switches of a bits parameter, then a note for inert ones. */
function docParagraphs(d: ParamDecl): string[] {
  const paras = d.docs.split(/\n\n+/);
  if (d.bits) {
    const w = Math.max(...Object.keys(d.bits).map((b) => b.length)) + 2;
    const lines: string[] = [];
    for (const [b, text] of Object.entries(d.bits)) {
      wrap(text, Math.max(20, DOC_WIDTH - 3 - w)).forEach((l, i) => {
        lines.push(`   ${(i === 0 ? b : '').padEnd(w)}${l}`);
      });
    }
    paras.push(lines.join('\n'));
  }
  if (d.flags?.includes('inert')) paras.push('Shellac accepts this parameter and ignores it.');
  if (d.flags?.includes('startup')) paras.push('Read once, when the server starts.');
  return paras;
}

/** Greedy word wrap; lines given in the text (the bits list) are kept. */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const given of text.split('\n')) {
    if (given.startsWith('   ')) {
      out.push(given);
      continue;
    }
    let line = '';
    for (const word of given.split(/\s+/).filter(Boolean)) {
      if (line && line.length + 1 + word.length > width) {
        out.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(line);
  }
  return out;
}

/** One parameter as varnishd's param.show -j gives it. */
export function paramJson(params: Params, n: string): Record<string, unknown> {
  const d = params.decl(n)!;
  const v = (params.values as Readonly<Record<string, unknown>>)[n];
  const value = typeof v === 'number' || typeof v === 'boolean' ? v : params.text(n);
  const out: Record<string, unknown> = { name: n, implemented: !d.flags?.includes('inert'), value };
  if (d.unit) out.units = d.unit;
  out.default = defaultText(d);
  if (d.min !== undefined) out.minimum = boundText(d, d.min);
  if (d.max !== undefined) out.maximum = boundText(d, d.max);
  out.description = docParagraphs(d).join('\n\n');
  out.flags = [...(d.flags ?? [])];
  return out;
}

/** docs/parameters.md: generated from the table; a test keeps the file current. */
export function renderParamDocs(): string {
  const sorted: ParamDecl[] = [...PARAM_TABLE].sort((a, b) => a.name.localeCompare(b.name));
  const out = [
    '# Parameters',
    '',
    '<!-- Generated from src/common/param-table.ts by `node src/mgmt/param-docs.ts > docs/parameters.md`. Do not edit. -->',
    '',
    'Parameters tune a running Shellac. Set them at start with `shellac serve -p name=value` (repeatable), and',
    'while it runs with `shellac adm param.set name value`; `param.show [-l|-j] [name|changed]` shows them and',
    '`param.reset name` goes back to the default. Names, defaults and bounds follow Varnish 7.1.',
    '',
    'Values: **seconds** take a number with an optional unit (`ms`, `s`, `m`, `h`, `d`, `w`, `y`; `1.5`,',
    '`500ms`, `2m`); **bytes** take a number with an optional unit (`b`, `k`, `m`, `g`, `t`, `p`, powers of',
    '1024; `8k`, `0.25k`, `1M`); **bool** takes `on`/`off` (also `true`/`false`, `yes`/`no`,',
    '`enable`/`disable`); **list** is colon-separated; **bits** are switches written `+name` or `-name`,',
    'comma-separated, applied to the current value (`none` clears them).',
    '',
    'Flags: *inert* parameters are accepted so that Varnish setups and test cases load, but Shellac ignores',
    'them; *startup* ones are read when the server starts; *obj_sticky* ones are copied into each object',
    'when it is created.',
    '',
    '| name | type | default | minimum | maximum | flags |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const d of sorted) {
    const unit = d.unit && d.unit !== d.type ? ` (${d.unit})` : '';
    const cells = [
      `[${d.name}](#${d.name})`,
      d.type + unit,
      code(defaultText(d)),
      d.min === undefined ? '' : code(boundText(d, d.min)),
      d.max === undefined ? '' : code(boundText(d, d.max)),
      (d.flags ?? []).join(', '),
    ];
    out.push(`| ${cells.join(' | ')} |`);
  }
  for (const d of sorted) {
    out.push('', `## ${d.name}`, '');
    for (const para of d.docs.split(/\n\n+/)) out.push(para, '');
    if (d.bits) {
      for (const [b, text] of Object.entries(d.bits)) out.push(`- \`${b}\`: ${text}`);
      out.push('');
    }
    out.pop();
  }
  return `${out.join('\n')}\n`;
}

function code(s: string): string {
  return s === '' ? '(empty)' : `\`${s.replace(/\|/g, '\\|')}\``;
}
