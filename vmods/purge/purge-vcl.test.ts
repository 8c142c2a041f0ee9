// purge through compiled VCL: the manifest's defaults reach the implementation, the count
// comes back as an INT, and a call outside vcl_hit / vcl_miss fails the task at its line.

import { describe, expect, it } from 'vitest';
import type { PurgeOptions } from '../../src/vmod/api.ts';
import { DEFAULT_VMOD_PATH } from '../../src/vmod/registry.ts';
import { clientTask, load, run } from '../../test/runtime/vcl-harness.ts';

const VCL = `
import purge;

sub vcl_recv {
  if (req.method == "PURGE") { return (hash); }
}

sub vcl_hit {
  if (req.method == "PURGE") {
    set req.http.purged = purge.hard();
    return (synth(200));
  }
}

sub vcl_miss {
  if (req.method == "PURGE") {
    set req.http.purged = purge.soft(grace = 10s);
    return (synth(404));
  }
}

sub vcl_deliver {
  if (req.http.late) { set resp.http.purged = purge.hard(); }
}
`;

function purgingTask(purges: PurgeOptions[], headers: [string, string][] = []) {
  return clientTask({
    method: 'PURGE',
    headers: [['Host', 'example.com'], ...headers],
    services: {
      purge: (_task, options) => {
        purges.push(options);
        return 2;
      },
    },
  });
}

describe('purge in VCL', () => {
  it('purges hard from vcl_hit and soft from vcl_miss, with the manifest defaults', async () => {
    const vcl = await load(VCL, { vmodPath: DEFAULT_VMOD_PATH });
    const purges: PurgeOptions[] = [];
    const hit = purgingTask(purges);
    expect(run(vcl, 'vcl_hit', hit)).toMatchObject({ action: 'synth', status: 200 });
    expect(hit.req!.get('purged')).toBe('2');
    const miss = purgingTask(purges);
    expect(run(vcl, 'vcl_miss', miss)).toMatchObject({ action: 'synth', status: 404 });
    expect(purges).toEqual([{ soft: false }, { soft: true, ttl: 0, grace: 10 }]);
  });

  it('fails the task anywhere else, naming the VCL line', async () => {
    const vcl = await load(VCL, { vmodPath: DEFAULT_VMOD_PATH });
    const purges: PurgeOptions[] = [];
    const t = purgingTask(purges, [['late', '1']]);
    t.resp = t.req!.clone();
    expect(run(vcl, 'vcl_deliver', t)).toEqual({
      action: 'fail',
      message: 'purge can only happen in vcl_hit{} or vcl_miss{}',
      where: 'test:25:47',
    });
    expect(purges).toEqual([]);
  });
});
