// VclRegistry.switchTo, the reference move `return (vcl(label))` needs: the label's target is
// held while a switched request runs on it, even after the label points elsewhere and the
// target is discarded; the VCL the request left is released.

import { describe, expect, it } from 'vitest';
import { Params } from '../../src/common/params.ts';
import { Shellac } from '../../src/proxy/server.ts';

const VCL = 'vcl 4.1;\nbackend b none;\n';

describe('VclRegistry.switchTo', () => {
  it('moves the reference to the target, which then outlives its label and its discard', async () => {
    const srv = new Shellac({ params: new Params(), storageBytes: 1 << 20 });
    const vcls = srv.vcls;
    await vcls.load('front', { source: VCL });
    await vcls.load('t1', { source: VCL });
    await vcls.load('t2', { source: VCL });
    vcls.label('lab', 't1');
    const front = vcls.enter();
    expect(front?.name).toBe('front');
    expect(vcls.switchTo(front!, 'nolabel')).toBeNull();
    expect(front?.busy).toBe(1);
    const t1 = vcls.switchTo(front!, 'lab');
    expect(t1?.name).toBe('t1');
    expect(front?.busy).toBe(0);
    expect(t1?.busy).toBe(1);
    vcls.label('lab', 't2');
    vcls.discard('t1');
    expect(vcls.get('t1')).toBeUndefined();
    // Still running on t1: it is not discarded until the request leaves.
    expect(t1?.vcl.temperature).toBe('warm');
    vcls.leave(t1!);
    expect(t1?.vcl.temperature).toBe('discarded');
    srv.vcls.close();
  });
});
