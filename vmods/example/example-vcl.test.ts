// The example VMOD as users meet it: VCL text importing it, compiled, loaded and run. This
// tests the manifest, the binding of arguments and PRIV holders, and the implementation
// together.

import { describe, expect, it } from 'vitest';
import { loadVcl } from '../../src/runtime/load-vcl.ts';
import { DEFAULT_VMOD_PATH } from '../../src/vmod/registry.ts';
import { clientTask, HEAD, load, run } from '../../test/runtime/vcl-harness.ts';

const VCL = `
import example;

sub vcl_init {
  new words = example.tally(" + ");
}

sub vcl_recv {
  words.add("first");
  words.add(req.http.word);
  set req.http.list = words.list();
  set req.http.count = words.count();
  set req.http.hello = example.greet();
  set req.http.hello-you = example.greet(req.http.name);
  set req.http.temperature = example.temperature();
  return (synth(200));
}
`;

describe('example in VCL', () => {
  it('greets, and tallies per task', async () => {
    const vcl = await load(VCL, { vmodPath: DEFAULT_VMOD_PATH });
    const first = clientTask({ headers: [['word', 'second'], ['name', 'VCL']] });
    expect(run(vcl, 'vcl_recv', first)).toMatchObject({ action: 'synth', status: 200 });
    expect(first.req!.get('list')).toBe('first + second');
    expect(first.req!.get('count')).toBe('2');
    expect(first.req!.get('hello')).toBe('Hello, world!');
    expect(first.req!.get('hello-you')).toBe('Hello, VCL!');
    // A second request starts with an empty tally; an unset header adds nothing.
    const second = clientTask();
    run(vcl, 'vcl_recv', second);
    expect(second.req!.get('list')).toBe('first');
    expect(second.req!.get('hello-you')).toBe('Hello, nobody!');
  });

  it('follows the VCL temperature through its event function', async () => {
    const logs: string[] = [];
    const logger = { error: () => {}, info: (_f: object, m: string) => void logs.push(m) };
    const vcl = await loadVcl({ name: 'boot', source: HEAD + VCL, vmodPath: DEFAULT_VMOD_PATH, env: { logger } });
    const t = clientTask();
    run(vcl, 'vcl_recv', t);
    expect(t.req!.get('temperature')).toBe('warm');
    vcl.cold();
    const u = clientTask();
    run(vcl, 'vcl_recv', u);
    expect(u.req!.get('temperature')).toBe('cold');
    expect(logs).toEqual(['example: boot is warm', 'example: boot is cold']);
    vcl.discard();
  });

  it('can refuse to load a VCL', async () => {
    await expect(loadVcl({ name: 'broken-1', source: HEAD + VCL, vmodPath: DEFAULT_VMOD_PATH })).rejects.toThrow(
      'example: refusing to load broken-1',
    );
  });
});
