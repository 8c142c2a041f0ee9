// What shellac adm, stat, log and ncsa share around their flags (src/mgmt/admin-target.ts):
// the target flags, stray words, --count, and a session that reports admin failures as status 2.
import { afterEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/common/args.ts';
import { AdminError } from '../../src/mgmt/admin-client.ts';
import { countFlag, parseTargetFlags, refuseRest, withAdminSession } from '../../src/mgmt/admin-target.ts';
import { startAdmin, type TestAdmin } from './admin-helpers.ts';

describe('admin target flags', () => {
  it('reads the target flags and the command own flags up to the first other word', () => {
    const { target, own, rest } = parseTargetFlags(['-T', 'h:1', '-t', '5', '-f', 'a', '-1', '-f', 'b', 'x', '-T'], new Set(['-f']), new Set(['-1']));
    expect(target).toEqual({ T: 'h:1', t: 5 });
    expect(own).toEqual(new Map([['-f', ['a', 'b']], ['-1', ['true']]]));
    expect(rest).toEqual(['x', '-T']);
  });

  it('refuses stray words, naming an option as unknown and a word as unexpected', () => {
    expect(() => refuseRest([])).not.toThrow();
    expect(() => refuseRest(['-x', 'y'])).toThrow(new UsageError('unknown option -x'));
    expect(() => refuseRest(['y'])).toThrow(new UsageError("unexpected argument 'y'"));
  });

  it('takes --count as a positive number, unbounded when absent', () => {
    expect(countFlag(new Map())).toBe(Number.POSITIVE_INFINITY);
    expect(countFlag(new Map([['--count', ['3']]]))).toBe(3);
    for (const bad of ['0', '-1', 'x']) {
      expect(() => countFlag(new Map([['--count', [bad]]]))).toThrow('--count needs a positive number');
    }
  });
});

describe('withAdminSession', () => {
  let admin: TestAdmin | undefined;
  afterEach(async () => {
    await admin?.admin.close();
    admin = undefined;
  });

  it('runs the session on an authenticated connection and returns its status', async () => {
    admin = await startAdmin({ secret: 'sesame\n' });
    const status = await withAdminSession({ T: `127.0.0.1:${admin.port}`, S: admin.secretFile }, async (client) => {
      const r = await client.send('ping');
      return r.status === 200 && r.body.startsWith('PONG') ? 7 : 1;
    });
    expect(status).toBe(7);
  });

  it('gives status 2 when it cannot connect or authenticate or the session fails so, and lets other errors through', async () => {
    admin = await startAdmin({ secret: 'sesame\n' });
    const { port } = admin;
    await admin.admin.close();
    admin = undefined;
    let ran = false;
    const session = async () => {
      ran = true;
      return 0;
    };
    expect(await withAdminSession({ T: `127.0.0.1:${port}` }, session)).toBe(2);
    admin = await startAdmin({ secret: 'sesame\n', authFailDelayMs: 0 });
    expect(await withAdminSession({ T: `127.0.0.1:${admin.port}` }, session)).toBe(2);
    expect(ran).toBe(false);
    const { secretFile } = admin;
    const gone = async () => {
      throw new AdminError('ECLOSED', 'connection closed');
    };
    expect(await withAdminSession({ T: `127.0.0.1:${admin.port}`, S: secretFile }, gone)).toBe(2);
    await expect(
      withAdminSession({ T: `127.0.0.1:${admin.port}`, S: secretFile }, async () => {
        throw new TypeError('not an admin failure');
      }),
    ).rejects.toThrow(TypeError);
  });
});
