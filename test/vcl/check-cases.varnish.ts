// The checker's cases held against Varnish itself: every text check-cases.ts says Varnish 7.1
// refuses is refused by `varnishd -C`, and every text it says Varnish accepts compiles there.
// Run by `npm run conformance:varnish` only (it needs varnishd installed).

import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ACCEPT_CASES, ERROR_CASES } from './check-cases.ts';

const DIR = mkdtempSync(join(tmpdir(), 'shellac-vcc-'));
// varnishd's compiler runs unprivileged: it must be able to read the files.
chmodSync(DIR, 0o755);
afterAll(() => rmSync(DIR, { recursive: true, force: true }));
let n = 0;

/** The first line of varnishd's complaint, or 'OK' when it compiles the text. */
function varnishdSays(text: string): Promise<string> {
  const file = join(DIR, `case${n++}.vcl`);
  writeFileSync(file, text, { mode: 0o644 });
  return new Promise((resolve) => {
    execFile('varnishd', ['-C', '-f', file, '-n', join(DIR, 'n')], { maxBuffer: 64 * 1024 * 1024 }, (err, _out, stderr) => {
      if (!err) resolve('OK');
      else resolve(stderr.split('\n').find((l) => l.trim() !== '' && !/^(Error:|Message from VCC|Could not delete|Running VCC)/.test(l.trim())) ?? stderr.trim());
    });
  });
}

describe('check-cases against varnishd -C', () => {
  it.each(Object.entries(ERROR_CASES).flatMap(([group, cases]) => cases.map((c) => [`${group}: ${c.name}`, c] as const)))(
    'refused: %s',
    async (_name, c) => {
      expect(await varnishdSays(c.vcl)).not.toBe('OK');
    },
  );

  it.each(ACCEPT_CASES.map((c) => [c.name, c] as const))('accepted: %s', async (_name, c) => {
    expect(await varnishdSays(c.vcl)).toBe('OK');
  });
});
