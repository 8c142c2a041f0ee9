// The decisions of our builtin.vcl, compiled after a VCL that defines no subs of its own.

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { LoadedVcl } from '../../src/runtime/loaded-vcl.ts';
import type { VclTask } from '../../src/runtime/task.ts';
import { backendTask, clientTask, load, run, runSynth } from '../runtime/vcl-harness.ts';

let cached: LoadedVcl | undefined;
async function builtin(): Promise<LoadedVcl> {
  cached ??= await load('');
  return cached;
}

async function recv(init: Parameters<typeof clientTask>[0]) {
  const t = clientTask(init);
  return { action: run(await builtin(), 'vcl_recv', t), t };
}

describe('builtin vcl_recv', () => {
  it('lowercases the Host header', async () => {
    const { action, t } = await recv({ headers: [['Host', 'WWW.Example.COM']] });
    expect(action).toEqual({ action: 'hash' });
    expect(t.req?.get('host')).toBe('www.example.com');
  });

  it('answers 400 to an HTTP/1.1 request without Host, not to HTTP/1.0', async () => {
    expect((await recv({ headers: [] })).action).toEqual({ action: 'synth', status: 400, reason: 'Bad Request' });
    expect((await recv({ headers: [], proto: 'HTTP/1.0' })).action).toEqual({ action: 'hash' });
  });

  it('pipes unknown methods (Varnish 7.1) and refuses the HTTP/2 preface', async () => {
    expect((await recv({ method: 'FOO' })).action).toEqual({ action: 'pipe' });
    expect((await recv({ method: 'PRI' })).action).toEqual({ action: 'synth', status: 405, reason: 'Method Not Allowed' });
  });

  it('passes what is not GET or HEAD, and requests with Authorization or Cookie', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE']) {
      expect((await recv({ method })).action, method).toEqual({ action: 'pass' });
    }
    expect((await recv({ method: 'HEAD' })).action).toEqual({ action: 'hash' });
    expect((await recv({ headers: [['Host', 'h'], ['Authorization', 'Basic x']] })).action).toEqual({ action: 'pass' });
    expect((await recv({ headers: [['Host', 'h'], ['Cookie', 'a=b']] })).action).toEqual({ action: 'pass' });
  });
});

describe('builtin vcl_hash', () => {
  const digest = (t: VclTask) => Buffer.from(t.hashDigest()).toString('hex');
  const sha = (s: string) => createHash('sha256').update(s).digest('hex');

  it('hashes the URL and the Host', async () => {
    const t = clientTask({ url: '/p', headers: [['Host', 'example.com']] });
    expect(run(await builtin(), 'vcl_hash', t)).toEqual({ action: 'lookup' });
    expect(digest(t)).toBe(sha('/p\0example.com\0'));
  });

  it('hashes the server address when there is no Host', async () => {
    const t = clientTask({ url: '/p', headers: [], serverIp: '192.0.2.1:80' });
    run(await builtin(), 'vcl_hash', t);
    expect(digest(t)).toBe(sha('/p\x00192.0.2.1\x00'));
  });

  it('starts a new hash each time vcl_hash runs', async () => {
    const vcl = await builtin();
    const t = clientTask({ url: '/p' });
    run(vcl, 'vcl_hash', t);
    const first = digest(t);
    run(vcl, 'vcl_hash', t);
    expect(digest(t)).toBe(first);
  });
});

describe('builtin client subs', () => {
  it('answers a purge with 200 Purged', async () => {
    expect(run(await builtin(), 'vcl_purge', clientTask())).toEqual({ action: 'synth', status: 200, reason: 'Purged' });
  });

  it('goes on by default: pipe, fetch, deliver', async () => {
    const vcl = await builtin();
    expect(run(vcl, 'vcl_pipe', clientTask()).action).toBe('pipe');
    expect(run(vcl, 'vcl_pass', clientTask()).action).toBe('fetch');
    expect(run(vcl, 'vcl_miss', clientTask()).action).toBe('fetch');
    expect(run(vcl, 'vcl_hit', clientTask()).action).toBe('deliver');
    const t = clientTask();
    t.resp = t.req;
    expect(run(vcl, 'vcl_deliver', t).action).toBe('deliver');
  });

  it('renders synthetic responses as a small HTML page with Retry-After', async () => {
    const t = clientTask();
    expect(runSynth(await builtin(), t, 503, 'Service Unavailable')).toEqual({ action: 'deliver' });
    expect(t.resp?.get('content-type')).toBe('text/html; charset=utf-8');
    expect(t.resp?.get('retry-after')).toBe('5');
    expect(t.body).toContain('<title>503 Service Unavailable</title>');
    expect(t.body).toContain('Request 1001 could not be served.');
  });
});

describe('builtin backend subs', () => {
  it('drops the body of a GET, not of a POST', async () => {
    const vcl = await builtin();
    const get = backendTask();
    expect(run(vcl, 'vcl_backend_fetch', get).action).toBe('fetch');
    expect(get.bereqBodyUnset).toBe(true);
    const post = backendTask({ method: 'POST' });
    run(vcl, 'vcl_backend_fetch', post);
    expect(post.bereqBodyUnset).toBe(false);
  });

  const response = async (respHeaders: [string, string][], ttl = 120, uncacheable = false) => {
    const t = backendTask({ respHeaders });
    t.ttl = ttl;
    t.uncacheable = uncacheable;
    const action = run(await builtin(), 'vcl_backend_response', t);
    return { action, ttl: t.ttl, hitmiss: t.berespUncacheable };
  };

  it('caches a plain response as it is', async () => {
    expect(await response([['Cache-Control', 'max-age=120']])).toEqual({ action: { action: 'deliver' }, ttl: 120, hitmiss: false });
  });

  it('makes hit-for-miss objects for 120s on the rules of Varnish', async () => {
    const hfm = { action: { action: 'deliver' }, ttl: 120, hitmiss: true };
    expect(await response([], 0)).toEqual(hfm);
    expect(await response([['Set-Cookie', 'a=b']], 3600)).toEqual(hfm);
    expect(await response([['Surrogate-Control', 'No-Store']], 3600)).toEqual(hfm);
    expect(await response([['Cache-Control', 'private']], 3600)).toEqual(hfm);
    expect(await response([['Cache-Control', 'public, no-cache']], 3600)).toEqual(hfm);
    expect(await response([['Cache-Control', 'no-store']], 3600)).toEqual(hfm);
    expect(await response([['Vary', '*']], 3600)).toEqual(hfm);
    // Surrogate-Control wins over Cache-Control when present.
    expect(await response([['Surrogate-Control', 'max-age=60'], ['Cache-Control', 'private']], 3600)).toEqual({
      action: { action: 'deliver' },
      ttl: 3600,
      hitmiss: false,
    });
  });

  it('leaves a pass alone', async () => {
    expect(await response([['Set-Cookie', 'a=b']], 0, true)).toEqual({ action: { action: 'deliver' }, ttl: 0, hitmiss: false });
  });

  it('renders backend errors as a small HTML page with Retry-After', async () => {
    const t = backendTask({ status: 503 });
    t.beresp = t.beresp && Object.assign(t.beresp, { reason: 'Backend fetch failed' });
    expect(run(await builtin(), 'vcl_backend_error', t)).toEqual({ action: 'deliver' });
    expect(t.beresp?.get('retry-after')).toBe('5');
    expect(t.body).toContain('<title>503 Backend fetch failed</title>');
    expect(t.body).toContain('Backend fetch 1002 failed.');
  });
});
