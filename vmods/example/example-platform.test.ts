// The example VMOD's platform parts in a running server with its admin side: its counter in
// counters.show, its parameter through param.set, and its command answering from what its
// `request` subscription heard.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AdminClient } from '../../src/mgmt/admin-client.ts';
import { get } from '../../test/helpers/proxy.ts';
import { type InProcess, inProcess, okBody, until } from '../../test/ops/helpers.ts';

const VCL = `vcl 4.1;
import example;
backend x none;
sub vcl_recv { return (synth(200, example.greet(req.http.name))); }
`;

let p: InProcess;
let c: AdminClient;
beforeAll(async () => {
  p = await inProcess(VCL);
  c = await p.admin();
});
afterAll(async () => {
  c.close();
  await p.close();
});

describe('example on the platform', () => {
  it('counts greetings, takes its greeting from a parameter, and tells what it heard', async () => {
    expect((await get(p.port, '/one', { headers: { name: 'you' } })).reason).toBe('Hello, you!');
    await okBody(c, ['param.set', 'example.greeting', 'Howdy']);
    expect((await get(p.port, '/two')).reason).toBe('Howdy, nobody!');
    expect(await okBody(c, ['counters.show', 'EXAMPLE.greetings'])).toMatch(/^EXAMPLE\.greetings\s+2\s/);
    let last: { heard: number; last: { url: string; status: number; handling: string } | null } = { heard: 0, last: null };
    await until(async () => {
      last = (JSON.parse(await okBody(c, ['example.last', '-j'])) as unknown[])[3] as typeof last;
      return last.heard === 2;
    }, 3000);
    expect(last).toEqual({ heard: 2, last: { url: '/two', status: 200, handling: 'synth' } });
  });
});
