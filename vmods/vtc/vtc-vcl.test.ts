// vmod vtc: a test case through Shellac (the same file passes on real varnishtest, see
// test/vtc/own-cases.varnish.ts) for barrier_sync, sleep, typesize, proxy_header, no_backend
// and an overflowed workspace; then the workspace stand-ins and the log helpers one by one.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VmodFailure } from '../../src/vmod/api.ts';
import { runVtcFiles } from '../../src/vtc/runner.ts';
import { TestContext } from '../../test/helpers/vmod-context.ts';
import * as vtc from './index.ts';

describe('vmod vtc in a test case', () => {
  it('syncs VCL with a barrier, formats PROXY headers, sizes C types, fails on no backend and on overflow', async () => {
    const s = await runVtcFiles([join(import.meta.dirname, '../../test/vtc/cases/vmod-vtc.vtc')], { timeout: 30 });
    expect([s.results[0].status, s.results[0].reason]).toEqual(['passed', undefined]);
  }, 60_000);
});

describe('workspace stand-ins', () => {
  it('start at the parameter, count allocations, snapshot and reset', () => {
    const ctx = new TestContext({ method: 'vcl_recv', params: { workspace_client: 4096 } });
    expect(vtc.workspace_free(ctx, 'client')).toBe(4096);
    vtc.workspace_alloc(ctx, 'client', 1000);
    expect(vtc.workspace_free(ctx, 'client')).toBe(3096);
    vtc.workspace_snapshot(ctx, 'client');
    vtc.workspace_alloc(ctx, 'client', -96);
    expect(vtc.workspace_free(ctx, 'client')).toBe(96);
    expect(vtc.workspace_reserve(ctx, 'client', 500)).toBe(96);
    expect(vtc.workspace_reserve(ctx, 'client', -40)).toBe(56);
    vtc.workspace_reset(ctx, 'client');
    expect(vtc.workspace_free(ctx, 'client')).toBe(3096);
    expect(vtc.workspace_dump(ctx, 'client', 'f', 0, 16)).toEqual(new Uint8Array(16));
    // Another task has its own.
    expect(vtc.workspace_free(new TestContext({ params: { workspace_client: 4096 } }), 'client')).toBe(4096);
  });

  it('fail the task when a client workspace overflows; a thread one is only marked', () => {
    const ctx = new TestContext({ method: 'vcl_recv', params: { workspace_client: 1024, workspace_thread: 2048 } });
    expect(() => vtc.workspace_alloc(ctx, 'client', 2000)).toThrow(VmodFailure);
    expect(vtc.workspace_overflowed(ctx, 'client')).toBe(true);
    vtc.workspace_overflow(ctx, 'thread');
    expect(vtc.workspace_overflowed(ctx, 'thread')).toBe(true);
    expect(() => vtc.workspace_reset(ctx, 'session')).toThrow(/no snapshot/);
    expect(() => vtc.workspace_dump(ctx, 'thread', 's', 0, 2000)).toThrow(/more than 1024/);
  });
});

describe('helpers with no Varnish internals to act on', () => {
  it('panic fails the task and logs the message; vsl and vsl_replay log lines on the task', () => {
    const ctx = new TestContext({ method: 'vcl_recv' });
    expect(() => vtc.panic(ctx, ['boom', ' now'])).toThrow(/vtc.panic: boom now/);
    vtc.vsl(ctx, 1001, 'Debug', 'c', ['hello']);
    vtc.vsl_replay(ctx, ['      1002 BereqURL       b /x\nnot a log line\n**** v1    vsl|       1003 ReqURL c /y']);
    expect(ctx.logs).toEqual(['PANIC: boom now', 'vsl: 1001 Debug c hello', 'vsl: 1002 BereqURL b /x', 'vsl: 1003 ReqURL c /y']);
    expect(() => vtc.vsl(ctx, 2 ** 30, 'Debug', 'c', ['x'])).toThrow(/out of bounds/);
    expect(() => vtc.vsl(ctx, 1, 'not a tag', 'c', ['x'])).toThrow(/bad tag/);
  });

  it('typesize lays out a C struct; no_ip, no_backend and no_stevedore give nothing', () => {
    const ctx = new TestContext({ method: 'vcl_recv' });
    expect([vtc.typesize(ctx, 'p'), vtc.typesize(ctx, 'ic'), vtc.typesize(ctx, 'si'), vtc.typesize(ctx, 'ipi'), vtc.typesize(ctx, 'dsf')]).toEqual([8, -1, 8, 24, 16]);
    expect([vtc.no_ip(ctx), vtc.no_backend(ctx), vtc.no_stevedore(ctx)]).toEqual([null, null, null]);
  });
});
