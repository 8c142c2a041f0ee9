// std's file and environment functions, on real files in a temporary directory.
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { PrivHolder } from '../../src/vmod/api.ts';
import { TestContext } from '../../test/helpers/vmod-context.ts';
import { blobread, type CachedFile, file_exists, fileread, getenv } from './files.ts';

const dir = mkdtempSync(join(tmpdir(), 'shellac-std-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ctx = new TestContext();

function holder(): PrivHolder<CachedFile> {
  return { priv: undefined };
}

describe('std.fileread and std.blobread', () => {
  it('reads a file once and keeps answering with what it read', () => {
    const path = join(dir, 'hostname');
    writeFileSync(path, 'hello\nworld\n');
    const site = holder();
    expect(fileread(ctx, site, path)).toBe('hello\nworld\n');
    writeFileSync(path, 'changed');
    expect(fileread(ctx, site, path)).toBe('hello\nworld\n');
    // Another call site, even of another VCL, shares the copy while the first holds it.
    expect(fileread(ctx, holder(), path)).toBe('hello\nworld\n');
  });

  it('reads again once every holder is freed', () => {
    const path = join(dir, 'again');
    writeFileSync(path, 'one');
    const site = holder();
    expect(fileread(ctx, site, path)).toBe('one');
    writeFileSync(path, 'two');
    site.free?.(site.priv as CachedFile);
    expect(fileread(ctx, holder(), path)).toBe('two');
  });

  it('follows a call site that reads another path', () => {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    writeFileSync(a, 'A');
    writeFileSync(b, 'B');
    const site = holder();
    expect(fileread(ctx, site, a)).toBe('A');
    expect(fileread(ctx, site, b)).toBe('B');
    expect(site.priv?.path).toBe(b);
  });

  it('gives bytes as a blob and as latin1 text cut at a NUL', () => {
    const path = join(dir, 'binary');
    writeFileSync(path, Uint8Array.of(0x66, 0xe9, 0x00, 0x62));
    const site = holder();
    expect(fileread(ctx, site, path)).toBe('f\u00e9');
    const blob = blobread(ctx, site, path);
    expect(Array.from(blob ?? [])).toEqual([0x66, 0xe9, 0x00, 0x62]);
    expect(blobread(ctx, site, path)).toBe(blob);
  });

  it('gives NULL for a missing file or a NULL path, and "" for an empty one', () => {
    expect(fileread(ctx, holder(), join(dir, 'missing'))).toBeNull();
    expect(blobread(ctx, holder(), null)).toBeNull();
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    expect(fileread(ctx, holder(), empty)).toBe('');
  });
});

describe('std.file_exists and std.getenv', () => {
  it('tells whether a path exists, following links', () => {
    const target = join(dir, 'target');
    writeFileSync(target, 'x');
    symlinkSync(target, join(dir, 'link'));
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
    expect(file_exists(ctx, dir)).toBe(true);
    expect(file_exists(ctx, join(dir, 'link'))).toBe(true);
    expect(file_exists(ctx, join(dir, 'dangling'))).toBe(false);
    expect(file_exists(ctx, join(dir, 'missing'))).toBe(false);
    expect(file_exists(ctx, '')).toBe(false);
    expect(file_exists(ctx, null)).toBe(false);
  });

  it('reads the environment', () => {
    process.env.SHELLAC_STD_TEST = 'yes';
    expect(getenv(ctx, 'SHELLAC_STD_TEST')).toBe('yes');
    expect(getenv(ctx, 'SHELLAC_STD_NOT_SET')).toBeNull();
    expect(getenv(ctx, '')).toBeNull();
    expect(getenv(ctx, null)).toBeNull();
  });
});
