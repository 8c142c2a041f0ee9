// Program definitions: the keys a definition may have (one table: type, bounds, default, what
// it means), group defaults definitions inherit, and the checks that name the program and the
// key of a bad value. A library is a JSON object of definitions by program name, with an
// optional "groups" object of defaults by group name; a definition's "group" picks one
// (`default` when not given), and its own keys win.

import { readFile } from 'node:fs/promises';
import type { ProgramKind } from './image.ts';

export interface Definition {
  filename: string;
  uri: string;
  type: ProgramKind | '';
  group: string;
  concurrency: number;
  max_queue: number;
  max_request_time: number;
  max_memory: number;
  ephemeral: boolean;
  key: string;
  arguments: string[];
  environment: string[];
  thread_spin_us: number;
  answer_poll_us: number;
  thread_idle_timeout: number;
}

type Key = keyof Definition;

interface KeySpec {
  readonly check: (v: unknown) => boolean;
  readonly expect: string;
  readonly default: Definition[Key];
  readonly doc: string;
}

const isString = (v: unknown): boolean => typeof v === 'string';
const intIn = (lo: number, hi: number) => (v: unknown) => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;
const strings = (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** Every key of a definition. docs/compute.md copies the docs column. */
export const KEYS: Readonly<Record<Key, KeySpec>> = {
  filename: { check: isString, expect: 'a string', default: '', doc: 'The program file (.wasm or .js), relative to the library file.' },
  uri: { check: isString, expect: 'a string', default: '', doc: 'Where to fetch the program (http or https) when there is no filename.' },
  type: {
    check: (v) => v === 'wasm' || v === 'js',
    expect: '"wasm" or "js"',
    default: '',
    doc: 'wasm or js; by default the file name says (.js is js, anything else wasm).',
  },
  group: { check: isString, expect: 'a string', default: 'default', doc: 'The group whose defaults the definition inherits.' },
  concurrency: { check: intIn(1, 64), expect: 'an integer from 1 to 64', default: 2, doc: 'Sandboxes (worker threads) running requests at once.' },
  max_queue: { check: intIn(0, 100000), expect: 'an integer from 0 to 100000', default: 64, doc: 'Requests waiting beyond concurrency; past it, a request fails at once.' },
  max_request_time: {
    check: (v) => typeof v === 'number' && v > 0 && v <= 3600,
    expect: 'seconds, more than 0 and at most 3600',
    default: 8,
    doc: 'A request running longer fails and its sandbox is replaced.',
  },
  max_memory: { check: intIn(1, 4096), expect: 'megabytes, an integer from 1 to 4096', default: 128, doc: 'Memory of one sandbox; a request that needs more fails.' },
  ephemeral: { check: (v) => typeof v === 'boolean', expect: 'true or false', default: true, doc: 'Reset the sandbox to its post-initialisation state after every request.' },
  key: { check: isString, expect: 'a string', default: '', doc: 'The secret live_update() requires; empty: no live update.' },
  arguments: { check: strings, expect: 'an array of strings', default: [], doc: 'Handed to the initialisation.' },
  environment: {
    check: (v) => strings(v) && (v as string[]).every((s) => s.includes('=')),
    expect: 'an array of "NAME=value" strings',
    default: [],
    doc: 'Handed to the initialisation as NAME=value pairs.',
  },
  thread_spin_us: {
    check: intIn(0, 10000),
    expect: 'microseconds, an integer from 0 to 10000',
    default: 100,
    doc: 'How long a sandbox thread keeps looking for its next request after an answer before it sleeps, while requests come that often, no other thread spins and other processes leave the CPUs idle; 0: it sleeps at once.',
  },
  thread_idle_timeout: {
    check: (v) => typeof v === 'number' && v >= 0 && v <= 86400,
    expect: 'seconds, from 0 to 86400',
    default: 30,
    doc: 'A sandbox thread without a request for this long ends, its sandbox with it (the next request starts one); 0: threads are kept.',
  },
  answer_poll_us: {
    check: intIn(0, 10000),
    expect: 'microseconds, an integer from 0 to 10000',
    default: 50,
    doc: 'How long the main thread looks for the answer to a request alone in flight, of a program whose runs average less than this, on each turn of its event loop, before it waits to be woken, while other processes leave the CPUs idle; 0: it waits at once.',
  },
};

export class DefinitionError extends Error {
  override readonly name = 'DefinitionError';
}

/** Checks the keys of one definition (or override), naming the program and the bad key. */
export function checkKeys(program: string, json: unknown): Partial<Definition> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new DefinitionError(`program '${program}': a definition must be a JSON object`);
  for (const [k, v] of Object.entries(json)) {
    const spec = KEYS[k as Key] as KeySpec | undefined;
    if (spec === undefined) throw new DefinitionError(`program '${program}': unknown key '${k}'`);
    if (!spec.check(v)) throw new DefinitionError(`program '${program}': '${k}' must be ${spec.expect}`);
  }
  return json as Partial<Definition>;
}

