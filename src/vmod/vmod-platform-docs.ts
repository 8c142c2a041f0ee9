// What vmodtool generates from the platform stanzas: the TypeScript types of a VMOD's counters,
// parameters and handle (for interface.ts), and the manual's sections on counters, parameters,
// admin commands and requirements. Kept beside vmod-interface.ts and vmod-manual.ts, which
// call these, so each of those files stays about calls and objects.

import type { VmodManifest, VmodParam } from './manifest.ts';
import { moduleTypeName } from './vmod-interface.ts';

/** Whether a manifest uses the platform at all (then its handle types are generated). */
export function usesPlatform(m: VmodManifest): boolean {
  return m.counters.length > 0 || m.params.length > 0 || m.commands.length > 0;
}

const PARAM_TS: Readonly<Record<VmodParam['type'], string>> = {
  bool: 'boolean',
  uint: 'number',
  timeout: 'number',
  bytes: 'number',
  string: 'string',
  enum: 'string',
};

function paramTs(p: VmodParam): string {
  return p.values ? p.values.map((v) => `'${v}'`).join(' | ') : PARAM_TS[p.type];
}

function firstLine(doc: string): string {
  return (doc.split('\n\n')[0] ?? '').replace(/\s+/g, ' ').replace(/\*\//g, '*\\/').trim();
}

/** The type names of a VMOD's platform parts: `VmodRatelimitCounters`, `...Params`, `...Handle`. */
export function platformTypeNames(m: VmodManifest): { counters: string; params: string; handle: string } {
  const base = moduleTypeName(m);
  return { counters: `${base}Counters`, params: `${base}Params`, handle: `${base}Handle` };
}

/** The interface.ts declarations of counters, parameters and the handle type. */
export function platformTypes(m: VmodManifest): string {
  const t = platformTypeNames(m);
  const counters = m.counters.map((c) => `  /** ${c.type}: ${firstLine(c.doc) || c.name} */\n  ${c.name}: number;\n`).join('');
  const params = m.params.map((p) => `  /** ${m.name}.${p.name}${p.readonly ? ' (readonly)' : ''}: ${firstLine(p.doc) || p.type} */\n  ${p.name}: ${paramTs(p)};\n`).join('');
  // An empty interface is `{}` (anything but null), so a VMOD without counters or params gets a
  // type that has no keys at all.
  const decl = (name: string, body: string) => (body ? `export interface ${name} {\n${body}}\n` : `export type ${name} = Record<never, never>;\n`);
  return [
    `/** The $Counters of ${m.name}, as \`handle.counters\` holds them (one integer add per bump). */\n${decl(t.counters, counters)}`,
    `/** The $Params of ${m.name}, as \`handle.own(name)\` reads them (durations in seconds, sizes in bytes). */\n${decl(t.params, params)}`,
    `/** What \`ctx.vmod<${t.handle}>('${m.name}')\` gives, and what commands, jobs and events get. */\nexport type ${t.handle} = VmodHousekeeping<${t.counters}, ${t.params}>;\n`,
  ].join('\n');
}

/** The `commands` member of the module interface, when the manifest has $Commands. */
export function commandsMember(m: VmodManifest): string {
  if (m.commands.length === 0) return '';
  const t = platformTypeNames(m);
  const lines = m.commands.map((c) => `    /** ${m.name}.${c.name}${c.usage ? ` ${c.usage}` : ''} */\n    ${c.name}: VmodCommandHandler<${t.counters}, ${t.params}>;\n`);
  return `  /** The handlers of the $Commands (admin commands \`${m.name}.NAME\`). */\n  commands: {\n${lines.join('')}  };\n`;
}

/** The manual's sections for the platform stanzas (empty when there are none). */
export function platformManual(m: VmodManifest): string[] {
  const blocks: string[] = [];
  if (m.requires.length > 0) {
    blocks.push('## Requirements', `Importing ${m.name} imports ${m.requires.map((r) => `\`${r}\``).join(', ')} with it; their events run first.`);
  }
  if (m.counters.length > 0) {
    blocks.push('## Counters', `Shown by \`shellac stat\` and \`/metrics\` as \`${m.name.toUpperCase()}.<name>\` (\`${m.name.toUpperCase()}.<instance>.<name>\` for an object's).`);
    for (const c of m.counters) blocks.push(`### ${m.name.toUpperCase()}.${c.name} (${c.type})`, c.doc);
  }
  if (m.params.length > 0) {
    blocks.push('## Parameters', 'Set with `-p name=value` at start or `param.set` at run time (not the read-only ones), shown by `param.show`.');
    for (const p of m.params) {
      const bounds = [p.min !== undefined ? `min ${p.min}` : '', p.max !== undefined ? `max ${p.max}` : ''].filter((x) => x).join(', ');
      const type = p.values ? `enum: ${p.values.join(', ')}` : p.type;
      blocks.push(`### ${m.name}.${p.name}`, `Type ${type}, default \`${p.default}\`${bounds ? `, ${bounds}` : ''}${p.readonly ? '; read only (not tunable online)' : ''}.`);
      if (p.doc) blocks.push(p.doc);
    }
  }
  if (m.commands.length > 0) {
    blocks.push('## Admin commands', 'Served by the admin CLI (`shellac adm`) while a VCL importing the VMOD is loaded; they take `-j`.');
    for (const c of m.commands) {
      blocks.push(`### ${m.name}.${c.name}${c.usage ? ` ${c.usage}` : ''}`);
      if (c.doc) blocks.push(c.doc);
    }
  }
  return blocks;
}
