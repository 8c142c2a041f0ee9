// The directors through compiled VCL: the manifest, the binding of arguments (named ones,
// defaults, ENUMs, BLOBs from shard_param.use()) and the implementation together.

import { describe, expect, it } from 'vitest';
import type { MemoryBackend } from '../../src/runtime/backends.ts';
import type { LoadedVcl } from '../../src/runtime/loaded-vcl.ts';
import type { Director } from '../../src/vmod/api.ts';
import { DEFAULT_VMOD_PATH } from '../../src/vmod/registry.ts';
import { backendTask, clientTask, load as loadWith, run } from '../../test/runtime/vcl-harness.ts';

/** Loads VCL that imports the shipped VMODs. */
const load = (source: string) => loadWith(source, { vmodPath: DEFAULT_VMOD_PATH });

const VCL = `vcl 4.1;
import directors;

backend s1 { .host = "127.0.0.1"; .port = "8081"; }
backend s2 { .host = "127.0.0.1"; .port = "8082"; }
backend s3 { .host = "127.0.0.1"; .port = "8083"; }
backend s4 { .host = "127.0.0.1"; .port = "8084"; }

sub vcl_init {
  new rr = directors.round_robin();
  rr.add_backend(s1);
  rr.add_backend(s2);

  new fb = directors.fallback(sticky = true);
  fb.add_backend(s1);
  fb.add_backend(rr.backend());

  new h = directors.hash();
  h.add_backend(s1);
  h.add_backend(s2, 2.0);
  h.add_backend(s3);

  new sh = directors.shard();
  sh.add_backend(s1);
  sh.add_backend(s2);
  sh.add_backend(s3, weight = 2);
  sh.add_backend(s4, ident = "four");
  sh.reconfigure();

  new p = directors.shard_param();
  p.set(by = KEY, key = 1234);
  new shp = directors.shard();
  shp.add_backend(s1);
  shp.add_backend(s2);
  shp.add_backend(s3);
  shp.associate(p.use());

  new rd = directors.random();
  rd.add_backend(s3, 1.0);
  rd.add_backend(s4, 3.0);
}

sub vcl_recv {
  set req.http.hash = h.backend(req.url);
  set req.http.shard = sh.backend(by = URL);
  set req.http.alt = sh.backend(by = URL, alt = 1, healthy = ALL);
  set req.http.key = sh.key(req.url);
  set req.http.param = shp.backend();
  set req.http.lazy = sh.backend(resolve = LAZY);
  if (req.url == "/fallback") {
    set req.backend_hint = fb.backend();
  } else if (req.url == "/random") {
    set req.backend_hint = rd.backend();
  } else {
    set req.backend_hint = rr.backend();
  }
  return (pass);
}

sub vcl_backend_fetch {
  set bereq.backend = shp.backend(resolve = LAZY, alt = 1);
  set bereq.http.by = p.get_by();
  set bereq.http.key = p.get_key();
}
`;

function backend(vcl: LoadedVcl, name: string): MemoryBackend {
  return vcl.backends.get(name) as MemoryBackend;
}

describe('directors in VCL', () => {
  it('pick members as Varnish does, by hash and by shard', async () => {
    const vcl = await load(VCL);
    for (const [url, hash, shard, alt, key] of [
      ['/foo', 's2', 's3', 's4', '2499551155'],
      ['/', 's3', 's1', 's3', '4053860029'],
      ['/index.html', 's1', 's1', 's3', '896376860'],
    ]) {
      const t = clientTask({ url });
      expect(run(vcl, 'vcl_recv', t)).toEqual({ action: 'pass' });
      const h = t.req!;
      expect([h.get('hash'), h.get('shard'), h.get('alt'), h.get('key')]).toEqual([hash, shard, alt, key]);
      expect(h.get('lazy')).toBe('sh');
    }
  });

  it('hand a lazy director to the fetch, which resolves it in turn and around sick backends', async () => {
    const vcl = await load(VCL);
    const picks: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      const t = clientTask({ url: '/x' });
      run(vcl, 'vcl_recv', t);
      const hint = t.backendHint as Director;
      expect(hint.name).toBe('rr');
      picks.push(hint.resolve(t)?.name);
    }
    expect(picks).toEqual(['s1', 's2', 's1', 's2']);
    backend(vcl, 's1').sick = true;
    const t = clientTask({ url: '/fallback' });
    run(vcl, 'vcl_recv', t);
    const fb = t.backendHint as Director;
    expect(fb.name).toBe('fb');
    // s1 is sick: the fallback moves on to the round robin, which skips s1 too.
    expect([fb.resolve(t)?.name, fb.resolve(t)?.name]).toEqual(['s2', 's2']);
    backend(vcl, 's2').sick = true;
    expect(fb.healthy(t)).toBe(false);
    expect(fb.resolve(t)).toBeNull();
  });

  it('draw the random director among healthy members only', async () => {
    const vcl = await load(VCL);
    backend(vcl, 's4').sick = true;
    const t = clientTask({ url: '/random' });
    run(vcl, 'vcl_recv', t);
    const rd = t.backendHint as Director;
    for (let i = 0; i < 20; i++) expect(rd.resolve(t)?.name).toBe('s3');
  });

  it('take shard parameters from a shard_param, and from the backend task', async () => {
    const vcl = await load(VCL);
    const t = clientTask({ url: '/foo' });
    run(vcl, 'vcl_recv', t);
    const byKey = t.req!.get('param');
    const bt = backendTask({ url: '/foo' });
    expect(run(vcl, 'vcl_backend_fetch', bt)).toEqual({ action: 'fetch' });
    expect(bt.bereq!.get('by')).toBe('KEY');
    expect(bt.bereq!.get('key')).toBe('1234');
    const shp = bt.bereqBackend as Director;
    expect(shp.name).toBe('shp');
    // alt=1 from the fetch's call: the member after the one by=KEY 1234 gives.
    const chosen = shp.resolve(bt)?.name;
    expect(chosen).not.toBe(byKey);
    expect(['s1', 's2', 's3']).toContain(chosen);
  });
});
