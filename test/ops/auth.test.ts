// Authentication against a running `shellac serve`: the challenge/response over the -S file,
// a wrong secret refused (by the client library and by `shellac adm`), and a rotated secret
// file accepted at the next auth because the server reads it again each time.

import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminClient, AdminError } from '../../src/mgmt/admin-client.ts';
import { adm, type Served, serve, writeIn } from './helpers.ts';

let s: Served;
beforeAll(async () => {
  s = await serve(['-b', '127.0.0.1:9']);
});
afterAll(async () => {
  expect(await s.stop()).toBe(0);
});

describe('admin authentication on a running server', () => {
  it('accepts the secret of the -S file', async () => {
    const c = await s.admin();
    expect((await c.command(['ping'])).body).toMatch(/^PONG \d+ 1\.0/);
    expect((await c.command(['status'])).body).toContain('running');
    c.close();
  });

  it('refuses a wrong secret, in the library and in shellac adm', async () => {
    const wrong = writeIn(s.dir, 'wrong', 'not the secret\n');
    const e = await AdminClient.connect({ host: '127.0.0.1', port: s.adminPort, secretFile: wrong, timeoutMs: 10_000 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdminError);
    expect((e as AdminError).code).toBe('EAUTH');
    const r = await adm({ adminPort: s.adminPort, secretFile: wrong }, 'ping');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(s.stderr()).toMatch(/auth/i);
  });

  it('takes a rotated secret at the next auth and refuses the old one', async () => {
    const old = writeIn(s.dir, 'old', 'the first secret\n');
    const before = await adm({ adminPort: s.adminPort, secretFile: old }, 'ping');
    expect(before.code).toBe(0);
    const kept = await s.admin();
    writeFileSync(s.secretFile, 'the rotated secret\n', { mode: 0o600 });
    const after = await adm({ adminPort: s.adminPort, secretFile: s.secretFile }, 'ping');
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/^PONG/);
    const stale = await adm({ adminPort: s.adminPort, secretFile: old }, 'ping');
    expect(stale.code).toBe(2);
    // A connection authenticated before the rotation stays usable.
    expect((await kept.command(['ping'])).status).toBe(200);
    kept.close();
  });
});
