// std's task-level functions with a test context that records what they ask of the runtime.
import { describe, expect, it } from 'vitest';
import { VclHttp } from '../../src/runtime/http.ts';
import { parseIp } from '../../src/common/ip.ts';
import { VmodFailure } from '../../src/vmod/api.ts';
import { TestBackend, TestContext } from '../../test/helpers/vmod-context.ts';
import {
  ban,
  ban_error,
  cache_req_body,
  healthy,
  late_100_continue,
  log,
  port,
  rollback,
  set_ip_tos,
  syntax,
  syslog,
  timestamp,
} from './task.ts';

describe('std logging', () => {
  it('logs strands, syslog lines and timestamps', () => {
    const ctx = new TestContext();
    log(ctx, ['a', null, 'b']);
    log(ctx, ['']);
    syslog(ctx, 9, ['something ', 'is wrong']);
    timestamp(ctx, 'stamp');
    timestamp(ctx, '');
    timestamp(ctx, null);
    expect(ctx.logs.slice(0, 3)).toEqual(['ab', '', 'syslog(9): something is wrong']);
    expect(ctx.logs).toHaveLength(4);
    expect(ctx.logs[3]).toMatch(/^Timestamp stamp: \d+\.\d{6}$/);
  });
});

describe('std.cache_req_body', () => {
  it('caches the body in vcl_recv when it is small enough', async () => {
    const body = new TextEncoder().encode('abc');
    const ctx = new TestContext({ body });
    expect(await cache_req_body(ctx, 2)).toBe(false);
    expect(await cache_req_body(ctx, 1024)).toBe(true);
    expect(ctx.reqBody).toBe(body);
  });

  it('refuses outside vcl_recv with Varnish log line', async () => {
    const ctx = new TestContext({ method: 'vcl_deliver', body: new Uint8Array(1) });
    expect(await cache_req_body(ctx, 1024)).toBe(false);
    expect(ctx.logs).toEqual(['req.body can only be cached in vcl_recv{}']);
    expect(ctx.reqBody).toBeNull();
  });
});

describe('std.late_100_continue, std.set_ip_tos, std.syntax', () => {
  it('checks where late_100_continue is called', () => {
    const recv = new TestContext();
    late_100_continue(recv, true);
    expect(recv.logs).toEqual([]);
    const deliver = new TestContext({ method: 'vcl_deliver' });
    late_100_continue(deliver, true);
    expect(deliver.logs).toEqual(['std.late_100_continue() only valid in vcl_recv{}']);
  });

  it('sets the TOS byte, logging when the platform cannot', () => {
    const ok = new TestContext();
    set_ip_tos(ok, 8);
    expect(ok.tosValues).toEqual([8]);
    expect(ok.logs).toEqual([]);
    const refused = new TestContext({ ipTos: false });
    set_ip_tos(refused, 8);
    expect(refused.logs).toEqual(['std.set_ip_tos(8): the TOS byte cannot be set here']);
  });

  it('compares the syntax version in tenths', () => {
    const ctx = new TestContext();
    expect(syntax(ctx, 4.0)).toBe(true);
    expect(syntax(ctx, 4.1)).toBe(true);
    expect(syntax(ctx, 4.2)).toBe(false);
    const old = Object.assign(new TestContext(), { syntax: 40 });
    expect(syntax(old, 4.1)).toBe(false);
    expect(syntax(old, 4.0)).toBe(true);
  });
});

describe('std.rollback', () => {
  it('rolls back req and bereq and nothing else', () => {
    const req = VclHttp.request('GET', '/');
    const bereq = VclHttp.request('GET', '/');
    const resp = VclHttp.response(200, 'OK');
    const ctx = new TestContext({ http: { req, bereq, resp } });
    rollback(ctx, req);
    rollback(ctx, bereq);
    expect(ctx.rollbacks).toEqual(['req', 'bereq']);
    expect(() => rollback(ctx, resp)).toThrow(new VmodFailure('std.rollback(): only req and bereq can be rolled back'));
  });
});

describe('std.ban and std.ban_error', () => {
  it('reports the last error of the task until a ban succeeds', () => {
    const ctx = new TestContext({ ban: (e) => (e.includes(' ~ ') ? null : 'Expected comparison operator.') });
    expect(ban_error(ctx)).toBe('');
    expect(ban(ctx, 'req.url ~ x')).toBe(true);
    expect(ban_error(ctx)).toBe('');
    expect(ban(ctx, 'req.url')).toBe(false);
    expect(ban_error(ctx)).toBe('Expected comparison operator.');
    expect(ban(ctx, 'obj.http.x ~ y')).toBe(true);
    expect(ban_error(ctx)).toBe('');
    expect(ban(ctx, null)).toBe(false);
    expect(ban_error(ctx)).toBe('Null argument');
    expect(ctx.bans).toEqual(['req.url ~ x', 'obj.http.x ~ y']);
    expect(ctx.logs).toEqual(['ban(): Expected comparison operator.', 'ban(): Null argument']);
  });

  it('keeps errors per task', () => {
    const a = new TestContext({ ban: 'No ban conditions found.' });
    const b = new TestContext();
    ban(a, '');
    expect(ban_error(a)).toBe('No ban conditions found.');
    expect(ban_error(b)).toBe('');
  });
});

describe('std.healthy and std.port', () => {
  it('asks the backend, and calls no backend sick', () => {
    const ctx = new TestContext();
    const be = new TestBackend('b1');
    expect(healthy(ctx, be)).toBe(true);
    be.sick = true;
    expect(healthy(ctx, be)).toBe(false);
    expect(healthy(ctx, null)).toBe(false);
  });

  it('gives the port of an address, 0 for none', () => {
    const ctx = new TestContext();
    expect(port(ctx, parseIp('1.2.3.4:8080'))).toBe(8080);
    expect(port(ctx, null)).toBe(0);
  });
});
