// MAIN.n_backend counts the backends of every loaded VCL, as varnishstat shows it: declared
// ones of each VCL, warm or cold, until the VCL is discarded.

import { afterEach, describe, expect, it } from 'vitest';
import { type InProcess, inProcess } from './helpers.ts';

let s: InProcess | undefined;
afterEach(async () => {
  await s?.close();
  s = undefined;
});

describe('MAIN.n_backend', () => {
  it('follows loads and discards', async () => {
    s = await inProcess('vcl 4.1; backend a { .host = "127.0.0.1"; .port = "9"; } backend b { .host = "127.0.0.1"; .port = "9"; } sub vcl_recv { set req.backend_hint = b; }');
    expect(s.ops.counters.value('n_backend')).toBe(2);
    await s.srv.vcls.load('second', { source: 'vcl 4.1; backend c { .host = "127.0.0.1"; .port = "9"; }' });
    expect(s.ops.counters.value('MAIN.n_backend')).toBe(3);
    s.srv.vcls.discard('second');
    expect(s.ops.counters.value('n_backend')).toBe(2);
    // `backend x none;` is no backend (d00033).
    await s.srv.vcls.load('third', { source: 'vcl 4.1; backend x none;' });
    expect(s.ops.counters.value('n_backend')).toBe(2);
  });
});
