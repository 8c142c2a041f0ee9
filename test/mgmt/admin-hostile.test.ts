// Hostile bytes on the admin port (issue 10): whatever a peer sends, the admin server answers
// or closes that one connection, bounded in memory and time, and goes on serving others.
// Before authentication the bounds are tight: short lines, few commands ahead of answers, and
// a limited number of clients waiting to authenticate.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { AdminClient } from '../../src/mgmt/admin-client.ts';
import { RawCli, startAdmin, type TestAdmin } from './admin-helpers.ts';

let t: TestAdmin | undefined;
const open: RawCli[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await t?.admin.close();
  t = undefined;
});

async function raw(port: number): Promise<RawCli> {
  const c = await RawCli.open(port);
  open.push(c);
  return c;
}

/** The server still serves: a new client authenticates and gets PONG. */
async function stillServes(a: TestAdmin): Promise<void> {
  const c = await AdminClient.connect({ host: '127.0.0.1', port: a.port, secretFile: a.secretFile, timeoutMs: 5000 });
  const r = await c.command(['ping']);
  c.close();
  expect(r.status).toBe(200);
  expect(r.body).toMatch(/^PONG /);
}

/** Reads the 107 challenge and answers it. */
async function authenticate(c: RawCli, secretFile: string): Promise<void> {
  const hello = await c.reply();
  expect(hello.status).toBe(107);
  const challenge = hello.body.split('\n')[0];
  const h = createHash('sha256');
  h.update(`${challenge}\n`);
  h.update(readFileSync(secretFile));
  h.update(`${challenge}\n`);
  c.write(`auth ${h.digest('hex')}\n`);
  expect((await c.reply()).status).toBe(200);
}

describe('hostile bytes on the admin port', () => {
  it('closes an unauthenticated client that sends a line longer than 4 KiB', async () => {
    t = await startAdmin({ secret: 's3cret\n' });
    const c = await raw(t.port);
    expect((await c.reply()).status).toBe(107);
    c.write('x'.repeat(64 * 1024));
    const r = await c.reply();
    expect(r.status).toBe(400);
    expect(r.body).toContain('longer than 4096 bytes');
    await c.closed();
    await stillServes(t);
  });

  it('closes an unauthenticated client that sends many commands ahead of their answers', async () => {
    t = await startAdmin({ secret: 's3cret\n' });
    const c = await raw(t.port);
    expect((await c.reply()).status).toBe(107);
    c.write('ping\n'.repeat(50));
    // Whatever was answered first, the last thing said is the refusal, then the close.
    let last = await c.reply();
    while (last.status !== 400) last = await c.reply();
    expect(last.body).toContain('too many commands');
    await c.closed();
    await stillServes(t);
  });

  it('answers NUL, control and invalid UTF-8 bytes before auth with a refusal and a close', async () => {
    t = await startAdmin({ secret: 's3cret\n' });
    for (const bytes of [Buffer.from([0, 1, 2, 10]), Buffer.from([0xff, 0xfe, 0x80, 0x0a]), Buffer.from('auth \x00\x7f\n', 'latin1'), Buffer.from('"unclosed\n')]) {
      const c = await raw(t.port);
      expect((await c.reply()).status).toBe(107);
      c.socket.write(bytes);
      const r = await c.reply();
      expect(r.status).not.toBe(200);
      await c.closed();
    }
    await stillServes(t);
  });

  it('refuses clients past 64 waiting to authenticate, and takes new ones once they leave', async () => {
    t = await startAdmin({ secret: 's3cret\n' });
    const waiting: RawCli[] = [];
    for (let i = 0; i < 64; i++) {
      const c = await raw(t.port);
      expect((await c.reply()).status).toBe(107);
      waiting.push(c);
    }
    const extra = await raw(t.port);
    await extra.closed();
    expect(t.logLines.some((l) => String(l.msg).includes('too many waiting to authenticate'))).toBe(true);
    for (const c of waiting) c.close();
    for (let i = 0; i < 100 && t.admin.unauthed > 0; i++) await new Promise((r) => setTimeout(r, 20));
    await stillServes(t);
  });

  it('reads a long line full of `<<` after auth in linear time', async () => {
    t = await startAdmin({ secret: 's3cret\n' });
    const c = await raw(t.port);
    await authenticate(c, t.secretFile);
    const started = Date.now();
    // 2 MB of ` <<a` with no marker at the end: a backtracking pattern takes minutes here.
    c.write(`ping${' <<a'.repeat(500_000)} x y\n`);
    const r = await c.reply(20_000);
    expect(r.status).toBe(105);
    expect(Date.now() - started).toBeLessThan(10_000);
    c.write('ping\n');
    expect((await c.reply()).status).toBe(200);
  });

  it('survives a client that closes in the middle of a here document', async () => {
    t = await startAdmin({ secret: 's3cret\n' });
    const c = await raw(t.port);
    await authenticate(c, t.secretFile);
    c.write('vcl.inline x << END\nvcl 4.1;\n');
    c.close();
    await stillServes(t);
  });
});
