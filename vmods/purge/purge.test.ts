import { describe, expect, it } from 'vitest';
import { VclHttp } from '../../src/runtime/http.ts';
import { VclTask } from '../../src/runtime/task.ts';
import type { PurgeOptions } from '../../src/vmod/api.ts';
import { VmodFailure } from '../../src/vmod/api.ts';
import type { SubName } from '../../src/vcl/spec.ts';
import { hard, soft } from './index.ts';

/** A client task in `method` whose cache records each purge and reports `hits` objects. */
function task(method: SubName, hits = 2) {
  const purges: PurgeOptions[] = [];
  const t = new VclTask('client', {
    purge: (_task, options) => {
      purges.push(options);
      return hits;
    },
  });
  t.method = method;
  t.req = VclHttp.request('PURGE', '/');
  return { t, purges };
}

describe('purge.hard', () => {
  it.each(['vcl_hit', 'vcl_miss'] as const)('purges from %s and returns how many objects it hit', (method) => {
    const { t, purges } = task(method, 3);
    expect(hard(t)).toBe(3);
    expect(purges).toEqual([{ soft: false }]);
  });

  it.each(['vcl_recv', 'vcl_deliver', 'vcl_backend_response', 'vcl_init'] as const)('fails the task in %s', (method) => {
    const { t, purges } = task(method);
    expect(() => hard(t)).toThrow(new VmodFailure('purge can only happen in vcl_hit{} or vcl_miss{}'));
    expect(purges).toEqual([]);
  });
});

describe('purge.soft', () => {
  it('sets the ttl and leaves grace and keep alone by default (ttl=0, grace=-1, keep=-1)', () => {
    const { t, purges } = task('vcl_hit');
    expect(soft(t, 0, -1, -1)).toBe(2);
    expect(purges).toEqual([{ soft: true, ttl: 0 }]);
  });

  it('passes the grace and keep that are zero or more', () => {
    const { t, purges } = task('vcl_miss');
    soft(t, 5, 10, -1);
    soft(t, 0, 0, 60);
    expect(purges).toEqual([
      { soft: true, ttl: 5, grace: 10 },
      { soft: true, ttl: 0, grace: 0, keep: 60 },
    ]);
  });

  it('is a hard purge when all three are zero', () => {
    const { t, purges } = task('vcl_hit');
    soft(t, 0, 0, 0);
    expect(purges).toEqual([{ soft: false }]);
  });

  it('fails the task outside vcl_hit and vcl_miss', () => {
    const { t } = task('vcl_pass');
    expect(() => soft(t, 0, -1, -1)).toThrow(VmodFailure);
  });
});
