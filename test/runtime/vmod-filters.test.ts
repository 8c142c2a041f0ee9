// Body filters a VMOD adds to its VCL at load (VmodEventContext.addFilter): one name, one
// filter, built-in names kept, each refusal said in words, and the filters going with the VCL.

import { describe, expect, it } from 'vitest';
import { clientTask, load, run } from './vcl-harness.ts';

describe('VMOD filters', () => {
  it('adds a filter to the loading VCL and refuses a taken name or a filter with no side', async () => {
    const vcl = await load('import debug;\nimport tfilt;\nsub vcl_recv { set req.http.r = tfilt.refusals(); }\n');
    expect(vcl.filter('tfilt.up')?.delivery).toBeDefined();
    expect(vcl.filter('rot13')?.fetch).toBeDefined();
    expect(vcl.filter('debug.pedantic')?.fetch).toBeUndefined();
    expect(vcl.filter('gzip')).toBeUndefined();
    const t = clientTask();
    run(vcl, 'vcl_recv', t);
    expect(t.req!.get('r')).toBe(
      "filter 'tfilt.up' already exists | filter 'gzip' already exists | filter 'rot13' already exists | filter 'tfilt.none' has neither a fetch nor a delivery side",
    );
    vcl.discard();
  });

  it('keeps each VCL’s filters its own', async () => {
    const a = await load('import tfilt;\n');
    const b = await load('vcl 4.1;\nbackend default none;\n');
    expect(a.filter('tfilt.up')).toBeDefined();
    expect(b.filter('tfilt.up')).toBeUndefined();
    a.discard();
    b.discard();
  });
});
