// The ratchet through the real command, over a tiny conformance folder of VTC files (servers
// and clients only, no cache, so each runs in a moment): `--update` writes the passing list,
// the causes table and the page from one run; `--check` passes while the listed cases pass,
// names the newly passing ones, runs a listed failure again on its own before it counts, fails
// with the case and its first failing log line, and fails when the page and the list disagree.

import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'shellac-ratchet-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const root = join(dir, 'conformance');
const core = join(root, 'vtc', 'core');
mkdirSync(core, { recursive: true });
const files = { list: join(dir, 'passing.txt'), causes: join(dir, 'causes.tsv'), page: join(dir, 'conformance.md') };

/** A case whose client expects `status` from a server that answers 200. */
const expecting = (status: number) => `varnishtest "expects ${status}"
server s1 {
	rxreq
	txresp -status 200
} -start
client c1 -connect \${s1_sock} {
	txreq
	rxresp
	expect resp.status == ${status}
} -run
`;
const PASSES = expecting(200);
const FAILS = expecting(404);
const FAIL_LINE = '---- c1    EXPECT resp.status (200) == "404" failed';
/** Fails once each time the file `flake` is put beside it: a timing case on a loaded machine. */
const FLAKY = `varnishtest "fails once when told to"
shell "if [ -e ${core}/flake ]; then rm ${core}/flake; exit 1; fi"
`;

const put = (name: string, text: string) => writeFileSync(join(core, name), text);
put('a-pass.vtc', PASSES);
put('b-fail.vtc', FAILS);
put('c-flaky.vtc', FLAKY);

function conformance(...args: string[]) {
  const argv = [MAIN, 'conformance', '--root', root, '--list', files.list, '--causes', files.causes, '--page', files.page, ...args];
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8', timeout: 30_000 });
  const lines = r.stdout.trimEnd().split('\n');
  return { status: r.status, out: r.stdout, lines, last: lines.at(-1), err: r.stderr };
}
const listed = () => readFileSync(files.list, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));

describe('the conformance ratchet', () => {
  it('--update lists what passes, records why the rest fails, and writes the page', () => {
    const r = conformance('--update');
    expect(r.status).toBe(0);
    expect(r.lines).toContain('vtc/core: 2/3 pass');
    expect(r.lines).toContain('added: vtc/core/a-pass.vtc');
    expect(r.lines).toContain('added: vtc/core/c-flaky.vtc');
    expect(listed()).toEqual(['vtc/core/a-pass.vtc', 'vtc/core/c-flaky.vtc']);
    expect(readFileSync(files.list, 'utf8')).toMatch(/^# Last update: \d{4}-\d\d-\d\d.*, \d+ s at -j 2 \(load average/m);
    expect(readFileSync(files.causes, 'utf8')).toContain(`vtc/core/b-fail.vtc\tunsorted\t${FAIL_LINE}\n`);
    const page = readFileSync(files.page, 'utf8');
    expect(page).toContain('| vtc/core | 2 | 1 | 0 | 3 | 66.7% |');
    expect(page).toContain(`### Not yet sorted (1)\n\n- \`b-fail.vtc\`: ${FAIL_LINE}\n`);
  });

  it('--check passes while the listed cases pass, and prints the closing count alone', () => {
    const r = conformance('--check');
    expect(r.err).toBe('');
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/^3 cases in \d+ s at -j 2; slowest: vtc\/core\/[a-c]-\w+\.vtc \d+\.\d s, /m);
    expect(r.last).toBe('2 passed, 0 failed');
  });

  it('--check runs a listed case that failed once more on its own before counting it', () => {
    writeFileSync(join(core, 'flake'), '');
    const r = conformance('--check');
    expect(r.status).toBe(0);
    expect(r.lines).toContain('vtc/core/c-flaky.vtc: passed on its own');
    expect(r.out).toMatch(/vtc\/core\/c-flaky\.vtc: failed \(---- top {3}shell_exit not as expected: got 1 wanted 0\); running it again on its own/);
    expect(r.last).toBe('2 passed, 0 failed');
  });

  it('--check names a case that now passes unlisted, without failing', () => {
    put('b-fail.vtc', PASSES);
    const r = conformance('--check');
    expect(r.status).toBe(0);
    expect(r.out).toContain('newly passing: add them with --update\n  vtc/core/b-fail.vtc\n');
    expect(r.last).toBe('2 passed, 0 failed');
  });

  it('--check fails when a listed case fails twice, naming it and its first failing log line', () => {
    put('a-pass.vtc', FAILS);
    const r = conformance('--check');
    expect(r.status).toBe(1);
    expect(r.lines).toContain(`FAIL vtc/core/a-pass.vtc: ${FAIL_LINE}`);
    expect(r.lines).toContain(`  its log: shellac test -v ${join(root, 'vtc/core/a-pass.vtc')}`);
    expect(r.last).toBe('1 passed, 1 failed');
  });

  it('--update is the one way a case leaves the list, and it says so', () => {
    const r = conformance('--update');
    expect(r.status).toBe(0);
    expect(r.lines).toContain(`removed: vtc/core/a-pass.vtc (${FAIL_LINE})`);
    expect(r.lines).toContain('added: vtc/core/b-fail.vtc');
    expect(listed()).toEqual(['vtc/core/b-fail.vtc', 'vtc/core/c-flaky.vtc']);
    const causes = readFileSync(files.causes, 'utf8');
    expect(causes).toContain(`vtc/core/a-pass.vtc\tunsorted\t${FAIL_LINE}\n`);
    expect(causes).not.toContain('b-fail');
  });

  it('--check fails when the page disagrees with the list and the causes', () => {
    const causes = readFileSync(files.causes, 'utf8').replace(`unsorted\t${FAIL_LINE}`, 'missing\tThe feature it tests is not built.');
    writeFileSync(files.causes, causes);
    const r = conformance('--check');
    expect(r.status).toBe(1);
    expect(r.lines).toContain(`FAIL ${files.page}: differs from what the list and the causes make; write it with --page-only`);
    expect(r.last).toBe('2 passed, 1 failed');
  });

  it('--page-only writes the page again from the list and the causes, running nothing', () => {
    expect(conformance('--page-only').status).toBe(0);
    expect(readFileSync(files.page, 'utf8')).toContain('### Missing feature (1)\n\n- `a-pass.vtc`: The feature it tests is not built.\n');
    expect(conformance('--check').last).toBe('2 passed, 0 failed');
  });

  it('--update keeps a cause a person wrote', () => {
    expect(conformance('--update').status).toBe(0);
    expect(readFileSync(files.causes, 'utf8')).toContain('vtc/core/a-pass.vtc\tmissing\tThe feature it tests is not built.\n');
  });

  it('refuses two modes at once and a check without a list', () => {
    const both = conformance('--check', '--update');
    expect(both.status).toBe(2);
    expect(both.err).toContain('--check and --update do not go together');
    rmSync(files.list);
    const none = conformance('--check');
    expect(none.status).toBe(2);
    expect(none.err).toContain(`no passing list at ${files.list}: write it with --update`);
  });
});
