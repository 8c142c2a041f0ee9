// vmodtool: from a VMOD's manifest, the files that must follow it: `interface.ts` beside the
// manifest (the contract the implementation satisfies) and the manual page `NAME.md` in the
// docs folder. It also scaffolds a new VMOD. The command line is in src/cli/vmodtool.ts; this
// file only computes paths and texts and compares them with what is on disk.

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { VmodManifest } from './manifest.ts';
import { MANIFEST_FILE } from './registry.ts';
import { parseVcc } from './vcc.ts';
import { generateInterface } from './vmod-interface.ts';
import { generateManual } from './vmod-manual.ts';
import { packageFiles, scaffoldFiles } from './vmod-scaffold.ts';

/** The repository root, which generated headers name paths from. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The VMOD API every implementation and interface imports. */
export const API_FILE = fileURLToPath(new URL('./api.ts', import.meta.url));
/** The file name of the generated interface, beside the manifest. */
export const INTERFACE_FILE = 'interface.ts';

export interface GeneratedFile {
  readonly path: string;
  readonly text: string;
}

export type Generated = { readonly manifest: VmodManifest; readonly files: GeneratedFile[] } | { readonly error: string };

/** An import specifier for `target` from a file in `fromDir`, with forward slashes. */
export function importPath(fromDir: string, target: string): string {
  const rel = relative(fromDir, target).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

/** Whether a path is outside this repository (an out-of-tree VMOD package). */
function outsideRepo(path: string): boolean {
  return relative(REPO_ROOT, resolve(path)).startsWith('..');
}

/** The API import of a generated file in `dir`: a relative path inside the repo, `shellac/vmod` outside. */
function apiImportFrom(dir: string): string {
  return outsideRepo(dir) ? 'shellac/vmod' : importPath(dir, API_FILE);
}

/** How generated headers name a file: from the repository root when inside it. */
function displayPath(file: string): string {
  const rel = relative(REPO_ROOT, file);
  return rel.startsWith('..') ? file.split(sep).pop()! : rel.split(sep).join('/');
}

/** The docs folder for VMODs kept in `vmodsDir`: `docs/vmods` beside it. */
export function defaultDocsDir(vmodsDir: string): string {
  return join(resolve(vmodsDir), '..', 'docs', 'vmods');
}

/** The interface and manual a manifest file calls for. `docsDir` defaults as defaultDocsDir. */
export function generateFor(vccFile: string, docsDir?: string): Generated {
  const file = resolve(vccFile);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return { error: `cannot read ${vccFile}: ${(e as Error).message}` };
  }
  const { manifest, errors } = parseVcc(text, file);
  if (!manifest) return { error: errors.map((e) => `${vccFile}:${e.line}: ${e.message}`).join('\n') };
  const dir = dirname(file);
  // An out-of-tree package keeps its manual in its own docs/.
  const docs = docsDir !== undefined ? resolve(docsDir) : outsideRepo(dir) ? join(dir, 'docs') : defaultDocsDir(dirname(dir));
  const source = displayPath(file);
  return {
    manifest,
    files: [
      { path: join(dir, INTERFACE_FILE), text: generateInterface(manifest, { apiImport: apiImportFrom(dir), source }) },
      { path: join(docs, `${manifest.name}.md`), text: generateManual(manifest, { source }) },
    ],
  };
}

/** The files of `files` whose content on disk differs (or that are missing). */
export function staleFiles(files: readonly GeneratedFile[]): GeneratedFile[] {
  return files.filter((f) => !existsSync(f.path) || readFileSync(f.path, 'utf8') !== f.text);
}

/** Writes the files that differ; returns their paths. */
export function writeFiles(files: readonly GeneratedFile[]): string[] {
  const stale = staleFiles(files);
  for (const f of stale) {
    mkdirSync(dirname(f.path), { recursive: true });
    writeFileSync(f.path, f.text);
  }
  return stale.map((f) => f.path);
}

/** Every manifest under a folder of VMODs (`vmods/*\/vmod.vcc`), in name order. */
export function manifestsIn(vmodsDir: string): string[] {
  return readdirSync(vmodsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(vmodsDir, d.name, MANIFEST_FILE)))
    .map((d) => join(vmodsDir, d.name, MANIFEST_FILE))
    .sort();
}

/**
 * The files of a new VMOD `name` in `vmodsDir/name/`: manifest, implementation, test, and the
 * generated interface and manual. Refuses a name that is not a VCL identifier or a folder that
 * exists.
 */
export function scaffold(name: string, vmodsDir: string, docsDir?: string): GeneratedFile[] | { error: string } {
  if (!/^[a-z][a-z0-9_]*$/.test(name)) return { error: `'${name}' is not a VMOD name: use lower case letters, digits and _` };
  const dir = join(resolve(vmodsDir), name);
  if (existsSync(dir)) return { error: `${dir} already exists` };
  const outOfTree = outsideRepo(dir);
  let own = scaffoldFiles(name, {
    apiImport: apiImportFrom(dir),
    taskImport: importPath(dir, join(REPO_ROOT, 'src', 'runtime', 'task.ts')),
    httpImport: importPath(dir, join(REPO_ROOT, 'src', 'runtime', 'http.ts')),
    loadVclImport: importPath(dir, join(REPO_ROOT, 'src', 'runtime', 'load-vcl.ts')),
  });
  // Outside the repo the VMOD is a package: its test goes through shellac/testing instead.
  if (outOfTree) own = [...own.filter((f) => !f.path.endsWith('.test.ts')), ...packageFiles(name, REPO_ROOT.replace(/\/$/, ''))];
  const files = own.map((f) => ({ path: join(dir, f.path), text: f.text }));
  const manifest = parseVcc(own.find((f) => f.path === MANIFEST_FILE)!.text, join(dir, MANIFEST_FILE));
  if (!manifest.manifest) return { error: `scaffold manifest does not parse: ${manifest.errors[0]?.message}` };
  const source = displayPath(join(dir, MANIFEST_FILE));
  files.push(
    { path: join(dir, INTERFACE_FILE), text: generateInterface(manifest.manifest, { apiImport: apiImportFrom(dir), source }) },
    {
      path: join(docsDir !== undefined ? resolve(docsDir) : outOfTree ? join(dir, 'docs') : defaultDocsDir(vmodsDir), `${name}.md`),
      text: generateManual(manifest.manifest, { source }),
    },
  );
  return files;
}
