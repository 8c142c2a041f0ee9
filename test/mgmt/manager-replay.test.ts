// What the manager replays into a new child: state, not history, in an order where each
// command finds what it needs (src/mgmt/manager-replay.ts).

import { describe, expect, it } from 'vitest';
import { ReplayLog } from '../../src/mgmt/manager-replay.ts';

function logOf(...cmds: string[][]): ReplayLog {
  const log = new ReplayLog();
  for (const c of cmds) log.record(c);
  return log;
}

describe('the replay log', () => {
  it('records only the commands that change a child, -j taken off', () => {
    expect(ReplayLog.records('vcl.load')).toBe(true);
    expect(ReplayLog.records('param.set')).toBe(true);
    for (const name of ['ban', 'vcl.list', 'backend.set_health', 'start', 'constructor']) expect(ReplayLog.records(name)).toBe(false);
    const log = logOf(['param.set', '-j', 'default_ttl', '5'], ['ban', 'req.url', '~', '.'], ['vcl.list']);
    expect(log.entries()).toEqual([['param.set', 'default_ttl', '5']]);
  });

  it('keeps the last value of a parameter and the last vcl.use', () => {
    const log = logOf(['param.set', 'default_ttl', '5'], ['vcl.use', 'a'], ['param.reset', 'default_ttl'], ['param.set', 'default_grace', '1'], ['vcl.use', 'b']);
    expect(log.entries()).toEqual([['param.reset', 'default_ttl'], ['param.set', 'default_grace', '1'], ['vcl.use', 'b']]);
    expect(log.lastUsed()).toBe('b');
  });

  it('sends parameters to the child as param.replay, which holds a VMOD parameter until its VMOD loads', () => {
    const log = logOf(['vcl.load', 'v1', '/x/v1.vcl'], ['param.set', 'tplat.mode', 'slow'], ['param.reset', 'default_ttl']);
    expect(log.forChild()).toEqual([['param.replay', 'tplat.mode', 'slow'], ['param.replay', 'default_ttl'], ['vcl.load', 'v1', '/x/v1.vcl']]);
    // Typed by an operator, it is recorded as a parameter change of its own, replacing the last.
    log.record(['param.replay', 'tplat.mode', 'fast']);
    expect(log.forChild().filter((e) => e[1] === 'tplat.mode')).toEqual([['param.replay', 'tplat.mode', 'fast']]);
  });

  it('replays parameters, loads, labels, states, the active VCL, then discards, whatever the order typed', () => {
    const log = logOf(
      ['vcl.load', 'v1', '/x/v1.vcl'],
      ['vcl.use', 'lab'],
      ['vcl.label', 'lab', 'v2'],
      ['vcl.inline', 'v2', 'vcl 4.1;'],
      ['vcl.discard', 'boot'],
      ['vcl.state', 'v1', 'cold'],
      ['param.set', 'vcc_err_unref', 'off'],
    );
    expect(log.entries().map((e) => e.slice(0, 2).join(' '))).toEqual([
      'param.set vcc_err_unref',
      'vcl.load v1',
      'vcl.inline v2',
      'vcl.label lab',
      'vcl.state v1',
      'vcl.use lab',
      'vcl.discard boot',
    ]);
  });

  it('forgets a VCL the log made once it is discarded, and a label moved or discarded', () => {
    const log = logOf(
      ['vcl.load', 'v1', '/x/v1.vcl'],
      ['vcl.state', 'v1', 'warm'],
      ['vcl.label', 'lab', 'v1'],
      ['vcl.label', 'lab', 'v2'],
      ['vcl.load', 'v2', '/x/v2.vcl'],
      ['vcl.use', 'v2'],
      ['vcl.discard', 'lab'],
      ['vcl.discard', 'v1'],
    );
    expect(log.entries()).toEqual([
      ['vcl.load', 'v2', '/x/v2.vcl'],
      ['vcl.use', 'v2'],
    ]);
  });

  it('keeps a compiled VCL the manager handed over as a load, and knows the labels made', () => {
    const log = logOf(
      ['vcl.load_compiled', 'v1', 'auto', '{"format":1}'],
      ['vcl.label', 'lab', 'v1'],
      ['vcl.load_compiled', 'v2', 'cold', '{"format":1}'],
      ['vcl.label', 'other', 'v2'],
      ['vcl.discard', 'other'],
    );
    expect(log.labels()).toEqual(['lab']);
    log.record(['vcl.discard', 'v2']);
    expect(log.entries()).toEqual([
      ['vcl.load_compiled', 'v1', 'auto', '{"format":1}'],
      ['vcl.label', 'lab', 'v1'],
    ]);
  });
});