export function defaults(): Definition {
  const d = {} as Record<Key, unknown>;
  for (const [k, spec] of Object.entries(KEYS)) d[k as Key] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
  return d as unknown as Definition;
}

/** A definition from its own keys over its group's defaults; `base` resolves relative filenames. */
export function resolveDefinition(program: string, own: Partial<Definition>, groups: ReadonlyMap<string, Partial<Definition>>, base: string): Definition {
  const group = own.group ?? 'default';
  const inherited = groups.get(group);
  if (inherited === undefined && group !== 'default') throw new DefinitionError(`program '${program}': 'group' names no group ('${group}')`);
  const def = { ...defaults(), ...inherited, ...own };
  if (def.filename !== '' && !def.filename.startsWith('/') && base !== '') def.filename = `${base}/${def.filename}`;
  return def;
}

/** Whether a definition says where the program is; checked when it is used. */
export function checkComplete(program: string, def: Definition): void {
  if (def.filename === '' && def.uri === '') throw new DefinitionError(`program '${program}': neither 'filename' nor 'uri' is given`);
}

export function kindOf(def: Definition): ProgramKind {
  if (def.type !== '') return def.type;
  return /\.js$/i.test(def.filename || def.uri) ? 'js' : 'wasm';
}

/** Reads a library from a file or an http(s) URL: the definitions by name, resolved. */
export async function readLibrary(uri: string): Promise<Map<string, Definition>> {
  const remote = /^https?:\/\//i.test(uri);
  let text: string;
  try {
    text = remote ? await fetchText(uri) : await readFile(uri, 'utf8');
  } catch (e) {
    throw new DefinitionError(`library ${uri}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DefinitionError(`library ${uri}: not JSON (${(e as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new DefinitionError(`library ${uri}: must be a JSON object`);
  const { groups: rawGroups = {}, ...programs } = json as Record<string, unknown>;
  const groups = new Map<string, Partial<Definition>>();
  if (rawGroups === null || typeof rawGroups !== 'object') throw new DefinitionError(`library ${uri}: 'groups' must be an object`);
  for (const [g, v] of Object.entries(rawGroups)) groups.set(g, checkKeys(`group ${g}`, v));
  const base = remote ? '' : uri.slice(0, Math.max(0, uri.lastIndexOf('/')));
  const out = new Map<string, Definition>();
  for (const [name, v] of Object.entries(programs)) out.set(name, resolveDefinition(name, checkKeys(name, v), groups, base));
  return out;
}

/** At most this much of a library or program is fetched. */
export const FETCH_MAX = 64 * 1024 * 1024;

export async function fetchBytes(uri: string): Promise<Uint8Array> {
  const r = await fetch(uri, { signal: AbortSignal.timeout(30_000) });
  if (!r.ok) throw new Error(`${uri}: status ${r.status}`);
  const body = new Uint8Array(await r.arrayBuffer());
  if (body.length > FETCH_MAX) throw new Error(`${uri}: more than ${FETCH_MAX} bytes`);
  return body;
}

async function fetchText(uri: string): Promise<string> {
  return new TextDecoder().decode(await fetchBytes(uri));
}
