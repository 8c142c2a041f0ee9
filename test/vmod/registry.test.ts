import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { clearManifestCache, DEFAULT_VMOD_PATH, loadManifest } from '../../src/vmod/registry.ts';

const root = mkdtempSync(join(tmpdir(), 'shellac-registry-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
beforeEach(() => clearManifestCache());

function writeVmod(dir: string, name: string, body = '$Function VOID f()\n', module = name): string {
  mkdirSync(join(root, dir, name), { recursive: true });
  const file = join(root, dir, name, 'vmod.vcc');
  writeFileSync(file, `$Module ${module} 3 Test\n${body}`);
  return file;
}

function manifestOf(result: ReturnType<typeof loadManifest>) {
  if ('error' in result) throw new Error(result.error);
  return result.manifest;
}

describe('loadManifest', () => {
  it('finds the shipped VMODs in the default vmod_path', () => {
    expect(DEFAULT_VMOD_PATH).toEqual([join(import.meta.dirname, '../../vmods/')]);
    const m = manifestOf(loadManifest('std'));
    expect(m.name).toBe('std');
    expect(m.file).toBe(join(import.meta.dirname, '../../vmods/std/vmod.vcc'));
  });

  it('searches each vmod_path folder in order', () => {
    writeVmod('a', 'one', '$Function INT fromA()\n');
    writeVmod('b', 'one', '$Function INT fromB()\n');
    writeVmod('b', 'two');
    const vmodPath = [join(root, 'a'), join(root, 'b')];
    expect([...manifestOf(loadManifest('one', { vmodPath })).functions.keys()]).toEqual(['fromA']);
    expect(manifestOf(loadManifest('two', { vmodPath })).file).toBe(join(root, 'b', 'two', 'vmod.vcc'));
  });

  it('names every place it searched when the VMOD is missing', () => {
    const vmodPath = [join(root, 'a'), join(root, 'nowhere')];
    expect(loadManifest('absent', { vmodPath })).toEqual({
      error: `Could not find VMOD 'absent' in the vmod_path; looked for ${join(root, 'a', 'absent', 'vmod.vcc')}, ${join(root, 'nowhere', 'absent', 'vmod.vcc')}`,
    });
  });

  it('uses the folder or the .vcc file of `from`, relative to baseDir', () => {
    const file = writeVmod('c', 'three');
    expect(manifestOf(loadManifest('three', { from: join(root, 'c', 'three') })).file).toBe(file);
    expect(manifestOf(loadManifest('three', { from: file })).file).toBe(file);
    expect(manifestOf(loadManifest('three', { from: 'c/three', baseDir: root })).file).toBe(file);
    expect(manifestOf(loadManifest('three', { from: relative(process.cwd(), file) })).file).toBe(file);
  });

  it('names the file it looked at when `from` is wrong', () => {
    expect(loadManifest('x', { from: join(root, 'missing') })).toEqual({
      error: `Could not find VMOD 'x' at ${join(root, 'missing', 'vmod.vcc')}`,
    });
  });

  it('refuses a manifest of another module', () => {
    const file = writeVmod('d', 'four', '', 'other');
    expect(loadManifest('four', { from: file })).toEqual({
      error: `${file} is the manifest of VMOD 'other', not 'four'`,
    });
  });

  it('refuses names that are not identifiers', () => {
    expect(loadManifest('../std')).toEqual({ error: "'../std' is not a valid VMOD name" });
  });

  it('reports parse errors with file and line', () => {
    const file = writeVmod('e', 'five', '$Function VOID f(BAD)\n$Method VOID .m()\n');
    expect(loadManifest('five', { from: file })).toEqual({
      error: `${file}:2: f(): unknown type 'BAD'\n${file}:3: $Method before any $Object`,
    });
  });

  it('caches per file and re-reads a file that changed', () => {
    const file = writeVmod('f', 'six', '$Function VOID first()\n');
    const first = manifestOf(loadManifest('six', { from: file }));
    expect(manifestOf(loadManifest('six', { from: file }))).toBe(first);
    writeFileSync(file, '$Module six 3 Test\n$Function VOID second()\n');
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    const second = manifestOf(loadManifest('six', { from: file }));
    expect(second).not.toBe(first);
    expect([...second.functions.keys()]).toEqual(['second']);
  });
});
